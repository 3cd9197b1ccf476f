"""Property: any scenario document gives a simulated result or a clean ScenarioError."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from test_scenario_fuzz import documents

from ketasim.errors import ScenarioError
from ketasim.scenario.files import parse_scenario
from ketasim.simulation.runner import run_scenario

pytestmark = pytest.mark.slow  # property-based: many generated scenarios simulated


@settings(max_examples=150, deadline=None, derandomize=True)
@given(documents())
def test_document_simulates_or_raises_one_line(doc):
    try:
        scenario = parse_scenario(doc, "fuzz.toml")
    except ScenarioError as error:
        assert "\n" not in str(error)
        event("rejected")
        return
    # a few subjects and a bounded grid keep the property cheap; the checks are the same
    assume(scenario.output.times().size <= 5000)
    small = replace(scenario, population=replace(scenario.population,
                                                 n=min(scenario.population.n, 3)))
    event("simulated")
    for arm in run_scenario(small):
        conc = arm.data["ketamine_plasma_ng_ml"].to_numpy()
        assert np.isfinite(conc).all() and (conc >= -1e-9 * max(1.0, conc.max())).all()
