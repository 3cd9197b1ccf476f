"""The ``summary.json`` contract: per arm, exposure of every analyte and warnings.

Layers that are not modelled yet (endpoints, relapse, safety) are absent, never zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from ketasim import __version__
from ketasim.analysis.statistics import spread
from ketasim.scenario.definition import Scenario
from ketasim.simulation.runner import ArmResult


def pk_block(arm: ArmResult) -> dict[str, dict[str, dict[str, float]]]:
    """Median and 5th-95th percentiles over subjects of each analyte's exposure metrics; a
    metric no subject has (e.g. a half-life when the output ends too early) is left out."""
    block = {}
    for analyte, metrics in arm.exposure.items():
        spreads = {metric: spread(values) for metric, values in metrics.items()}
        block[analyte] = {metric: s for metric, s in spreads.items() if s is not None}
    return block


def summary(scenario: Scenario, arms: list[ArmResult], notes: Sequence[str] = ()) -> dict:
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
        "criteria": {"response_fraction": scenario.criteria.response_fraction,
                     "remission_max": scenario.criteria.remission_max},
        "auc_window_h": [float(arms[0].data["time"][0]), float(arms[0].data["time"][-1])],
        "assumptions": assumptions, "notes": list(notes),
        "arms": [{"label": a.label, "last_dose_h": a.last_dose_h, "pk": pk_block(a),
                  **(a.outcomes.to_json() if a.outcomes else {}),
                  **({"safety": a.safety.to_json()} if a.safety else {}),
                  "warnings": list(a.warnings)} for a in arms],
    }


#: Visits of the short outcome table of a whole-chain run (h): 24 h, day 7, day 28.
OUTCOME_VISITS_H = (24.0, 168.0, 672.0)


def outcome_rows(doc: dict) -> list[dict]:
    """The short outcome table of a summary document: per arm and visit of
    :data:`OUTCOME_VISITS_H` the run reports, MADRS change (points), response and remission
    (%), and on each arm's first row its mean peak CADSS and SBP rise; empty for PK only."""
    rows = []
    for arm in doc["arms"]:
        visits = [e for e in arm.get("endpoints", ()) if e["scale"] == "MADRS"
                  and any(abs(e["timepoint_h"] - t) < 1e-6 for t in OUTCOME_VISITS_H)]
        safety = arm.get("safety") or {}
        for k, e in enumerate(visits):
            h = e["timepoint_h"]
            first = k == 0 and bool(safety)
            rows.append({
                "arm": arm["label"], "visit": f"{h:g} h" if h < 48 else f"day {h / 24:g}",
                "MADRS change (points)": round(e["mean_change"], 1),
                "response (%)": round(100 * e["response_rate"]),
                "remission (%)": round(100 * e["remission_rate"]),
                "peak CADSS (points)": round(safety["cadss_peak_mean"], 1) if first else None,
                "peak SBP rise (mmHg)": round(safety["sbp_rise_peak_mean_mmhg"], 1) if first
                else None})
    return rows
