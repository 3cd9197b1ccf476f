"""An arm's clinical outcomes from its ratings: endpoints on every scale at the timepoints,
suicidal ideation, relapse and the course (:class:`ArmOutcomes`, written to summary.json)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ketasim.clinical.endpoints import (
    ASSESS_H,
    Course,
    Relapse,
    ScaleEndpoint,
    course,
    endpoints,
    relapse,
    time_columns,
)
from ketasim.clinical.scales import SCALE_NAMES, SCALES, rating, suicidal_ideation
from ketasim.clinical.visits import Ratings
from ketasim.dosing import Regimen
from ketasim.scenario.definition import Criteria


@dataclass(frozen=True)
class IdeationEndpoint:
    """Suicidal ideation on one measure (``scale``: its label) at one timepoint (h): mean
    score and mean change (points)."""

    timepoint_h: float
    scale: str
    mean_score: float
    mean_change: float


@dataclass(frozen=True)
class ArmOutcomes:
    """Endpoints (MADRS, HAM-D17, QIDS-SR16, then the cohort's indication scale), suicidal
    ideation (MADRS item 10, SSI), relapse and course (both on MADRS) of one arm."""

    endpoints: tuple[ScaleEndpoint, ...]
    suicidal_ideation: tuple[IdeationEndpoint, ...]
    relapse: Relapse | None  # None: the run ends before 24 h after the last dose
    course: Course | None    # None: no dose is followed for 24 h

    def on(self, scale: str) -> tuple[ScaleEndpoint, ...]:
        """The endpoints on ``scale`` (a scale name, e.g. ``madrs``), by timepoint."""
        return tuple(e for e in self.endpoints if e.scale == scale)

    def at(self, scale: str, timepoint_h: float) -> ScaleEndpoint:
        """The endpoint on ``scale`` at ``timepoint_h`` (h)."""
        (found,) = (e for e in self.on(scale) if e.timepoint_h == timepoint_h)
        return found

    def to_json(self) -> dict:
        """The summary.json keys of the arm's outcomes."""
        return {"endpoints": [e.to_json() for e in self.endpoints],
                "suicidal_ideation": [asdict(e) for e in self.suicidal_ideation],
                **({} if self.relapse is None else {"relapse": asdict(self.relapse)}),
                **({} if self.course is None else {"course": asdict(self.course)})}


def rated_scales(cohort: str) -> tuple[str, ...]:
    """The scales an arm of ``cohort`` is rated on: the depression scales and the cohort's own
    (always with the SSI)."""
    return (*SCALE_NAMES, *rating(cohort).own)


def arm_outcomes(ratings: Ratings, regimen: Regimen, timepoints_h: Sequence[float],
                 cohort: str, criteria: Criteria) -> ArmOutcomes:
    """The outcomes of ``ratings`` (on :func:`rated_scales`) at the positive ``timepoints_h``:
    the scenario's response fraction applies to the depression scales, its remission cut-off
    to MADRS (HAM-D17 and QIDS-SR16 use their own), the indication scale its own
    definitions."""
    r = rating(cohort)
    madrs = ratings.points("madrs")
    times = ratings.times_h
    timepoints = [t for t in timepoints_h if t > 0]
    definitions: dict[str, tuple[float | None, float | None]] = {
        name: (criteria.response_fraction, criteria.remission_max if name == "madrs" else None)
        for name in SCALE_NAMES}
    if r.primary is not None:
        definitions[r.primary] = (None, None)
    rows = tuple(row for name, (fraction, cut) in definitions.items() for row in endpoints(
        ratings.points(name), ratings.points(name)[:, 0], times, timepoints, scale=name,
        response_fraction=fraction, remission_max=cut))
    columns = time_columns(times, timepoints)
    ideation = (("MADRS item 10", suicidal_ideation(ratings.scores["madrs"])),
                (SCALES["ssi"].label, ratings.scores["ssi"]))
    # relapse and course are assessed 24 h after a dose: only doses the run follows that long
    assessed = sorted({d.time_h for d in regimen.doses if d.time_h + ASSESS_H <= times[-1]})
    followed = regimen.last_dose_h + ASSESS_H <= times[-1]
    return ArmOutcomes(
        rows,
        tuple(IdeationEndpoint(float(t), label, float(s[:, j].mean()),
                               float((s[:, j] - s[:, 0]).mean()))
              for label, s in ideation for t, j in zip(timepoints, columns, strict=True)),
        relapse(madrs, madrs[:, 0], times, regimen.last_dose_h,
                response_fraction=criteria.response_fraction) if followed else None,
        course(madrs, madrs[:, 0], times, assessed,
               response_fraction=criteria.response_fraction) if assessed else None)
