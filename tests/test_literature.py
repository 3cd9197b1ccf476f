"""The literature table (package data): each row sourced and quoted, none from a study kept aside
or already in the manifest; how a row becomes a simulated arm and population."""

import numpy as np
import pandas as pd
import pytest

from ketasim.clinical.scales import to_madrs
from ketasim.evidence.calibrate import ESKETAMINE_MODEL, FIT_FROM_H, MODEL_NAME
from ketasim.evidence.endpoints import literature_endpoints
from ketasim.evidence.literature import (
    design,
    load_literature,
    population_settings,
    remission_matches,
)
from ketasim.evidence.targets import KEPT_ASIDE, KEPT_ASIDE_CITATIONS, load_targets

COMPUTED = "value computed from the counts in the excerpt"


def test_every_row_is_sourced_quoted_and_not_kept_aside():
    table = load_literature()
    assert len(table) >= 50
    assert table["source_url"].str.startswith("http").all()
    assert (table["citation"] != "").all() and (table["excerpt"] != "").all()
    for _, row in table.iterrows():  # the number is in the quote, or computed from its counts
        assert row["value"].lstrip("-") in row["excerpt"] or COMPUTED in row["notes"], row
    assert not table["study"].str.lower().str.startswith(KEPT_ASIDE).any()
    assert not table["citation"].str.match(KEPT_ASIDE_CITATIONS).any()
    assert not set(table["study"]) & set(load_targets()["study"])


def _row(**fields) -> pd.Series:
    base = dict.fromkeys(load_literature().columns, "")
    base.update(drug="racemic ketamine", route="IV", dose="0.5", dose_unit="mg/kg",
                infusion_min="40", dose_days="0;2;4", background="stable antidepressant", n=10)
    return pd.Series(base | fields)


def test_design_builds_the_regimen_of_a_row():
    arm = design(_row())
    assert not isinstance(arm, str) and arm.model == MODEL_NAME
    doses = arm.regimen.doses
    assert [d.time_h for d in doses] == [0.0, 48.0, 96.0]
    assert all(d.route == "iv_infusion" and d.per_kg and d.amount == 0.5 for d in doses)
    assert np.isclose(doses[0].duration_h, 40 / 60)
    started = design(_row(background="new oral antidepressant started day 0"))
    assert not isinstance(started, str)
    assert {d.substance for d in started.regimen.doses} == {"racemic", "ssri"}
    spray = design(_row(drug="esketamine", route="intranasal", dose="56", dose_unit="mg",
                        infusion_min=""))
    assert not isinstance(spray, str) and spray.model == ESKETAMINE_MODEL
    placebo = design(_row(drug="saline", dose=""))
    assert not isinstance(placebo, str) and placebo.regimen.doses[0].amount is None
    assert design(_row(drug="ECT")).startswith("ECT is not modelled")
    assert "flexible" in design(_row(drug="esketamine", dose=""))
    assert "route" in design(_row(route="transdermal"))


def test_population_settings_link_the_baseline_to_madrs():
    own = population_settings(_row(baseline_scale="HAM-D17", baseline_mean="24",
                                   baseline_sd="4", age_mean="62", female_pct="30"))
    assert not isinstance(own, str)
    assert np.isclose(own["baseline_mean"], float(to_madrs(24.0, "hamd17")))
    slope = float(to_madrs(24.5, "hamd17") - to_madrs(23.5, "hamd17"))
    assert np.isclose(own["baseline_sd"], 4 * slope) and slope > 1
    assert own["age_mean"] == 62 and own["female_share"] == 0.3
    assert population_settings(_row(inclusion="MADRS >= 22")) == {"madrs_min": 22.0}
    assert "bipolar" in population_settings(_row(population="bipolar depression"))
    assert "adolescent" in population_settings(_row(population="adolescents 12-18 y"))
    assert population_settings(_row(inclusion="HAM-D > 20 (version not stated)")) == {}
    assert "IDS-C" in population_settings(_row(baseline_scale="IDS-C", baseline_mean="40",
                                               baseline_sd="8"))
    assert "age_mean" in population_settings(_row(age_mean="15"))  # outside the TRD cohort


@pytest.mark.parametrize(("definition", "scale", "matches"), [
    ("MADRS <= 10", "madrs", True), ("MADRS total score ≤10", "madrs", True),
    ("MADRS < 11", "madrs", True), ("MADRS <= 12", "madrs", False),
    ("HAM-D17 <= 7", "hamd17", True), ("not in abstract", "madrs", False)])
def test_remission_definitions(definition, scale, matches):
    assert remission_matches(_row(definition=definition), scale) is matches


def test_every_row_is_simulated_or_says_why():
    table = load_literature()
    endpoints, skipped = literature_endpoints()
    assert len(endpoints) >= 10
    assert sorted([i for e in endpoints for i in e.target.rows] + [i for i, _, _ in skipped]) \
        == list(range(len(table)))
    assert all(why for _, _, why in skipped)
    for e in endpoints:
        assert e.target.fitted == (e.target.time_h >= FIT_FROM_H) and e.citation
        assert e.source == "literature"
        assert e.target.n == table.loc[e.target.rows[0], "n"] > 0
