"""A scenario: arms (what to give), a population (to whom), outputs (which times to report),
the response criteria, the variants' parameter values and an optional trial design.

Times in a scenario are measured from the start of each arm, t = 0 h, which is also where the
output time axis starts. Files are read by :mod:`ketasim.scenario.files`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ketasim.clinical.endpoints import REMISSION_MAX, RESPONSE_FRACTION
from ketasim.dosing import Regimen, finite_number
from ketasim.errors import ScenarioError
from ketasim.modeling.spec import Model
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.trials.design import TrialDesign
from ketasim.units import show

MAX_TIMEPOINTS = 1_000_000


@dataclass(frozen=True)
class Arm:
    """One treatment arm: a label and what its patients receive."""

    label: str
    regimen: Regimen

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label.strip():
            raise ScenarioError(f"label: must be a non-empty text, got {show(self.label)}")
        if not isinstance(self.regimen, Regimen):
            raise ScenarioError(f"regimen: expected a Regimen, got {show(self.regimen)}")


@dataclass(frozen=True)
class Output:
    """Report times: every `step_h` hours from 0 to `end_h` (h), plus `timepoints_h` (h)."""

    end_h: float
    step_h: float
    timepoints_h: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        end = finite_number(self.end_h, "output.end")
        step = finite_number(self.step_h, "output.step")
        if end <= 0:
            raise ScenarioError(f"output.end: must be after 0 h, got {end:g} h")
        if not 0 < step <= end:
            raise ScenarioError(f"output.step: must be more than 0 h and at most output.end "
                                f"({end:g} h), got {step:g} h")
        if end / step > MAX_TIMEPOINTS:
            raise ScenarioError(f"output.step: {step:g} h gives more than {MAX_TIMEPOINTS:,} time "
                                f"points up to output.end ({end:g} h); use a larger step")
        if not isinstance(self.timepoints_h, (tuple, list)):
            raise ScenarioError(
                f"output.timepoints: expected a list, got {show(self.timepoints_h)}")
        timepoints = tuple(finite_number(t, f"output.timepoints[{k}]")
                           for k, t in enumerate(self.timepoints_h))
        for k, t in enumerate(timepoints):
            if not 0 <= t <= end:
                raise ScenarioError(f"output.timepoints[{k}]: {t:g} h is outside 0 h to "
                                    f"output.end ({end:g} h)")
        object.__setattr__(self, "end_h", end)
        object.__setattr__(self, "step_h", step)
        object.__setattr__(self, "timepoints_h", timepoints)

    def times(self) -> np.ndarray:
        """Sorted unique times (h): the grid k*step up to end, end itself, and the timepoints.

        A timepoint or `end` within 1e-9 step of a grid point replaces it, so each is present
        exactly and never doubled by rounding.
        """
        n = int(np.floor(self.end_h / self.step_h + 1e-9))
        grid = np.arange(n + 1) * self.step_h
        extra = np.array((*self.timepoints_h, self.end_h))
        k = np.rint(extra / self.step_h).astype(int)
        on_grid = (k <= n) & (np.abs(k * self.step_h - extra) <= 1e-9 * self.step_h)
        grid[k[on_grid]] = extra[on_grid]
        return np.unique(np.concatenate([grid, extra]))


@dataclass(frozen=True)
class Criteria:
    """Response: a fall of at least `response_fraction` of the baseline score; remission: a
    MADRS of at most `remission_max` (the common definitions, e.g. Murrough 2013)."""

    response_fraction: float = RESPONSE_FRACTION
    remission_max: float = REMISSION_MAX


@dataclass(frozen=True)
class Scenario:
    """Arms sharing one model, population and output; `seed` (from the population) seeds draws."""

    name: str
    model: str
    arms: tuple[Arm, ...]
    population: Population
    output: Output
    seed: int
    criteria: Criteria = Criteria()
    parameters: Mapping[str, float] = field(default_factory=dict)
    #: The ``[trial]`` table's design (read by ``ketasim trial``); None when there is none.
    trial: TrialDesign | None = None

    def resolved_model(self) -> Model:
        """The scenario's model with its variants' parameter values applied."""
        return get_model(self.model).with_parameters(**self.parameters)

    def __post_init__(self) -> None:
        if not isinstance(self.model, str):
            raise ScenarioError(f"model: expected a model name, got {show(self.model)}")
        get_model(self.model)
        if not isinstance(self.population, Population) or not isinstance(self.output, Output):
            raise ScenarioError("scenario: population must be a Population and output an Output")
        labels: dict[str, int] = {}
        for i, arm in enumerate(self.arms):
            if not isinstance(arm, Arm):
                raise ScenarioError(f"arms[{i}]: expected an Arm, got {show(arm)}")
            if arm.label in labels:
                raise ScenarioError(f"arms[{i}].label: {arm.label!r} is already the label of "
                                    f"arms[{labels[arm.label]}]; labels must differ")
            labels[arm.label] = i
            if arm.regimen.last_dose_end_h > self.output.end_h:
                raise ScenarioError(
                    f"output.end: {self.output.end_h:g} h is before the last dose of arm "
                    f"{arm.label!r} ends ({arm.regimen.last_dose_end_h:g} h); set a later end")
        if not labels:
            raise ScenarioError("arms: a scenario needs at least one arm")
