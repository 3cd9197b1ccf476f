"""The ``summary.json`` contract: per arm, exposure of every analyte and warnings.

Layers that are not modelled yet (endpoints, relapse, safety) are absent, never zero.
"""

from __future__ import annotations

import numpy as np

from ketasim import __version__
from ketasim.models import get_model
from ketasim.nca import auc, cmax_tmax
from ketasim.runner import ArmResult
from ketasim.scenario import Scenario

_PLASMA = "_plasma_ng_ml"


def _spread(values: np.ndarray) -> dict[str, float]:
    p5, median, p95 = np.percentile(values, [5, 50, 95])
    return {"median": float(median), "p5": float(p5), "p95": float(p95)}


def pk_block(arm: ArmResult) -> dict[str, dict[str, dict[str, float]]]:
    """Cmax (ng/mL), Tmax (h) and AUC over the output window (ng*h/mL) of each analyte."""
    time = arm.data["time"].to_numpy()
    block = {}
    for name in arm.data.data_vars:
        if name.endswith(_PLASMA):
            conc = arm.data[name].to_numpy()
            cmax, tmax = cmax_tmax(conc, time)
            block[name.removesuffix(_PLASMA)] = {
                "cmax_ng_ml": _spread(cmax), "tmax_h": _spread(tmax),
                "auc_ng_h_ml": _spread(auc(conc, time))}
    return block


def summary(scenario: Scenario, arms: list[ArmResult]) -> dict:
    """The summary document of a run (see the README for every key)."""
    model = get_model(scenario.model)
    assumptions = [note for p in model.parameters for note in p.assumptions]
    return {
        "ketasim_version": __version__, "scenario": scenario.name, "model": model.name,
        "seed": scenario.population.seed, "n": scenario.population.n,
        "cohort": scenario.population.cohort,
        "auc_window_h": [float(arms[0].data["time"][0]), float(arms[0].data["time"][-1])],
        "assumptions": assumptions,
        "arms": [{"label": a.label, "pk": pk_block(a), "warnings": list(a.warnings)}
                 for a in arms],
    }
