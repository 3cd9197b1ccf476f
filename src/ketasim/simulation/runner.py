"""Run a scenario: every arm through the engine, chunk by chunk, with its warnings.

Large populations stream: each chunk of subjects goes to an optional sink (e.g. the Parquet
writer) and into the per-subject exposure metrics; only the first :data:`KEEP_SUBJECTS`
subjects' time courses stay in memory (for bands and figures).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ketasim.analysis.nca import exposures
from ketasim.clinical.visits import SEVERITY, Visits, visit_times
from ketasim.dosing import KETAMINE, Regimen
from ketasim.population.cohorts import ATTRIBUTES
from ketasim.scenario.definition import Scenario
from ketasim.simulation.engine import iter_simulate

#: Highest single dose by route in the anaesthetic range (mg/kg); larger doses are simulated but
#: flagged. Source: Ketalar (ketamine hydrochloride) US prescribing information, dosage: IV
#: induction 1-4.5 mg/kg, IM induction 6.5-13 mg/kg.
ANAESTHETIC_MAX_MG_PER_KG = {"iv_bolus": 4.5, "iv_infusion": 4.5, "im": 13.0}
#: Subjects whose whole time courses are kept per arm; percentile bands come from them.
KEEP_SUBJECTS = 20_000
#: More ketamine doses than this in any 7 days is flagged for abuse and dependence risk.
#: Assumption: the most frequent regimens studied give 3 a week (six infusions over two weeks,
#: Murrough 2013; esketamine induction twice a week, Spravato label); ketamine's abuse
#: liability is why its use is supervised (Spravato REMS). No threshold is published.
MAX_DOSES_PER_WEEK = 3
#: Patient attributes that speak against ketamine: the wording and the label that says so.
CONTRAINDICATIONS = {
    "psychosis": ("a history of psychosis", "relative: ketamine labels advise caution in severe "
                  "psychiatric illness, also past (e.g. Ketamin-hameln, Germany); "
                  "hallucinations on emergence, Ketalar label"),
    "substance_use": ("a substance use disorder", "relative: abuse and misuse, Spravato label "
                      "5.4; drug abuse and dependence, Ketalar label"),
    "hypertension": ("uncontrolled hypertension", "Ketalar SmPC 4.3: contraindicated where a "
                     "rise in blood pressure is a serious hazard; blood pressure increase, "
                     "Spravato label"),
}
#: summary.json safety keys: the mean over subjects of each subject's peak of an output.
SAFETY = {"cadss_peak_mean": "cadss", "sbp_rise_peak_mean_mmhg": "sbp_rise_mmhg",
          "dbp_rise_peak_mean_mmhg": "dbp_rise_mmhg"}

Sink = Callable[[str, xr.Dataset], None]


@dataclass(frozen=True)
class ArmResult:
    """One arm: its exposure per subject, the kept time courses and its warnings.

    ``exposure[analyte][metric]`` holds one value per subject of the whole population;
    ``data`` holds the first ``min(n, KEEP_SUBJECTS)`` subjects (all of them when n is small).
    """

    label: str
    regimen: Regimen
    n: int
    data: xr.Dataset
    exposure: dict[str, dict[str, np.ndarray]]
    warnings: tuple[str, ...]
    clinic: dict | None = None


def run_scenario(scenario: Scenario, progress: Callable[[int], None] | None = None,
                 sink: Sink | None = None) -> list[ArmResult]:
    """Simulate every arm of ``scenario`` on the same virtual patients (same seed).

    ``progress`` gets the number of subjects done in the current arm; ``sink(label, chunk)``
    gets every chunk of simulated subjects. A model with ``depression_severity`` is also rated
    at clinic visits (:mod:`ketasim.clinical.visits`).
    """
    model = scenario.resolved_model()
    times = scenario.output.times()
    out = scenario.output
    results = []
    for arm in scenario.arms:
        kept, parts = [], []
        peaks: dict[str, list[np.ndarray]] = {k: [] for k, o in SAFETY.items()
                                              if o in model.outputs}
        outside = dict.fromkeys(model.valid, 0)
        affected = dict.fromkeys(CONTRAINDICATIONS, 0)
        visits = Visits(visit_times(arm.regimen, out.timepoints_h, out.end_h)) \
            if SEVERITY in model.outputs else None
        grid = times if visits is None else np.union1d(times, visits.times)
        for full in iter_simulate(model, arm.regimen, scenario.population, grid,
                                  progress=progress):
            chunk = full if visits is None else full.sel(time=times)
            if visits:
                visits.add(full)
            if sink:
                sink(arm.label, chunk)
            parts.append(exposures(chunk))
            for key in peaks:
                peaks[key].append(full[SAFETY[key]].max(dim="time").to_numpy())
            for name in affected:
                affected[name] += int(full[name].sum())
            for name, (lo, hi) in model.valid.items():
                values = chunk[name].to_numpy()
                outside[name] += int(((values < lo) | (values > hi)).sum())
            room = KEEP_SUBJECTS - sum(c.sizes["subject"] for c in kept)
            if room > 0:
                kept.append(chunk.isel(subject=slice(0, room)))
        exposure = {a: {m: np.concatenate([p[a][m] for p in parts]) for m in parts[0][a]}
                    for a in parts[0]}
        data = kept[0] if len(kept) == 1 else xr.concat(kept, dim="subject")
        notes = dose_warnings(arm.regimen, data["weight_kg"].to_numpy(), scenario.population.n)
        notes += tuple(f"population.{name} is set but model {model.name} does not use it "
                       "(no data for its effect); ignored"
                       for name in scenario.population.fixed
                       if name not in (*model.covariate_names, *model.valid, "weight_kg",
                                       *ATTRIBUTES))
        notes += tuple(f"{count} of {scenario.population.n} subjects have {name} outside "
                       f"{model.valid[name][0]:g}-{model.valid[name][1]:g}, the population "
                       f"model {model.name} was built on; simulated anyway"
                       for name, count in outside.items() if count)
        notes += contraindication_warnings(arm.regimen, affected, scenario.population.n)
        criteria = scenario.criteria
        clinic = visits.summary(arm.regimen, out.timepoints_h, scenario.population.seed,
                                scenario.population.cohort, criteria.response_fraction,
                                criteria.remission_max) if visits else {}
        if peaks:
            clinic["safety"] = {k: float(np.concatenate(v).mean()) for k, v in peaks.items()}
        results.append(ArmResult(arm.label, arm.regimen, scenario.population.n, data, exposure,
                                 notes, clinic))
    return results


def dose_warnings(regimen: Regimen, weight_kg: np.ndarray, n: int) -> tuple[str, ...]:
    """Flags for ketamine doses above the anaesthetic range, per dose, with the share of
    subjects (counted among ``weight_kg``, the kept subjects, of ``n``); for more than
    :data:`MAX_DOSES_PER_WEEK` ketamine doses in 7 days; for midazolam's unused amount."""
    notes = []
    for k, dose in enumerate(regimen.doses):
        limit = ANAESTHETIC_MAX_MG_PER_KG.get(dose.route)
        if limit is None or dose.substance not in KETAMINE:
            continue
        per_kg = dose.amount_mg(weight_kg) / weight_kg
        above = int((per_kg > limit).sum())
        if above:
            share = f"{above} of {n}" if weight_kg.size == n else \
                f"{above / weight_kg.size:.1%} of {weight_kg.size} checked"
            notes.append(f"dose {k + 1} ({dose.route}, {dose.substance}, up to "
                         f"{per_kg.max():.3g} mg/kg) is above the anaesthetic range "
                         f"(> {limit} mg/kg, Ketalar label) in {share} subjects; "
                         "simulated anyway")
    if any(d.substance == "midazolam" for d in regimen.doses):
        notes.append("midazolam is modelled as an active placebo (expectancy of a felt "
                     "session, docs/models/mechanism.md): its amount changes nothing")
    times = np.array(sorted(d.time_h for d in regimen.doses if d.substance in KETAMINE))
    in_week = np.searchsorted(times, times + 168.0, side="left") - np.arange(times.size)
    if times.size and in_week.max() > MAX_DOSES_PER_WEEK:
        notes.append(f"{int(in_week.max())} ketamine doses within 7 days: more frequent than any "
                     f"studied regimen (at most {MAX_DOSES_PER_WEEK} a week); ketamine carries "
                     "a risk of abuse and dependence (supervised use, Spravato REMS)")
    return tuple(notes)


def contraindication_warnings(regimen: Regimen, affected: dict[str, int], n: int
                              ) -> tuple[str, ...]:
    """For a regimen with ketamine, one flag per condition of :data:`CONTRAINDICATIONS` that
    ``affected[condition]`` of the ``n`` subjects have (none when nobody has it)."""
    if not any(d.substance in KETAMINE for d in regimen.doses):
        return ()
    return tuple(f"{affected[name]} of {n} subjects have {what}, a contraindication to "
                 f"ketamine ({source}); exclude them with population.exclude"
                 for name, (what, source) in CONTRAINDICATIONS.items() if affected[name])
