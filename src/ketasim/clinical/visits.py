"""Clinic visits of a simulated arm: severity at visit times, turned into scores and endpoints.

A model with the output ``depression_severity`` (fraction of each patient's baseline) is rated
at a baseline visit (t = 0), at the scenario's timepoints, 24 h after each dose (response over a
course) and daily after the last dose (relapse), on the depression scales, the SSI and the
cohort's indication scale (``scales.RATINGS``). Chunks of subjects are collected at those times
only, so populations of millions fit in memory.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ketasim.clinical.endpoints import course, endpoints, relapse, time_columns
from ketasim.clinical.scales import (
    SCALE_NAMES,
    SCALES,
    Rating,
    measure,
    rating,
    suicidal_ideation,
)
from ketasim.dosing import Regimen

SEVERITY = "depression_severity"


def visit_times(regimen: Regimen, timepoints_h: tuple[float, ...], end_h: float) -> np.ndarray:
    """Baseline (0 h), the timepoints, 24 h after each dose and daily after the last dose (h)."""
    last = max(d.time_h for d in regimen.doses)
    daily = last + 24.0 * np.arange(1, int((end_h - last) // 24) + 1)
    after_doses = [d.time_h + 24.0 for d in regimen.doses if d.time_h + 24.0 <= end_h]
    return np.unique(np.concatenate([[0.0], timepoints_h, after_doses, daily]))


class Visits:
    """Collects each chunk's severity at the visit times; then rates and summarises."""

    def __init__(self, times_h: np.ndarray) -> None:
        self.times = times_h
        self.subjects: list[np.ndarray] = []
        self.severity: list[np.ndarray] = []

    def add(self, chunk: xr.Dataset) -> None:
        self.subjects.append(chunk["subject"].to_numpy())
        self.severity.append(chunk[SEVERITY].sel(time=self.times).to_numpy())

    def scores(self, seed: int, cohort: str | Rating, scales: tuple[str, ...]
               ) -> dict[str, np.ndarray]:
        """The collected subjects' ratings on ``scales`` at the visit times (see
        :func:`ketasim.clinical.scales.measure`)."""
        return measure(np.concatenate(self.severity), np.concatenate(self.subjects), seed,
                       cohort, scales)

    def summary(self, regimen: Regimen, timepoints_h: tuple[float, ...], seed: int,
                cohort: str, response_fraction: float, remission_max: float) -> dict:
        """``endpoints`` at each timepoint on MADRS, HAM-D17 and QIDS-SR16 (the scenario's
        response fraction applies to all three, its remission cut-off to MADRS, the others use
        their own) and on the cohort's indication scale with its own response and remission
        definitions; ``suicidal_ideation`` (MADRS item 10 and SSI); ``relapse`` and ``course``
        (both on MADRS) of the arm."""
        r = rating(cohort)
        scores = self.scores(seed, r, (*SCALE_NAMES, *r.own))
        madrs = scores["madrs"].astype(float)
        baseline = madrs[:, 0]
        dose_times = [d.time_h for d in regimen.doses]
        timepoints = [t for t in timepoints_h if t > 0]
        criteria = {name: (response_fraction, remission_max if name == "madrs" else None)
                    for name in SCALE_NAMES}
        if r.primary is not None:
            criteria[r.primary] = (None, None)
        rows = [row for name, (fraction, cut) in criteria.items() for row in endpoints(
            scores[name].astype(float), scores[name][:, 0].astype(float), self.times,
            timepoints, scale=name, response_fraction=fraction, remission_max=cut)]
        columns = time_columns(self.times, timepoints)
        ideation = (("MADRS item 10", suicidal_ideation(scores["madrs"])),
                    (SCALES["ssi"].label, scores["ssi"]))
        return {
            "endpoints": rows,
            "suicidal_ideation": [{"timepoint_h": float(t), "scale": label,
                                   "mean_score": float(s[:, j].mean()),
                                   "mean_change": float((s[:, j] - s[:, 0]).mean())}
                                  for label, s in ideation
                                  for t, j in zip(timepoints, columns, strict=True)],
            "relapse": relapse(madrs, baseline, self.times, max(dose_times),
                               response_fraction=response_fraction),
            "course": course(madrs, baseline, self.times, sorted(set(dose_times)),
                             response_fraction=response_fraction),
        }
