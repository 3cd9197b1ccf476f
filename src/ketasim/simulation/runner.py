"""Run a scenario: every arm through the engine, chunk by chunk, into small accumulators.

Each chunk of subjects goes to the exposure metrics, the kept time courses (outputs of the
first :data:`KEEP_SUBJECTS`, for bands, figures and the written time course), the safety
endpoints, the counts behind the
warnings and an optional sink (e.g. the Parquet writer); a model with ``depression_severity``
is rated at clinic visits on the way (:func:`ketasim.clinical.visits.rate_arm`). Memory stays
that of one chunk and the kept subjects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ketasim.analysis.nca import Exposure
from ketasim.clinical.outcomes import ArmOutcomes, arm_outcomes, rated_scales
from ketasim.clinical.safety import Contraindicated, Safety, SafetyPeaks, dose_warnings
from ketasim.clinical.visits import Ratings, rate_arm, visit_times
from ketasim.dosing import Regimen
from ketasim.errors import ScenarioError
from ketasim.modeling.spec import Model
from ketasim.models.mechanism.mood import SEVERITY
from ketasim.models.pk.analytes import plasma_analytes
from ketasim.population.cohorts import ATTRIBUTES
from ketasim.scenario.definition import Arm, Scenario
from ketasim.simulation.engine import CHUNK_BYTES, MEMORY_BYTES, accumulate

#: Subjects whose time courses (outputs) are kept per arm by default; percentile bands and
#: figures come from them, summary metrics from every subject.
KEEP_SUBJECTS = 200

Sink = Callable[[str, xr.Dataset], None]


@dataclass(frozen=True)
class ArmResult:
    """One arm: its exposure per subject, the kept time courses, its warnings and, for a
    mechanism model, its clinical outcomes, its patients' ratings and safety endpoints.

    ``exposure[analyte][metric]`` holds one value per subject of the whole population;
    ``data`` holds the outputs (float32) and covariates of the first ``keep_subjects`` subjects
    (all of them when n is small).
    """

    label: str
    regimen: Regimen
    n: int
    data: xr.Dataset
    exposure: dict[str, dict[str, np.ndarray]]
    warnings: tuple[str, ...]
    outcomes: ArmOutcomes | None = None
    safety: Safety | None = None
    ratings: Ratings | None = None

    @property
    def last_dose_h(self) -> float:
        """Start of the arm's last dose (h)."""
        return self.regimen.last_dose_h


class OnGrid:
    """Passes each chunk, at the output grid ``times_h`` only, to ``targets``."""

    def __init__(self, times_h: np.ndarray, *targets) -> None:
        self.times, self.targets = times_h, targets

    def add(self, chunk: xr.Dataset) -> None:
        on_grid = chunk.sel(time=self.times)
        for target in self.targets:
            target.add(on_grid)


class Kept:
    """The first ``limit`` subjects' outputs (float32: a figure or a file loses nothing),
    parameters and covariates, copied out of the chunk so that the chunk itself is freed."""

    def __init__(self, model: Model, limit: int) -> None:
        self.states, self.outputs = model.state_names, model.output_names
        self.limit = limit
        self.parts: list[xr.Dataset] = []

    def add(self, chunk: xr.Dataset) -> None:
        room = self.limit - sum(c.sizes["subject"] for c in self.parts)
        if room > 0 or not self.parts:  # an empty first part keeps the time axis
            part = chunk.drop_vars(self.states).isel(subject=slice(0, max(room, 0)))
            self.parts.append(part.assign({o: part[o].astype(np.float32)
                                           for o in self.outputs}))

    def data(self) -> xr.Dataset:
        return self.parts[0] if len(self.parts) == 1 else xr.concat(self.parts, dim="subject")


class Column:
    """One per-subject variable (e.g. ``weight_kg``) of every subject."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts: list[np.ndarray] = []

    def add(self, chunk: xr.Dataset) -> None:
        self.parts.append(chunk[self.name].to_numpy())

    def values(self) -> np.ndarray:
        return np.concatenate(self.parts)


class OutsideModel:
    """Counts the values of each covariate outside the range the model was built on."""

    def __init__(self, model: Model) -> None:
        self.valid = model.valid
        self.counts = dict.fromkeys(model.valid, 0)

    def add(self, chunk: xr.Dataset) -> None:
        for name, (lo, hi) in self.valid.items():
            values = chunk[name].to_numpy()
            self.counts[name] += int(((values < lo) | (values > hi)).sum())

    def warnings(self, model_name: str, n: int) -> tuple[str, ...]:
        return tuple(f"{count} of {n} subjects have {name} outside {self.valid[name][0]:g}-"
                     f"{self.valid[name][1]:g}, the population model {model_name} was built "
                     "on; simulated anyway" for name, count in self.counts.items() if count)


class ToSink:
    """Gives each chunk to ``sink(label, chunk)``."""

    def __init__(self, sink: Sink, label: str) -> None:
        self.sink, self.label = sink, label

    def add(self, chunk: xr.Dataset) -> None:
        self.sink(self.label, chunk)


#: Memory held per simulated patient beyond the kept time courses, bytes: 14 MB per 1,000
#: patients for the whole chain with visit outputs (benchmarks/results.md, linear fit of
#: n = 5,000 and 20,000), rounded up.
PER_SUBJECT_BYTES = 16_000


def check_memory(scenario: Scenario, model: Model, keep_subjects: int = KEEP_SUBJECTS) -> None:
    """Refuse up front, naming the field to change, a run whose estimated peak memory exceeds
    :data:`~ketasim.simulation.engine.MEMORY_BYTES`: one chunk of subjects on the output grid
    (at least one subject's states and outputs), twice, the kept time courses (float32) and
    :data:`PER_SUBJECT_BYTES` per patient."""
    times = scenario.output.times().size
    n = scenario.population.n
    one = times * (len(model.states) + len(model.outputs)) * 8
    # a chunk is held twice: the solver's arrays and their selection on the output grid
    parts = {"output.step": 2 * max(one, CHUNK_BYTES) + min(n, keep_subjects) * times
             * len(model.outputs) * 4,
             "population.n": n * len(scenario.arms) * PER_SUBJECT_BYTES}
    total = sum(parts.values())
    if total > MEMORY_BYTES:
        field = max(parts, key=lambda k: parts[k])
        what = (f"{times:,} output times (output.end {scenario.output.end_h:g} h every "
                f"{scenario.output.step_h:g} h)" if field == "output.step"
                else f"{n:,} patients x {len(scenario.arms)} arms")
        raise ScenarioError(f"{field}: {what} would need about {total / 2**30:.1f} GiB, more "
                            f"than the {MEMORY_BYTES / 2**30:.0f} GiB a run may use; use "
                            + ("a coarser output.step or a shorter output.end"
                               if field == "output.step" else "fewer patients (population.n)"))


def run_scenario(scenario: Scenario, progress: Callable[[int], None] | None = None,
                 sink: Sink | None = None, keep_subjects: int = KEEP_SUBJECTS
                 ) -> list[ArmResult]:
    """Simulate every arm of ``scenario`` on the same virtual patients (same seed).

    ``progress`` gets the number of subjects done in the current arm; ``sink(label, chunk)``
    gets every chunk of simulated subjects at the output grid; ``keep_subjects``: how many
    subjects' time courses each ArmResult holds.
    """
    model = scenario.resolved_model()
    check_memory(scenario, model, keep_subjects)
    return [_run_arm(scenario, model, arm, progress, sink, keep_subjects)
            for arm in scenario.arms]


def _run_arm(scenario: Scenario, model: Model, arm: Arm,
             progress: Callable[[int], None] | None, sink: Sink | None,
             keep_subjects: int) -> ArmResult:
    out, population = scenario.output, scenario.population
    times = out.times()
    exposure = Exposure(plasma_analytes(model))
    kept, outside, weights = Kept(model, keep_subjects), OutsideModel(model), Column("weight_kg")
    on_grid = OnGrid(times, *([ToSink(sink, arm.label)] if sink else []), exposure, kept,
                     outside, weights)
    safety, affected = SafetyPeaks(model.outputs), Contraindicated()
    outcomes, ratings = None, None
    if SEVERITY in model.outputs:
        ratings = rate_arm(model, arm.regimen, population,
                           visit_times(arm.regimen, out.timepoints_h, out.end_h),
                           rated_scales(population.cohort), grid_h=times,
                           accumulators=(on_grid, safety, affected), progress=progress)
        outcomes = arm_outcomes(ratings, arm.regimen, out.timepoints_h, population.cohort,
                                scenario.criteria)
    else:
        accumulate(model, arm.regimen, population, times, (on_grid, safety, affected),
                   progress=progress)
    notes = dose_warnings(arm.regimen, weights.values())
    notes += tuple(f"population.{name} is set but model {model.name} does not use it "
                   "(no data for its effect); ignored"
                   for name in population.fixed
                   if name not in (*model.covariate_names, *model.valid, "weight_kg",
                                   *ATTRIBUTES))
    notes += outside.warnings(model.name, population.n)
    notes += affected.warnings(arm.regimen, population.n)
    return ArmResult(arm.label, arm.regimen, population.n, kept.data(), exposure.result(),
                     notes, outcomes, safety.result(), ratings)
