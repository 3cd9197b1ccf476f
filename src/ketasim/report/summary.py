"""The ``summary.json`` contract: per arm, exposure of every analyte and warnings.

Layers that are not modelled yet (endpoints, relapse, safety) are absent, never zero.
"""

from __future__ import annotations

import numpy as np

from ketasim import __version__
from ketasim.scenario.definition import Scenario
from ketasim.simulation.runner import ArmResult


def _spread(values: np.ndarray) -> dict[str, float] | None:
    """Median and 5th-95th percentiles over the subjects with a value; with ``n`` when some
    have none (e.g. a half-life needs 3 samples after Cmax); None when no subject has one."""
    known = values[np.isfinite(values)]
    if known.size == 0:
        return None
    p5, median, p95 = np.percentile(known, [5, 50, 95])
    spread = {"median": float(median), "p5": float(p5), "p95": float(p95)}
    return spread if known.size == values.size else spread | {"n": int(known.size)}


def pk_block(arm: ArmResult) -> dict[str, dict[str, dict[str, float]]]:
    """Median and 5th-95th percentiles over subjects of each analyte's exposure metrics; a
    metric no subject has (e.g. a half-life when the output ends too early) is left out."""
    block = {}
    for analyte, metrics in arm.exposure.items():
        spreads = {metric: _spread(values) for metric, values in metrics.items()}
        block[analyte] = {metric: s for metric, s in spreads.items() if s is not None}
    return block


def summary(scenario: Scenario, arms: list[ArmResult], notes: list[str] = ()) -> dict:
    """The summary document of a run (see the README for every key)."""
    model = scenario.resolved_model()
    assumptions = [note for p in model.parameters for note in p.assumptions]
    if any("calibrated later" in p.description for p in model.parameters):
        notes = [*notes, "the mood gains are calibrated to single-infusion, comparator and "
                 "antidepressant arms only; most mechanism constants are assumptions and "
                 "courses, relapse and other indications are not calibrated "
                 "(docs/validation/calibration.md): read those as the model's shape, not as "
                 "predictions"]
    return {
        "ketasim_version": __version__, "scenario": scenario.name, "model": model.name,
        "seed": scenario.population.seed, "n": scenario.population.n,
        "cohort": scenario.population.cohort,
        "auc_window_h": [float(arms[0].data["time"][0]), float(arms[0].data["time"][-1])],
        "assumptions": assumptions, "notes": list(notes),
        "arms": [{"label": a.label, "pk": pk_block(a), **(a.clinic or {}),
                  "warnings": list(a.warnings)} for a in arms],
    }
