"""The ``summary.json`` contract: per arm, exposure of every analyte and warnings.

Layers that are not modelled yet (endpoints, relapse, safety) are absent, never zero.
"""

from __future__ import annotations

import numpy as np

from ketasim import __version__
from ketasim.models import get_model
from ketasim.runner import ArmResult
from ketasim.scenario import Scenario


def _spread(values: np.ndarray) -> dict[str, float]:
    p5, median, p95 = np.percentile(values, [5, 50, 95])
    return {"median": float(median), "p5": float(p5), "p95": float(p95)}


def pk_block(arm: ArmResult) -> dict[str, dict[str, dict[str, float]]]:
    """Median and 5th-95th percentiles over subjects of each analyte's exposure metrics."""
    return {analyte: {metric: _spread(values) for metric, values in metrics.items()}
            for analyte, metrics in arm.exposure.items()}


def summary(scenario: Scenario, arms: list[ArmResult], notes: list[str] = ()) -> dict:
    """The summary document of a run (see the README for every key)."""
    model = get_model(scenario.model)
    assumptions = [note for p in model.parameters for note in p.assumptions]
    return {
        "ketasim_version": __version__, "scenario": scenario.name, "model": model.name,
        "seed": scenario.population.seed, "n": scenario.population.n,
        "cohort": scenario.population.cohort,
        "auc_window_h": [float(arms[0].data["time"][0]), float(arms[0].data["time"][-1])],
        "assumptions": assumptions, "notes": list(notes),
        "arms": [{"label": a.label, "pk": pk_block(a), "warnings": list(a.warnings)}
                 for a in arms],
    }
