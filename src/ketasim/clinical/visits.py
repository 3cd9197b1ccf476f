"""Clinic visits of a simulated arm: severity at visit times, turned into scores and endpoints.

A model with the output ``depression_severity`` (fraction of each patient's baseline) is rated
at a baseline visit (t = 0), at the scenario's timepoints, 24 h after each dose (response over a
course) and daily after the last dose (relapse). Chunks of subjects are collected at those
times only, so populations of millions fit in memory.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ketasim.clinical.endpoints import course, endpoints, relapse, time_columns
from ketasim.clinical.scales import BASELINES, SCALES, measure, suicidal_ideation
from ketasim.regimen import Regimen

SEVERITY = "depression_severity"
#: Cohorts without their own baseline distribution are rated like TRD patients (assumption
#: until cohorts carry baseline severity).
DEFAULT_BASELINE = "trd"


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

    def summary(self, regimen: Regimen, timepoints_h: tuple[float, ...], seed: int,
                cohort: str, response_fraction: float, remission_max: float) -> dict:
        """``endpoints`` (MADRS, HAM-D17 and QIDS-SR16 at each timepoint; the scenario's
        remission cut-off applies to MADRS, the others use their own), ``suicidal_ideation``
        (MADRS item 10), ``relapse`` and ``course`` (both on MADRS) of the arm."""
        scores = measure(np.concatenate(self.severity), np.concatenate(self.subjects), seed,
                         cohort if cohort in BASELINES else DEFAULT_BASELINE)
        madrs = scores["madrs"].astype(float)
        baseline = madrs[:, 0]
        dose_times = [d.time_h for d in regimen.doses]
        timepoints = [t for t in timepoints_h if t > 0]
        rows = [row for scale in SCALES for row in endpoints(
            scores[scale].astype(float), scores[scale][:, 0].astype(float), self.times,
            timepoints, scale=scale, response_fraction=response_fraction,
            remission_max=remission_max if scale == "madrs" else None)]
        item10 = suicidal_ideation(scores["madrs"])
        columns = time_columns(self.times, timepoints)
        return {
            "endpoints": rows,
            "suicidal_ideation": [{"timepoint_h": float(t), "scale": "MADRS item 10",
                                   "mean_score": float(item10[:, j].mean()),
                                   "mean_change": float((item10[:, j] - item10[:, 0]).mean())}
                                  for t, j in zip(timepoints, columns, strict=True)],
            "relapse": relapse(madrs, baseline, self.times, max(dose_times),
                               response_fraction=response_fraction),
            "course": course(madrs, baseline, self.times, sorted(set(dose_times)),
                             response_fraction=response_fraction),
        }
