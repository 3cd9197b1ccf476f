"""Trial endpoints from recorded scores: change, response, remission, relapse, course.

Pure functions on arrays. ``scores`` is subject x time (points), ``times_h`` the time of each
column (h from the first dose), ``baseline`` the recorded baseline score per subject (points; the
pre-dose visit). Rates are fractions (0-1) of the subjects given. Definitions:

- response: reduction from baseline >= ``response_fraction`` x baseline (default per scale, see
  ``scales.SCALES``: 0.5, i.e. >= 50%, for the depression scales and the SSI, the definition of
  the trials in clinical_outcomes.csv, e.g. Murrough 2013, Han 2016; 0.35 for LSAS and Y-BOCS,
  0.30 for PCL-5);
- remission: score <= ``remission_max`` (default per scale: MADRS <= 10; None for a scale
  without a conventional cut-off, e.g. PCL-5);
- relapse: after responding at the assessment following the last dose, failing the response
  criterion on ``consecutive`` (default 2) consecutive visits; time to relapse is counted from
  the last dose to the first of those visits. Definition as in Murrough JW et al. 2013 Biol
  Psychiatry 74:250 (responders followed up to 83 days after the last of six infusions; median
  18 days; clinical_outcomes.csv murrough2013_biolpsych). The two-visit rule is taken from the
  brief and the paper as recalled: not verified in the shared data (assumption).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from ketasim.clinical.scales import get_scale

#: The default response (a fall of at least this share of the baseline) and remission (a score
#: of at most this) criteria: the MADRS definitions (``scales.SCALES``).
RESPONSE_FRACTION: float = get_scale("madrs").response_fraction
REMISSION_MAX = cast(float, get_scale("madrs").remission_max)
#: Timepoints must lie on the output grid within this tolerance (h).
ATOL_H = 1e-6


#: Response, relapse and course are assessed this long after a dose (h): Murrough 2013 and most
#: ketamine trials rate response 24 h after each infusion.
ASSESS_H = 24.0

def time_columns(times_h, wanted_h, atol_h: float = ATOL_H) -> np.ndarray:
    """Column index of each wanted time on the grid; ValueError if one is not on it."""
    times = np.asarray(times_h, float)
    wanted = np.atleast_1d(np.asarray(wanted_h, float))
    idx = np.abs(times[None, :] - wanted[:, None]).argmin(axis=1)
    off = np.abs(times[idx] - wanted) > atol_h
    if off.any():
        raise ValueError(f"timepoints {wanted[off].tolist()} h are not on the output grid")
    return idx


def responding(scores, baseline, response_fraction: float = RESPONSE_FRACTION) -> np.ndarray:
    """True where the reduction from baseline is >= ``response_fraction`` of the baseline."""
    s = np.asarray(scores, float)
    b = np.asarray(baseline, float).reshape((-1,) + (1,) * (s.ndim - 1))
    return (b - s) >= response_fraction * b - 1e-9


@dataclass(frozen=True)
class ScaleEndpoint:
    """One scale (its name, e.g. ``madrs``) at one timepoint (h): mean score and mean change
    (points; negative = improvement), SD of the change (ddof 1; None with one subject), response
    and remission rates (0-1; remission None for a scale without a cut-off)."""

    timepoint_h: float
    scale: str
    mean_score: float
    mean_change: float
    sd_change: float | None
    response_rate: float
    remission_rate: float | None

    @property
    def mean_baseline(self) -> float:
        """Mean baseline score (points) of the subjects rated."""
        return self.mean_score - self.mean_change

    def to_json(self) -> dict:
        """The summary.json row: the scale by its label (e.g. "MADRS")."""
        return {"timepoint_h": self.timepoint_h, "scale": get_scale(self.scale).label,
                "mean_score": self.mean_score, "mean_change": self.mean_change,
                "sd_change": self.sd_change, "response_rate": self.response_rate,
                "remission_rate": self.remission_rate}


@dataclass(frozen=True)
class Relapse:
    """Relapse among responders (definition in the module docstring): responders and their
    share, the Kaplan-Meier median days to relapse (None if not reached), the Kaplan-Meier
    share still well at 28 d (None if the follow-up is shorter), follow-up (days)."""

    n_responders: int
    responder_rate: float | None
    median_days_to_relapse_among_responders: float | None
    responders_still_well_at_28d: float | None
    follow_up_days: float
    definition: str


@dataclass(frozen=True)
class Course:
    """Response over a course, assessed after each dose: median doses to the first response
    (over all subjects, None if half never respond; and among responders), the share responded
    by dose k and the share responding at each assessment (0-1)."""

    n_doses: int
    median_doses_to_response: float | None
    median_doses_to_response_among_responders: float | None
    cumulative_response_by_dose: tuple[float, ...]
    response_by_dose: tuple[float, ...]


def endpoints(scores, baseline, times_h, timepoints_h, scale: str = "madrs",
              response_fraction: float | None = None, remission_max: float | None = None
              ) -> list[ScaleEndpoint]:
    """One :class:`ScaleEndpoint` per timepoint on ``scale``. ``response_fraction`` and
    ``remission_max`` default to the scale's own definitions."""
    s = np.asarray(scores, float)
    b = np.asarray(baseline, float)
    sc = get_scale(scale)
    fraction = sc.response_fraction if response_fraction is None else response_fraction
    cut = sc.remission_max if remission_max is None else remission_max
    rows = []
    for t, j in zip(np.atleast_1d(timepoints_h), time_columns(times_h, timepoints_h), strict=True):
        col = s[:, j]
        change = col - b
        rows.append(ScaleEndpoint(
            float(t), sc.name, float(col.mean()), float(change.mean()),
            float(change.std(ddof=1)) if col.size > 1 else None,
            float(responding(col, b, fraction).mean()),
            None if cut is None else float((col <= cut).mean())))
    return rows


def relapse_times(scores, baseline, times_h, last_dose_h: float,
                  response_fraction: float = RESPONSE_FRACTION, consecutive: int = 2,
                  assess_after_h: float = ASSESS_H) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per subject: responder at ``last_dose_h + assess_after_h``?, time to relapse (days from
    the last dose) and whether it was observed (False = censored at the last visit).

    Visits are the grid columns after the assessment. A run of failing visits that the grid
    ends before completing is censored. Non-responders get NaN times.
    """
    s = np.asarray(scores, float)
    times = np.asarray(times_h, float)
    j0 = time_columns(times, last_dose_h + assess_after_h)[0]
    responder = responding(s[:, j0], baseline, response_fraction)
    fail = ~responding(s[:, j0 + 1:], baseline, response_fraction)
    visits = times[j0 + 1:]
    days = np.full(s.shape[0], np.nan)
    observed = np.zeros(s.shape[0], bool)
    last = (visits[-1] if visits.size else times[j0]) - last_dose_h
    for i in np.flatnonzero(responder):
        run = 0
        for k in range(visits.size):
            run = run + 1 if fail[i, k] else 0
            if run == consecutive:
                days[i] = (visits[k - consecutive + 1] - last_dose_h) / 24.0
                observed[i] = True
                break
        else:
            days[i] = last / 24.0
    return responder, days, observed


def kaplan_meier(days, observed) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier survival: event times (days) and S(t) just after each."""
    d = np.asarray(days, float)
    e = np.asarray(observed, bool)
    times = np.unique(d[e])
    surv, s = [], 1.0
    for t in times:
        at_risk = (d >= t).sum()
        s *= 1.0 - ((d == t) & e).sum() / at_risk
        surv.append(s)
    return times, np.array(surv)


def kaplan_meier_median(days, observed) -> float | None:
    """The Kaplan-Meier median (days): the first event time with S <= 0.5; None if not
    reached."""
    times, surv = kaplan_meier(days, observed)
    below = np.flatnonzero(surv <= 0.5)
    return float(times[below[0]]) if below.size else None


def relapse(scores, baseline, times_h, last_dose_h: float,
            response_fraction: float = RESPONSE_FRACTION, consecutive: int = 2,
            assess_after_h: float = ASSESS_H, well_at_days: float = 28.0) -> Relapse:
    """Relapse among responders (see the module docstring for the definition); the median is
    None if not reached (as for SUSTAIN-1's esketamine arm), the share still well is the
    Kaplan-Meier S at ``well_at_days``."""
    responder, days, observed = relapse_times(scores, baseline, times_h, last_dose_h,
                                              response_fraction, consecutive, assess_after_h)
    d, e = days[responder], observed[responder]
    times, surv = kaplan_meier(d, e)
    follow_up = (float(np.asarray(times_h, float)[-1]) - last_dose_h) / 24.0
    well = None
    if d.size and follow_up >= well_at_days:
        well = float(surv[times <= well_at_days][-1]) if (times <= well_at_days).any() else 1.0
    return Relapse(
        int(responder.sum()), float(responder.mean()) if responder.size else None,
        kaplan_meier_median(d, e), well, follow_up,
        f"responders (>= {response_fraction:.0%} reduction) {assess_after_h:g} h after the last "
        f"dose; relapse = failing that on {consecutive} consecutive visits; days from the last "
        "dose")


def course(scores, baseline, times_h, dose_times_h,
           response_fraction: float = RESPONSE_FRACTION, assess_after_h: float = ASSESS_H
           ) -> Course:
    """Response over a course, assessed ``assess_after_h`` after each dose (:class:`Course`)."""
    doses = np.sort(np.atleast_1d(np.asarray(dose_times_h, float)))
    cols = time_columns(times_h, doses + assess_after_h)
    resp = responding(np.asarray(scores, float)[:, cols], baseline, response_fraction)
    ever = resp.any(axis=1)
    first = np.where(ever, resp.argmax(axis=1) + 1, np.inf)  # doses until first response
    median_all = float(np.median(first)) if first.size else None
    return Course(
        int(doses.size),
        median_all if median_all is not None and np.isfinite(median_all) else None,
        float(np.median(first[ever])) if ever.any() else None,
        tuple(float((first <= k).mean()) for k in range(1, doses.size + 1)),
        tuple(float(r) for r in resp.mean(axis=0)))
