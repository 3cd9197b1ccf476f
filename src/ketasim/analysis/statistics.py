"""The analyses a trial statistician runs on one trial's patient-level data.

- :func:`ancova`: change from baseline at the primary visit ~ arm + baseline (ordinary least
  squares), the treatment difference with its standard error and two-sided t-test;
- :func:`binary`: responders (or remitters) per arm: risk difference (Wald), odds ratio (with
  Haldane's 0.5 correction when a cell is empty) and the two-sided two-proportion z-test;
- :func:`logrank`: time to relapse: the log-rank test and the Peto hazard ratio
  exp((O - E) / V) of the treated arm against the control arm;
- :func:`crossover`: a 2 x 2 crossover: the period-balanced within-patient difference;
- :func:`spread`: the median and 5th-95th percentiles of a quantity over subjects or trials.

Every effect is "treated minus control" (or treated / control): negative MADRS differences and
hazard ratios below 1 favour the treated arm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


def normal_quantile(p: float) -> float:
    """The standard normal quantile of ``p`` (e.g. 0.975 -> 1.96)."""
    return float(stats.norm.ppf(p))


#: Two-sided 95% confidence intervals: estimate +/- Z95 standard errors.
Z95 = normal_quantile(0.975)


def spread(values) -> dict[str, float] | None:
    """Median and 5th-95th percentiles over the values that are finite; with ``n`` when some
    are not (e.g. a half-life needs 3 samples after Cmax); None when none is."""
    values = np.asarray(values, float)
    known = values[np.isfinite(values)]
    if known.size == 0:
        return None
    p5, median, p95 = np.percentile(known, [5, 50, 95])
    found = {"median": float(median), "p5": float(p5), "p95": float(p95)}
    return found if known.size == values.size else found | {"n": int(known.size)}


@dataclass(frozen=True)
class Estimate:
    """An effect, its 95% confidence interval and two-sided p-value."""

    effect: float
    low: float
    high: float
    p: float


def ancova(change_control, change_treated, baseline_control, baseline_treated) -> Estimate:
    """Treatment difference in change (points) adjusted for baseline (points)."""
    y = np.concatenate([change_control, change_treated]).astype(float)
    base = np.concatenate([baseline_control, baseline_treated]).astype(float)
    arm = np.r_[np.zeros(len(change_control)), np.ones(len(change_treated))]
    x = np.column_stack([np.ones_like(y), arm, base - base.mean()])
    df = y.size - x.shape[1]
    if df < 1:
        raise ValueError("ancova: needs at least 4 patients")
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    sigma2 = residual @ residual / df
    se = math.sqrt(sigma2 * np.linalg.pinv(x.T @ x)[1, 1])
    return _t_estimate(float(coef[1]), se, df)


def _t_estimate(effect: float, se: float, df: int) -> Estimate:
    if se == 0:
        return Estimate(effect, effect, effect, 1.0 if effect == 0 else 0.0)
    q = stats.t.ppf(0.975, df)
    return Estimate(effect, effect - q * se, effect + q * se,
                    float(2 * stats.t.sf(abs(effect / se), df)))


def binary(events_control, events_treated) -> tuple[Estimate, Estimate]:
    """Risk difference (treated - control) and odds ratio (treated / control) of 0/1 events."""
    a, b = np.asarray(events_treated, bool), np.asarray(events_control, bool)
    n1, n0 = a.size, b.size
    p1, p0 = a.mean(), b.mean()
    pooled = (a.sum() + b.sum()) / (n1 + n0)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    p = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(p1 - p0) / se0))
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    rd = Estimate(float(p1 - p0), float(p1 - p0 - Z95 * se), float(p1 - p0 + Z95 * se), p)
    cells = np.array([a.sum(), n1 - a.sum(), b.sum(), n0 - b.sum()], float)
    if (cells == 0).any():
        cells += 0.5
    log_or = math.log(cells[0] * cells[3] / (cells[1] * cells[2]))
    se_or = math.sqrt((1 / cells).sum())
    odds = Estimate(math.exp(log_or), math.exp(log_or - Z95 * se_or),
                    math.exp(log_or + Z95 * se_or), p)
    return rd, odds


def logrank(days_control, observed_control, days_treated, observed_treated) -> Estimate:
    """Log-rank test and Peto hazard ratio (treated / control) of times (days) with event
    flags (False = censored)."""
    t = np.concatenate([days_control, days_treated]).astype(float)
    e = np.concatenate([observed_control, observed_treated]).astype(bool)
    g = np.r_[np.zeros(len(days_control)), np.ones(len(days_treated))].astype(bool)
    o_minus_e, v = 0.0, 0.0
    for time in np.unique(t[e]):
        at_risk = t >= time
        n, n1 = at_risk.sum(), (at_risk & g).sum()
        d = (e & (t == time)).sum()
        d1 = (e & (t == time) & g).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            v += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    if v == 0:
        return Estimate(1.0, 0.0, math.inf, 1.0)
    log_hr, se = o_minus_e / v, 1 / math.sqrt(v)
    return Estimate(math.exp(log_hr), math.exp(log_hr - Z95 * se),
                    math.exp(log_hr + Z95 * se),
                    float(stats.chi2.sf(o_minus_e**2 / v, 1)))


def crossover(difference_ab, difference_ba) -> Estimate:
    """2 x 2 crossover: per patient the change under B minus the change under A (points), in
    sequence AB and in sequence BA; the mean of the two sequences' means cancels the period
    effect (Jones & Kenward, Design and Analysis of Cross-Over Trials, ch. 2)."""
    ab, ba = np.asarray(difference_ab, float), np.asarray(difference_ba, float)
    df = ab.size + ba.size - 2
    if df < 1 or ab.size < 1 or ba.size < 1:
        raise ValueError("crossover: needs at least one patient per sequence and 3 in all")
    pooled = ((ab.size - 1) * ab.var(ddof=1 if ab.size > 1 else 0)
              + (ba.size - 1) * ba.var(ddof=1 if ba.size > 1 else 0)) / df
    se = 0.5 * math.sqrt(pooled * (1 / ab.size + 1 / ba.size))
    return _t_estimate(float(0.5 * (ab.mean() + ba.mean())), se, df)
