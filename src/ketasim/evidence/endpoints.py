"""Published endpoints and how ketasim simulates them.

An :class:`Endpoint` is one published statistic (a :class:`~ketasim.evidence.calibrate.Target`:
observed value, n, kind, time) with the arm that is simulated for it, its trial's population and
its rating scale. :func:`select_endpoints` takes them from the manifest (the calibration's
targets, then the scenarios of :data:`EXTRA_ROWS`: courses, esketamine, oral ketamine, never
fitted), :func:`literature_endpoints` from the literature table
(:mod:`ketasim.evidence.literature`; fitted from :data:`~ketasim.evidence.calibrate.FIT_FROM_H`
on); every other row is listed with the reason it is not simulated.

:func:`statistic` computes an endpoint's statistic in groups of rated patients and
:class:`Simulator` the value of every endpoint at given parameter values (the calibration's
model of the data, :mod:`ketasim.evidence.posterior`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from ketasim.clinical.endpoints import (
    REMISSION_MAX,
    RESPONSE_FRACTION,
    kaplan_meier_median,
    relapse_times,
    responding,
    time_columns,
)
from ketasim.clinical.scales import SCALE_NAMES, get_scale
from ketasim.clinical.visits import Ratings
from ketasim.dosing import Dose, Regimen
from ketasim.evidence.calibrate import (
    _CONTRAST,
    _MEAN_SIGN,
    ARMS,
    ASSUMED_SD_CHANGE,
    ESKETAMINE_MODEL,
    FIT_FROM_H,
    NOT_FITTED_STUDIES,
    EvidenceArm,
    Target,
    infusions,
    population_key,
    rate,
    select_targets,
    sprays,
    trial_baselines,
)
from ketasim.evidence.likelihood import Row
from ketasim.evidence.literature import SCALES as LITERATURE_SCALES
from ketasim.evidence.literature import (
    design,
    load_literature,
    population_settings,
    remission_matches,
)
from ketasim.evidence.targets import load_targets

#: Murrough 2013 Biol Psychiatry followed responders up to 83 days after the last infusion
#: (clinical/endpoints.py's relapse definition).
MURROUGH_FOLLOW_UP_D = 83.0
#: Murrough 2013 Biol Psychiatry: up to six infusions three times a week over 12 days (days of
#: the infusions: Mon/Wed/Fri, as in claims.py and tests/test_course.py).
MURROUGH_DAYS = (0, 2, 4, 7, 9, 11)
#: Domany 2019: doses thrice weekly for 21 days (days from the first; assumption: Mon/Wed/Fri).
DOMANY_DAYS = (0, 2, 4, 7, 9, 11, 14, 16, 18)



def _esketamine(mg: float) -> EvidenceArm:
    """TRANSFORM-1 (Fedgchin 2019) and ASPIRE (Ionescu 2021): the comparator arm's new oral
    antidepressant and spray sessions, the sprays holding ``mg`` esketamine (assumption: the
    full dose at every session, no 56-mg start)."""
    return EvidenceArm(sprays("esketamine", mg), model=ESKETAMINE_MODEL)


#: The arms of the extra rows, as :data:`~ketasim.evidence.calibrate.ARMS`.
EXTRA_ARMS: dict[str, EvidenceArm] = {
    "ketamine x6, 3/week": EvidenceArm(infusions("racemic", 0.5, MURROUGH_DAYS)),
    # Anand 2023 (ELEKT-D): twice weekly for 3 weeks (assumption: Mon/Thu)
    "ketamine x6, 2/week": EvidenceArm(infusions("racemic", 0.5, (0, 3, 7, 10, 14, 17))),
    "esketamine 56 mg + new AD": _esketamine(56.0),
    "esketamine 84 mg + new AD": _esketamine(84.0),
    # Domany 2019 Br J Psychiatry: oral ketamine 1 mg/kg or oral placebo thrice weekly for
    # 21 days (assumption: Mon/Wed/Fri from day 0, nine doses)
    "oral ketamine x9": EvidenceArm(Regimen.repeated(
        Dose("racemic", "oral", 1.0, per_kg=True), [24.0 * d for d in DOMANY_DAYS])),
    "oral placebo x9": EvidenceArm(Regimen.repeated(
        Dose("placebo", "oral", None), [24.0 * d for d in DOMANY_DAYS])),
}


class Extra(NamedTuple):
    """How a manifest row is simulated: arm of :data:`EXTRA_ARMS` (or of ``ARMS``), statistic
    kind, scale, time (h; None: the row's), and for ``sensitivity`` the time of the response
    being predicted (h)."""

    arm: str
    kind: str
    scale: str = "madrs"
    time_h: float | None = None
    reference_h: float | None = None


#: Manifest rows outside the calibration that are simulated, by (study, arm, statistic,
#: timepoint_h) as in the manifest. ASPIRE (active suicidal ideation, baseline MADRS 39.5-39.9)
#: is compared as a fraction of its own baseline (the model's severity is a fraction of each
#: patient's baseline; the TRD cohort's mean is 31.9).
EXTRA_ROWS: dict[tuple[str, str, str, str], Extra] = {
    ("murrough2013_biolpsych", "ketamine x up to 6", "response_pct", "288"):
        Extra("ketamine x6, 3/week", "response"),
    ("murrough2013_biolpsych", "ketamine x6 responders", "median_time_to_relapse_days", ""):
        Extra("ketamine x6, 3/week", "relapse_days",
              time_h=24 * (MURROUGH_DAYS[-1] + MURROUGH_FOLLOW_UP_D)),
    # sensitivity for response at the end of the course, 24 h after the last infusion
    ("murrough2013_biolpsych", "ketamine x6", "sensitivity_pct", "4"):
        Extra("ketamine x6, 3/week", "sensitivity", reference_h=24 * (MURROUGH_DAYS[-1] + 1.0)),
    ("anand2023_elektd", "ketamine", "response_pct", "504"):
        Extra("ketamine x6, 2/week", "response", "qids_sr16"),
    ("transform1", "esketamine 56 mg + new AD", "response_pct", "672"):
        Extra("esketamine 56 mg + new AD", "response"),
    ("transform1", "esketamine 84 mg + new AD", "response_pct", "672"):
        Extra("esketamine 84 mg + new AD", "response"),
    ("aspire2", "esketamine 84 mg", "mean_change_from_baseline", "24"):
        Extra("esketamine 84 mg + new AD", "relative_change"),
    ("aspire2", "placebo + SOC", "mean_change_from_baseline", "24"):
        Extra("new AD + placebo spray", "relative_change"),
    ("domany2019_oral", "oral ketamine", "mean_decrease_from_baseline", "504"):
        Extra("oral ketamine x9", "change"),
    ("domany2019_oral", "oral placebo", "mean_decrease_from_baseline", "504"):
        Extra("oral placebo x9", "change"),
}

#: Why rows of these studies are not simulated (the rest follow from their statistic).
_STUDY_REASONS = {
    "anand2023_elektd": "ECT is not modelled",
    "transform3": "patients >= 65 y on flexible doses",
    "transform_by_sex": "sex subgroups of pooled 56/84-mg arms",
    "esk_japan_phase2b": "Japanese patients on 28 mg",
    "ibrahim2012_single": "the riluzole trial's responder and relapse definitions are not in "
                          "the manifest",
}
_SAFETY = ("incidence_pct", "max_mean_increase", "mean_increase_from_predose")
_NUMBER = re.compile(r"[\d.]+")


@dataclass(frozen=True)
class Endpoint:
    """A published statistic and how to simulate it: ``target`` (observed value, n, arm, kind;
    kinds beyond the calibration's: ``relapse_days``, the Kaplan-Meier median days to relapse
    among responders, and ``sensitivity``, the share of responders at ``reference_h`` who
    responded at ``target.time_h``), the manifest's study and statistic, the simulated arm and
    its trial's population, and the scale."""

    target: Target
    study: str
    statistic: str
    design: EvidenceArm
    #: the Population settings of the arm's trial (``calibrate.population``), as sorted items
    population: tuple[tuple[str, float], ...] = ()
    scale: str = "madrs"
    reference_h: float | None = None
    source: str = "calibration"
    citation: str = ""

    @property
    def group(self) -> tuple[str, tuple[tuple[str, float], ...]]:
        """Endpoints of one arm in one trial population are simulated together."""
        return self.target.arm, self.population

    @property
    def simulation_key(self) -> tuple:
        """Endpoints with the same regimen, model, variants and population are one simulation
        in the calibration, whatever their study (the validation keeps studies apart:
        :attr:`group`, each trial with its own study effect)."""
        arm = self.design
        return arm.model, arm.regimen, tuple(sorted(arm.variants.items())), self.population

    @property
    def description(self) -> str:
        label, kind = get_scale(self.scale).label, self.target.kind
        if kind == "sensitivity":
            return (f"sensitivity of {label} response at {self.target.time_h:g} h for response "
                    f"at {self.reference_h:g} h")
        return {"change": f"{label} change (points)",
                "relative_change": f"{label} change (fraction of baseline)",
                "response": f"{label} response", "remission": f"{label} remission",
                "relapse_days": "median days to relapse among responders"}[kind]

    @property
    def times_h(self) -> tuple[float, ...]:
        t = self.target.time_h
        return (t,) if self.reference_h is None else (t, self.reference_h)

    def likelihood_row(self) -> Row:
        """The target's likelihood row; a change on another scale shifts with the study effect
        in proportion to the scales' ranges, as in :func:`ketasim.evidence.validate.
        study_effect`."""
        row = self.target.likelihood_row()
        if self.target.kind == "change" and self.scale != "madrs":
            row = replace(row, points=get_scale("madrs").max_score
                          / get_scale(self.scale).max_score)
        return row


def _extra_endpoint(i: int, row: pd.Series, extra: Extra) -> Endpoint:
    value, n = float(row["value"]), int(row["n"])
    time_h = float(row["timepoint_h"]) if extra.time_h is None else extra.time_h
    sd = base = None
    if extra.kind == "relative_change":
        base_text = re.search(r"baseline ([\d.]+)", row["unit"])
        sd_text = re.search(r"SD ([\d.]+)", row["unit"])
        if base_text is None or sd_text is None:
            raise ValueError(f"{row['study']} {row['statistic']}: no baseline and SD in the unit "
                             f"{row['unit']!r}")
        base = float(base_text.group(1))
        value, sd = value / base, float(sd_text.group(1)) / base
    elif extra.kind in ("response", "sensitivity"):
        value /= 100.0
    elif extra.kind == "change":
        value *= _MEAN_SIGN[row["statistic"]]  # a decrease is a negative change
    label = f"{row['study']} {row['statistic']} @ {row['timepoint_h'] or '-'} h (n {n})"
    target = Target(label, extra.kind, time_h, value, n, sd=sd,
                    sd_source="row's SD / row's baseline" if sd else "", rows=(i,),
                    fitted=False, arm=extra.arm, study=row["study"], baseline=base)
    return Endpoint(target, row["study"], row["statistic"], (ARMS | EXTRA_ARMS)[extra.arm],
                    _own_population(target), extra.scale, extra.reference_h, "scenario",
                    row["citation"])


def _own_population(target: Target) -> tuple[tuple[str, float], ...]:
    """The recorded population of the target's trial (``trial_baselines.csv``) as items."""
    return tuple(sorted(trial_baselines().get(population_key(target), {}).items()))


def _not_simulated(row: pd.Series) -> str:
    for prefix in ("not usable: ", "validation candidate, not simulated yet: "):
        if row["use"].startswith(prefix):
            return row["use"].removeprefix("not usable: ")
    stat = row["statistic"]
    if stat in ("qualitative", "pearson_r", "linear_regression_R_range"):
        return "qualitative or correlation statistic: no single simulated number"
    if _CONTRAST.search(stat):
        return "drug-minus-control contrast: its arms are compared where the manifest has them"
    if not _NUMBER.fullmatch(row["timepoint_h"]):
        return "not time-locked"
    if stat in _SAFETY or "dissociation" in row["use"]:
        return "safety endpoint, not a depression score"
    if "bipolar" in row["use"]:
        return "bipolar depression, share responding at any time within 14 d"
    if "<=12" in row["endpoint"]:
        return "remission defined as MADRS <= 12 (baseline-dependent; see the calibration)"
    return _STUDY_REASONS.get(row["study"], "no scenario for this row yet")


def _sd_of_mean(row: pd.Series) -> float | None:
    """SD of a literature row's mean: its SD, else SE x sqrt(n), else the width of its 95% CI
    / (2 x 1.96) x sqrt(n); None if none is given."""
    n = math.sqrt(row["n"])
    if row["sd"]:
        return float(row["sd"])
    if row["se"]:
        return float(row["se"]) * n
    if row["ci_low"] and row["ci_high"]:
        return (float(row["ci_high"]) - float(row["ci_low"])) / (2 * 1.96) * n
    return None


def _literature_endpoint(table: pd.DataFrame, i: int, row: pd.Series) -> Endpoint | str:
    """The endpoint of row ``i`` of ``data/literature.csv``, or why it is not simulated."""
    scale = LITERATURE_SCALES.get(row["endpoint"])
    if scale is None:
        return f"{row['endpoint']} is not a scale the clinic layer rates"
    if not _NUMBER.fullmatch(row["timepoint_h"]) or float(row["timepoint_h"]) <= 0:
        return "baseline or not time-locked"
    if row["n"] == 0:
        return "the arm's n is not reported"
    arm = design(row)
    settings = population_settings(row)
    if isinstance(arm, str) or isinstance(settings, str):
        return arm if isinstance(arm, str) else str(settings)
    stat, value, n = row["statistic"], float(row["value"]), int(row["n"])
    sd, baseline = _sd_of_mean(row), None
    if stat == "mean_change_from_baseline":
        kind = "change"
    elif stat == "mean_score":
        zero = table[(table["study"] == row["study"]) & (table["arm"] == row["arm"])
                     & (table["endpoint"] == row["endpoint"]) & (table["statistic"] == stat)
                     & (table["timepoint_h"] == "0")]
        if len(zero) == 1:
            baseline = float(zero["value"].iloc[0])
        elif row["baseline_scale"] == row["endpoint"] and row["baseline_mean"]:
            baseline = float(row["baseline_mean"])
        else:
            return "a mean score without its arm's baseline on the same scale"
        kind, value, sd = "change", value - baseline, None  # the SD of the change is not given
    elif stat == "response_pct" and re.search(r"50\s*%", row["definition"]):
        kind, value = "response", value / 100.0
    elif stat == "remission_pct" and remission_matches(row, scale):
        kind, value = "remission", value / 100.0
    else:
        return f"{stat} ({row['definition'] or 'no definition'}) is not simulated"
    label = f"{row['study']} {row['arm']} {stat} @ {row['timepoint_h']} h (n {n})"
    time_h = float(row["timepoint_h"])
    source = "row's SD, SE or CI"
    if kind == "change" and sd is None:
        sd = ASSUMED_SD_CHANGE * get_scale(scale).max_score / get_scale("madrs").max_score
        source = "assumption (calibrate.ASSUMED_SD_CHANGE, in proportion to the scale's range)"
    target = Target(label, kind, time_h, value, n, sd=sd,
                    sd_source=source if sd else "", rows=(int(i),),
                    fitted=time_h >= FIT_FROM_H and row["study"] not in NOT_FITTED_STUDIES,
                    arm=f"{row['study']}: {row['arm']}", study=row["study"])
    return Endpoint(target, row["study"], stat, arm, tuple(sorted(settings.items())), scale,
                    source="literature", citation=row["citation"])


def literature_endpoints() -> tuple[list[Endpoint], list[tuple[int, str, str]]]:
    """Endpoints of ``data/literature.csv`` (:mod:`ketasim.evidence.literature`; fitted from
    :data:`~ketasim.evidence.calibrate.FIT_FROM_H` on) and every row not simulated as
    ``(row index, label, reason)``."""
    table = load_literature()
    endpoints, skipped = [], []
    for i, row in table.iterrows():
        made = _literature_endpoint(table, int(i), row)
        if isinstance(made, str):
            skipped.append((int(i), f"{row['study']} {row['arm']} {row['statistic']} @ "
                                    f"{row['timepoint_h'] or '-'} h", made))
        else:
            endpoints.append(made)
    return endpoints, skipped


def select_endpoints(table: pd.DataFrame | None = None
                     ) -> tuple[list[Endpoint], list[tuple[int, str, str]]]:
    """Every simulated endpoint of the manifest (the calibration's targets, then
    :data:`EXTRA_ROWS`) and every other manifest row as ``(row index, label, reason)``."""
    t = load_targets() if table is None else table
    targets, skipped = select_targets(t)
    endpoints = [Endpoint(x, t.loc[x.rows[0], "study"], t.loc[x.rows[0], "statistic"],
                          ARMS[x.arm], _own_population(x),
                          citation=t.loc[x.rows[0], "citation"]) for x in targets]
    rest = []
    for i, label, why in skipped:
        row = t.loc[i]
        extra = EXTRA_ROWS.get((row["study"], row["arm"], row["statistic"], row["timepoint_h"]))
        if extra is not None:
            endpoints.append(_extra_endpoint(i, row, extra))
        elif why.startswith("not a single-dose"):
            rest.append((i, label, _not_simulated(row)))
        else:
            rest.append((i, label, why))
    return endpoints, rest


def draw_groups(endpoint: Endpoint, patients: Ratings, last_dose_h: float, resamples: int,
                rng: np.random.Generator) -> np.ndarray:
    """``resamples`` groups (rows) of the endpoint's n patients of ``patients`` drawn with
    replacement; for ``relapse_days`` among the responders (no columns when there are none)."""
    n = endpoint.target.n
    if endpoint.target.kind == "relapse_days":
        s = patients.points(endpoint.scale)
        responder, _, _ = relapse_times(s, s[:, 0], patients.times_h, last_dose_h)
        pool = np.flatnonzero(responder)
        return rng.choice(pool, (resamples, n)) if pool.size else \
            np.empty((resamples, 0), dtype=int)
    return rng.integers(0, patients.points(endpoint.scale).shape[0], (resamples, n))


def statistic(endpoint: Endpoint, patients: Ratings, last_dose_h: float,
              groups: np.ndarray) -> np.ndarray:
    """The endpoint's statistic in each row of ``groups`` (indices of ``patients``; last dose at
    ``last_dose_h``, h); for ``relapse_days`` the Kaplan-Meier median (NaN for a group without
    patients), a median not reached counting as the follow-up (a lower bound)."""
    t = endpoint.target
    s = patients.points(endpoint.scale)
    times = patients.times_h
    base = s[:, 0]
    col = s[:, time_columns(times, t.time_h)[0]]
    fraction = RESPONSE_FRACTION
    if t.kind == "relapse_days":
        if not groups.shape[1]:
            return np.full(groups.shape[0], np.nan)
        _, days, observed = relapse_times(s, base, times, last_dose_h)
        follow_up = (times[-1] - last_dose_h) / 24.0
        medians = (kaplan_meier_median(days[p], observed[p]) for p in groups)
        return np.array([follow_up if m is None else m for m in medians])
    if t.kind == "change":
        return (col - base)[groups].mean(axis=1)
    if t.kind == "relative_change":
        return (col - base)[groups].mean(axis=1) / base[groups].mean(axis=1)
    if t.kind == "response":
        return responding(col, base, fraction)[groups].mean(axis=1)
    if t.kind == "remission":
        cut = REMISSION_MAX if endpoint.scale == "madrs" else \
            get_scale(endpoint.scale).remission_max
        return (col <= cut)[groups].mean(axis=1)
    if t.kind == "sensitivity":
        end = s[:, time_columns(times, endpoint.reference_h)[0]]
        later = responding(end, base, fraction)
        early = responding(col, base, fraction) & later
        with np.errstate(invalid="ignore", divide="ignore"):
            return early[groups].sum(axis=1) / later[groups].sum(axis=1)
    raise ValueError(f"unknown endpoint kind {t.kind!r}")


def group_endpoints(endpoints: Sequence[Endpoint], key=lambda e: e.group
                    ) -> dict[tuple, list[Endpoint]]:
    """``endpoints`` by ``key`` (default :attr:`Endpoint.group`; one simulation each), in
    order."""
    groups: dict[tuple, list[Endpoint]] = {}
    for e in endpoints:
        groups.setdefault(key(e), []).append(e)
    return groups


class Simulator:
    """Every endpoint's statistic over a whole virtual population at given parameter values:
    each arm in ``n_subjects`` patients of its trial's population (seed ``seed``: common random
    numbers across evaluations), rated on every scale (picklable, for worker processes)."""

    def __init__(self, endpoints: Sequence[Endpoint], n_subjects: int, seed: int) -> None:
        self.endpoints = list(endpoints)
        self.n_subjects, self.seed = int(n_subjects), int(seed)

    def __call__(self, values: Mapping[str, float]) -> np.ndarray:
        out = {}
        for group in group_endpoints(self.endpoints, lambda e: e.simulation_key).values():
            design = group[0].design
            patients = rate(design, values, [t for e in group for t in e.times_h],
                            self.n_subjects, self.seed, SCALE_NAMES, dict(group[0].population))
            everyone = np.arange(self.n_subjects)[None, :]
            for e in group:
                out[id(e)] = float(statistic(e, patients, design.regimen.last_dose_h,
                                             everyone)[0])
        return np.array([out[id(e)] for e in self.endpoints])
