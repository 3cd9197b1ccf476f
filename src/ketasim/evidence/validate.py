"""Validation: every published arm-level result the calibrated mechanism can simulate, against a
90% prediction interval of what a trial of that size would observe.

Endpoints (:mod:`ketasim.evidence.endpoints`) are the calibration's targets (fitted or shown),
the manifest rows simulated as scenarios the calibration never sees (courses, esketamine nasal
spray, oral ketamine) and the literature table's rows (fitted from 24 h on). Every other row is
listed with the reason it is not simulated.

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
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ketasim.analysis.statistics import normal_quantile
from ketasim.clinical.scales import SCALE_NAMES, get_scale
from ketasim.evidence.calibrate import FITTED, MODEL_NAME, Target, rate
from ketasim.evidence.endpoints import (
    Endpoint,
    draw_groups,
    group_endpoints,
    literature_endpoints,
    select_endpoints,
    statistic,
)
from ketasim.evidence.posterior import POSTERIOR_FILE, load_posterior
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
    return [0.0 if p == 0 else centre - half, 1.0 if p == 1 else centre + half]  # exact at 0, 1


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
    """Prediction intervals for every endpoint of the manifest and the literature.

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
    groups = group_endpoints(endpoints)
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
            last = design.regimen.last_dose_h
            for e in group + bands[key]:
                picks = draw_groups(e, patients, last, resamples, rng)
                samples[id(e)].append(study_effect(
                    e, statistic(e, patients, last, picks), z, *tau))
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
    "check; the leave-one-study-out interval, the rows simulated as scenarios (courses, "
    "esketamine, ASPIRE, oral ketamine) and the rows before 24 h are the out-of-sample test.",
    "**Pooled rows are treated as one trial.** Han 2016 (n 368) and the Cochrane comparator "
    "risks pool several trials; heterogeneity between them is not in the interval, which is "
    "therefore too narrow for these rows.",
    "**Trial populations.** An arm is simulated in its trial's own recorded baseline MADRS where "
    "evidence/data/trial_baselines.csv has it (TRANSFORM-1, ASPIRE II, Lii 2023) and a "
    "literature arm in its trial's baseline (linked to MADRS from HAM-D17 or QIDS-SR16), mean "
    "age and share female where reported; else in the TRD cohort (baseline 31.9, age 45, 58% "
    "female). ELEKT-D is compared on the QIDS-SR16 linked from the MADRS.",
    "**Scenario assumptions.** Esketamine arms get the full dose at every session; "
    "escitalopram 10 mg/day stands for every newly started antidepressant; ELEKT-D infusions "
    "are on days 0, 3, 7, 10, 14, 17; a relapse median not reached within the follow-up counts "
    "as the follow-up length.",
    "**Monte Carlo.** Each arm's population is at least 4 times the trial's n, so the "
    "population's own sampling error widens the intervals by up to ~12%; percentiles of "
    "draws x resamples carry Monte Carlo error of their own (more `--draws` and `--n` reduce "
    "both).",
)
