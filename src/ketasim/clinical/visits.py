"""Clinic visits of a simulated arm: the one path from an arm to scores.

:func:`rate_arm` simulates an arm chunk by chunk and rates each chunk's
``depression_severity`` (fraction of each patient's baseline) at the visit times on the scales
asked for (:func:`ketasim.clinical.scales.measure`) as it comes, keeping only the scores, so
that populations of millions fit in memory.
The summary, the trial pools, the calibration and the validation all rate through it.
:func:`visit_times` gives the visits of a scenario arm: baseline (t = 0), the timepoints, 24 h
after each dose (response over a course) and daily after the last dose (relapse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ketasim.clinical.scales import Rating, measure
from ketasim.dosing import Regimen
from ketasim.modeling.spec import Model
from ketasim.models.mechanism.mood import SEVERITY
from ketasim.population.sampling import BASELINE, Population
from ketasim.simulation.engine import Accumulator, accumulate


def visit_times(regimen: Regimen, timepoints_h: Sequence[float], end_h: float) -> np.ndarray:
    """Baseline (0 h), the timepoints, 24 h after each dose and daily after the last dose (h)."""
    last = regimen.last_dose_h
    daily = last + 24.0 * np.arange(1, int((end_h - last) // 24) + 1)
    after_doses = [d.time_h + 24.0 for d in regimen.doses if d.time_h + 24.0 <= end_h]
    return np.unique(np.concatenate([[0.0], timepoints_h, after_doses, daily]))


@dataclass(frozen=True)
class Ratings:
    """An arm's recorded scores: ``scores[scale]`` (subject x visit, int16 points) and
    ``true_baseline[scale]`` (points per subject) at ``times_h`` (h; the first is the baseline
    visit), for the subjects ``subjects`` (global ids)."""

    times_h: np.ndarray
    subjects: np.ndarray
    scores: dict[str, np.ndarray]
    true_baseline: dict[str, np.ndarray]

    def points(self, scale: str) -> np.ndarray:
        """The scores on ``scale`` as floats (subject x visit)."""
        return self.scores[scale].astype(float)


class Visits:
    """Rates each chunk's ``depression_severity`` at the visit times ``times_h`` (h) on
    ``scales`` as it comes (the clinic's draws of ``seed``, rated as ``cohort`` is), from each
    subject's true baseline MADRS (the population's attribute); memory: the int16 scores."""

    def __init__(self, times_h: np.ndarray, seed: int, cohort: str | Rating,
                 scales: Sequence[str]) -> None:
        self.times = np.asarray(times_h, float)
        self.seed, self.cohort, self.scales = seed, cohort, tuple(scales)
        self.subjects: list[np.ndarray] = []
        self.baselines: list[np.ndarray] = []
        self.rated: list[dict[str, np.ndarray]] = []

    def add(self, chunk: xr.Dataset) -> None:
        self.subjects.append(chunk["subject"].to_numpy())
        self.baselines.append(chunk[BASELINE].to_numpy())
        self.rated.append(measure(chunk[SEVERITY].sel(time=self.times).to_numpy(),
                                  self.subjects[-1], self.seed, self.cohort, self.scales,
                                  self.baselines[-1]))

    def ratings(self) -> Ratings:
        """Every subject's scores so far (subjects rate the same in any chunk)."""
        def joined(key: str) -> np.ndarray:
            return np.concatenate([r[key] for r in self.rated])

        return Ratings(self.times, np.concatenate(self.subjects),
                       {s: joined(s) for s in self.scales},
                       {s: joined(f"{s}_baseline_true") for s in self.scales})


def rate_arm(model: Model, regimen: Regimen, population: Population, visit_times_h,
             scales: Sequence[str], *, grid_h=None, accumulators: Sequence[Accumulator] = (),
             progress: Callable[[int], None] | None = None) -> Ratings:
    """Simulate ``regimen`` in ``population`` and rate its patients on ``scales`` at
    ``visit_times_h`` (h), rated as the population's cohort is (seed: the population's).

    ``grid_h``: further output times (h) that ``accumulators`` (each ``add(chunk)``) see with
    the visits; ``progress`` gets the number of subjects done.
    """
    visits = Visits(visit_times_h, population.seed, population.rating, scales)
    times = visits.times if grid_h is None else np.union1d(grid_h, visits.times)
    accumulate(model, regimen, population, times, (visits, *accumulators), progress=progress)
    return visits.ratings()
