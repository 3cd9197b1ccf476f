"""Validation: every published arm-level result the calibrated mechanism can simulate, against a
90% prediction interval of what a trial of that size would observe.

Endpoints are the calibration's targets (:func:`ketasim.evidence.calibrate.select_targets`,
fitted or shown) and the manifest rows in :data:`EXTRA_ROWS`, simulated as the scenarios of
:data:`EXTRA_ARMS` (courses, esketamine nasal spray; not used in the calibration). Every other
manifest row is listed with the reason it is not simulated.

The interval carries

- parameter uncertainty: ``draws`` parameter sets of the calibration's posterior (with their
  between-study taus; :mod:`ketasim.evidence.posterior`, written by ``scripts/calibrate.py``);
- between-patient variability and the trial's size: for each parameter set every arm is
  simulated once in a large virtual population (its own seed, the trial's own baseline where
  recorded), and ``resamples`` groups of the row's n patients are drawn from it with
  replacement;
- between-trial variability: each group is a new trial with its own arm effect
  (:func:`study_effect`).

The 5th, 50th and 95th percentiles of all samples (draws x resamples) are the interval and the
prediction; ``inside`` says whether the published value lies in the interval. The
leave-one-study-out interval (``loso_*``) weights the same samples by :func:`study_weights`;
:func:`_vpc_endpoints` adds bands through time for the visual predictive checks.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ketasim.analysis.statistics import normal_quantile
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
    FITTED,
    MODEL_NAME,
    EvidenceArm,
    Target,
    infusions,
    population_key,
    rate,
    select_targets,
    sprays,
    trial_baselines,
)
from ketasim.evidence.literature import SCALES as LITERATURE_SCALES
from ketasim.evidence.literature import (
    design,
    load_literature,
    population_settings,
    remission_matches,
)
from ketasim.evidence.posterior import POSTERIOR_FILE, load_posterior
from ketasim.evidence.targets import load_targets
from ketasim.models import get_model

#: Goals of the validation (issue 11): shares of values inside their 90% intervals, of the
#: fitted rows and of every row predicted by the posterior without its study.
TARGET_CALIBRATION = 0.80
TARGET_LOSO = 0.70
#: Endpoint kinds with a visual predictive check through time.
VPC_KINDS = ("change", "relative_change", "response", "remission")
#: Central share of the prediction interval (5th to 95th percentile).
INTERVAL = 0.90
#: Percentiles of an interval and its median: 5, 50, 95.
QUANTILES = (100 * (1 - INTERVAL) / 2, 50.0, 100 * (1 + INTERVAL) / 2)
#: Each arm's virtual population has at least this many times the largest n of its endpoints:
#: assumption: resampling n of N patients adds about n/N to the sampling variance through the
#: population's own Monte Carlo error, here at most 25% (SD at most ~12% too wide).
POPULATION_FACTOR = 4
#: Murrough 2013 Biol Psychiatry followed responders up to 83 days after the last infusion
#: (clinical/endpoints.py's relapse definition).
MURROUGH_FOLLOW_UP_D = 83.0
#: Murrough 2013 Biol Psychiatry: up to six infusions three times a week over 12 days (days of
#: the infusions: Mon/Wed/Fri, as in claims.py and tests/test_course.py).
MURROUGH_DAYS = (0, 2, 4, 7, 9, 11)
ESKETAMINE_MODEL = "perez_ruixo2021+mechanism"
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
    target = Target(label, kind, float(row["timepoint_h"]), value, n, sd=sd,
                    sd_source="row's SD, SE or CI" if sd else "", rows=(int(i),), fitted=False,
                    arm=f"{row['study']}: {row['arm']}", study=row["study"])
    return Endpoint(target, row["study"], stat, arm, tuple(sorted(settings.items())), scale,
                    source="literature", citation=row["citation"])


def literature_endpoints() -> tuple[list[Endpoint], list[tuple[int, str, str]]]:
    """Endpoints of ``data/literature.csv`` (:mod:`ketasim.evidence.literature`; all predicted,
    none fitted) and every row not simulated as ``(row index, label, reason)``."""
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


# --- parameters ---------------------------------------------------------------------------------

def current_values() -> dict[str, float]:
    """The calibrated values the model carries now: :data:`FITTED` and ``cv`` (w_slow's)."""
    params = {p.name: p for p in get_model(MODEL_NAME).parameters}
    cv = params["w_slow"].cv
    if cv is None:  # the calibration puts its cv on w_slow and the other VARIABLE gains
        raise ValueError(f"{MODEL_NAME}: w_slow has no between-patient variability (cv)")
    return {k: float(params[k].value) for k in FITTED} | {"cv": float(cv)}


def study_weights(draws: list[dict], study: str) -> np.ndarray:
    """Importance weights of ``draws`` for the posterior without ``study``: proportional to
    1 / the likelihood of the study's arms at each draw (exact for independent studies given the
    parameters and taus); uniform for a study the calibration did not see."""
    nll = np.array([d["study_nll"].get(study, 0.0) for d in draws])
    w = np.exp(nll - nll.max())
    return w / w.sum()


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of normalised ``weights``."""
    return float(1.0 / np.sum(weights**2))


# --- simulation ---------------------------------------------------------------------------------

def resampled(endpoint: Endpoint, patients: Ratings, last_dose_h: float, resamples: int,
              rng: np.random.Generator) -> np.ndarray:
    """The endpoint's statistic in ``resamples`` groups of its n patients drawn with
    replacement from ``patients`` (last dose at ``last_dose_h``, h; for ``relapse_days``: n
    responders, a median not reached counting as the follow-up, a lower bound)."""
    t = endpoint.target
    s = patients.points(endpoint.scale)
    times = patients.times_h
    base = s[:, 0]
    col = s[:, time_columns(times, t.time_h)[0]]
    if t.kind == "relapse_days":
        responder, days, observed = relapse_times(s, base, times, last_dose_h)
        pool = np.flatnonzero(responder)
        if not pool.size:
            return np.full(resamples, np.nan)
        follow_up = (times[-1] - last_dose_h) / 24.0
        picks = rng.choice(pool, (resamples, t.n))
        medians = (kaplan_meier_median(days[p], observed[p]) for p in picks)
        return np.array([follow_up if m is None else m for m in medians])
    idx = rng.integers(0, base.size, (resamples, t.n))
    fraction = RESPONSE_FRACTION
    if t.kind == "change":
        return (col - base)[idx].mean(axis=1)
    if t.kind == "relative_change":
        return (col - base)[idx].mean(axis=1) / base[idx].mean(axis=1)
    if t.kind == "response":
        return responding(col, base, fraction)[idx].mean(axis=1)
    if t.kind == "remission":
        cut = REMISSION_MAX if endpoint.scale == "madrs" else \
            get_scale(endpoint.scale).remission_max
        return (col <= cut)[idx].mean(axis=1)
    if t.kind == "sensitivity":
        end = s[:, time_columns(times, endpoint.reference_h)[0]]
        later = responding(end, base, fraction)
        early = responding(col, base, fraction) & later
        with np.errstate(invalid="ignore", divide="ignore"):
            return early[idx].sum(axis=1) / later[idx].sum(axis=1)
    raise ValueError(f"unknown endpoint kind {t.kind!r}")


def study_effect(endpoint: Endpoint, samples: np.ndarray, z: np.ndarray, tau_change: float,
                 tau_logit: float) -> np.ndarray:
    """``samples`` of the endpoint's statistic in new trials whose arm effects are ``z`` (one per
    sample, N(0, 1); :mod:`ketasim.evidence.likelihood`): a change shifts by ``-tau_change z``
    MADRS points (in proportion to the scale's range on another scale, divided by the baseline
    for a fraction), a rate by ``+tau_logit z`` on the logit; relapse medians and sensitivities
    are not shifted."""
    t = endpoint.target
    if t.kind in ("change", "relative_change"):
        points = tau_change * get_scale(endpoint.scale).max_score / get_scale("madrs").max_score
        per_unit = t.baseline if t.kind == "relative_change" and t.baseline else 1.0
        return samples - points * z / per_unit
    if t.kind in ("response", "remission"):
        p = np.clip(samples, 0.5 / t.n, 1 - 0.5 / t.n)
        return 1.0 / (1.0 + (1 - p) / p * np.exp(-tau_logit * z))
    return samples


def weighted_percentiles(samples: np.ndarray, weights: np.ndarray | None = None,
                         q=QUANTILES) -> np.ndarray:
    """Percentiles ``q`` (0-100) of ``samples`` with ``weights`` (equal if None; NaN samples
    dropped): the one rule of every interval here, so that a band and an endpoint's interval
    agree."""
    keep = ~np.isnan(samples)
    x = samples[keep]
    w = np.ones(x.size) if weights is None else weights[keep]
    order = np.argsort(x)
    x, cum = x[order], np.cumsum(w[order])
    return np.interp(np.asarray(q) / 100 * cum[-1], cum - w[order] / 2, x)


def _observed_interval(t: Target) -> list[float] | None:
    """90% interval of the published value from its own sampling error: mean +/- z SE, or the
    Wilson interval of a rate with the row's n; None for medians and sensitivities."""
    z = normal_quantile(0.5 + INTERVAL / 2)
    if t.se is not None:
        return [t.observed - z * t.se, t.observed + z * t.se]
    if t.kind not in ("response", "remission"):
        return None
    p, n = t.observed, t.n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return [centre - half, centre + half]


def _row(e: Endpoint, samples: np.ndarray, loso_weights: np.ndarray | None) -> dict[str, Any]:
    """The validation.json row of ``e``: the prediction interval of ``samples``, the observed
    value and whether it lies inside; with ``loso_weights`` (per sample) the interval of the
    posterior without the endpoint's study too."""
    t = e.target
    p5, median, p95 = weighted_percentiles(samples)
    lo, mid, hi = (p5, median, p95) if loso_weights is None else \
        weighted_percentiles(samples, loso_weights)
    return {
        "study": e.study, "arm": t.arm, "endpoint": e.description, "kind": t.kind,
        "scale": get_scale(e.scale).label, "statistic": e.statistic, "time_h": t.time_h,
        "n": t.n, "observed": t.observed, "observed_interval": _observed_interval(t),
        "predicted": float(median), "p5": float(p5), "p95": float(p95),
        "inside": bool(p5 <= t.observed <= p95), "loso_predicted": float(mid),
        "loso_p5": float(lo), "loso_p95": float(hi), "loso_inside": bool(lo <= t.observed <= hi),
        "fitted": t.fitted, "source": e.source, "citation": e.citation,
        "rows": list(t.rows), "label": t.label}


def _vpc_endpoints(group: list[Endpoint]) -> list[Endpoint]:
    """Per study, kind and scale of ``group``'s time-course endpoints, one endpoint per time of
    :func:`vpc_times` (the largest n of these) for the visual predictive check."""
    out = []
    for key in dict.fromkeys(_vpc_key(e) for e in group if e.target.kind in VPC_KINDS):
        mine = [e for e in group if _vpc_key(e) == key]
        first = max(mine, key=lambda e: e.target.n)
        last_h = max(e.target.time_h for e in mine)
        out += [replace(first, target=replace(first.target, time_h=t))
                for t in vpc_times(last_h)]
    return out


def _vpc_key(e: Endpoint) -> tuple[str, str, str]:
    return e.study, e.target.kind, e.scale


def vpc_times(last_h: float) -> list[float]:
    """Times (h) of a visual predictive check's band up to ``last_h`` (at least a day): 2, 4, 8
    and 12 h, then daily."""
    daily = [24.0 * d for d in range(1, math.ceil(last_h / 24) + 1)]
    return [t for t in (2.0, 4.0, 8.0, 12.0, *daily) if t <= max(last_h, 24.0)]


def validate(draws: int = 20, n: int = 500, resamples: int = 200, seed: int = 1,
             progress: Callable[[int, int], None] | None = None) -> dict:
    """Prediction intervals for every endpoint of :func:`select_endpoints`.

    ``draws`` parameter sets of the shipped posterior (:func:`~ketasim.evidence.posterior.
    load_posterior`); for each, every arm in max(``n``, :data:`POPULATION_FACTOR` x its largest
    n) virtual patients (seed ``seed + draw``) and ``resamples`` trial-sized groups per endpoint,
    each a new trial with its own between-study effect (:func:`study_effect`). The
    leave-one-study-out interval reweights the same samples (:func:`study_weights`).
    ``progress(done, draws)`` after each parameter set. Returns the document written to
    validation.json (see docs/validation/report.md).
    """
    endpoints, skipped = select_endpoints()
    found, unused = literature_endpoints()
    endpoints += found
    posterior = load_posterior()
    values = current_values()
    notes = []
    if any(not math.isclose(float(f"{posterior['map'][k]:.4g}"), v, rel_tol=1e-9)
           for k, v in values.items()):
        notes.append(f"{POSTERIOR_FILE} was made for other parameter values than the model's "
                     "(re-run scripts/calibrate.py)")
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(posterior["draws"]), size=draws,
                      replace=draws > len(posterior["draws"]))
    chosen = [posterior["draws"][i] for i in pick]
    groups = {key: [e for e in endpoints if e.group == key]
              for key in dict.fromkeys(e.group for e in endpoints)}
    bands = {key: _vpc_endpoints(group) for key, group in groups.items()}
    samples: dict[int, list[np.ndarray]] = {
        id(e): [] for key, group in groups.items() for e in group + bands[key]}
    for k, draw in enumerate(chosen):
        tau = draw["tau_change"], draw["tau_logit"]
        for key, group in groups.items():
            size = max(n, POPULATION_FACTOR * max(e.target.n for e in group))
            design = group[0].design
            times = [t for e in group + bands[key] for t in e.times_h]
            patients = rate(design, draw["values"], times, size, seed + k, SCALE_NAMES,
                            dict(key[1]))
            z = rng.standard_normal(resamples)  # one new trial per resample, all its endpoints
            for e in group + bands[key]:
                samples[id(e)].append(study_effect(e, resampled(
                    e, patients, design.regimen.last_dose_h, resamples, rng), z, *tau))
        if progress:
            progress(k + 1, draws)
    studies = list(dict.fromkeys(e.study for e in endpoints))
    weights = {s: study_weights(chosen, s) for s in studies}
    rows = [_row(e, np.concatenate(samples[id(e)]),
                 np.repeat(weights[e.study], resamples)) for e in endpoints]
    inside = [r["inside"] for r in rows]
    calibrated = set(posterior["studies"])
    per_study = [{"study": s, "in_calibration": s in calibrated,
                  "endpoints": sum(r["study"] == s for r in rows),
                  "inside": sum(r["inside"] for r in rows if r["study"] == s),
                  "loso_inside": sum(r["loso_inside"] for r in rows if r["study"] == s),
                  "effective_draws": effective_size(weights[s])} for s in studies]
    fitted = [r for r in rows if r["fitted"]]
    vpc = []
    for (arm, _), band in bands.items():
        for study, kind, scale in dict.fromkeys(map(_vpc_key, band)):
            mine = [e for e in band if _vpc_key(e) == (study, kind, scale)]
            q = np.array([weighted_percentiles(np.concatenate(samples[id(e)])) for e in mine])
            vpc.append({"study": study, "arm": arm, "kind": kind,
                        "scale": get_scale(scale).label, "endpoint": mine[0].description,
                        "n": mine[0].target.n, "times_h": [e.target.time_h for e in mine],
                        "p5": q[:, 0].tolist(), "p50": q[:, 1].tolist(),
                        "p95": q[:, 2].tolist()})
    return {
        "endpoints": rows,
        "fraction_inside": float(np.mean(inside)),
        "n_inside": int(sum(inside)),
        "n_endpoints": len(rows),
        "targets": {
            "calibration": {"inside": sum(r["inside"] for r in fitted), "of": len(fitted),
                            "goal": TARGET_CALIBRATION},
            "loso": {"inside": sum(r["loso_inside"] for r in rows), "of": len(rows),
                     "goal": TARGET_LOSO},
            "studies_all_outside": [p["study"] for p in per_study if p["loso_inside"] == 0]},
        "studies": per_study,
        "vpc": vpc,
        "interval": INTERVAL,
        "parameter_draws": draws,
        "patients_per_arm_min": n,
        "population_factor": POPULATION_FACTOR,
        "resamples": resamples,
        "seed": seed,
        "model": MODEL_NAME,
        "arms": {arm: group[0].design.model for (arm, _), group in groups.items()},
        "parameters": {"names": posterior["names"], "map": posterior["map"], "values": values,
                       "posterior": _posterior_summary(posterior),
                       "method": "differential evolution then emcee (scripts/calibrate.py, "
                                 f"{len(posterior['draws'])} draws)",
                       "date": posterior["date"]},
        "not_simulated": [{"row": i, "label": label, "reason": why}
                          for i, label, why in skipped],
        "literature_not_simulated": [{"row": i, "label": label, "reason": why}
                                     for i, label, why in unused],
        "notes": notes,
        "date": datetime.date.today().isoformat(),
    }


def _posterior_summary(posterior: dict) -> dict[str, list[float]]:
    """Per parameter and tau: the posterior's 5th, 50th and 95th percentiles."""
    draws = posterior["draws"]
    series = {k: [d["values"][k] for d in draws] for k in posterior["names"]}
    series |= {k: [d[k] for d in draws] for k in ("tau_change", "tau_logit")}
    return {k: np.percentile(v, QUANTILES).tolist() for k, v in series.items()}


#: Limits of the validation itself (the calibration's: ``calibrate.LIMITS``).
LIMITS: tuple[str, ...] = (
    "**Fitted endpoints are not independent evidence.** For them `inside` is a goodness-of-fit "
    "check; the rows simulated as scenarios (courses, esketamine, ASPIRE) and the 2-h row are "
    "the out-of-sample test.",
    "**Pooled rows are treated as one trial.** Han 2016 (n 368) and the Cochrane comparator "
    "risks pool several trials; heterogeneity between them is not in the interval, which is "
    "therefore too narrow for these rows.",
    "**Trial populations.** An arm is simulated in its trial's own recorded baseline MADRS where "
    "evidence/data/trial_baselines.csv has it (TRANSFORM-1, ASPIRE II, Lii 2023), else in the "
    "TRD cohort (baseline 31.9); age, sex and inclusion cut-offs are the cohort's. ELEKT-D is "
    "compared on the QIDS-SR16 linked from the MADRS.",
    "**Scenario assumptions.** Esketamine arms get the full dose at every session; "
    "escitalopram 10 mg/day stands for every newly started antidepressant; ELEKT-D infusions "
    "are on days 0, 3, 7, 10, 14, 17; a relapse median not reached within the follow-up counts "
    "as the follow-up length.",
    "**Monte Carlo.** Each arm's population is at least 4 times the trial's n, so the "
    "population's own sampling error widens the intervals by up to ~12%; percentiles of "
    "draws x resamples carry Monte Carlo error of their own (more `--draws` and `--n` reduce "
    "both).",
)
