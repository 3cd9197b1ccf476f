"""A trial design: the scenario file's ``[trial]`` table, checked against the scenario's arms.

    [trial]
    design = "parallel"        # parallel | crossover | randomized_withdrawal
    control = "placebo"        # label of the control arm (default: the first arm)
    primary = "24 h"           # primary visit (default: the last output timepoint)
    dropout_per_week = 0.05    # share of patients leaving each week (exponential), 0-0.9
    alpha = 0.05               # two-sided significance level
    washout = "14 d"           # crossover: period 2 starts this long after period 1
    randomize = "28 d"         # randomized withdrawal: responders at this visit are randomized

A dose-finding study is a parallel design with several dose arms against one control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ketasim.errors import ScenarioError
from ketasim.scenario import Scenario
from ketasim.units import parse_duration, parse_time

DESIGNS = ("parallel", "crossover", "randomized_withdrawal")


class _TrialIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    design: str = "parallel"
    control: str | None = None
    primary: Any = None
    dropout_per_week: Annotated[float, Field(ge=0, le=0.9)] = 0.0
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    washout: Any = None
    randomize: Any = None


@dataclass(frozen=True)
class TrialDesign:
    """A checked design. Times in hours; ``control`` and ``treated`` are arm labels."""

    design: str
    control: str
    treated: tuple[str, ...]
    primary_h: float
    dropout_per_week: float
    alpha: float
    washout_h: float | None = None
    randomize_h: float | None = None


def trial_design(table: dict, scenario: Scenario) -> TrialDesign:
    """The design of ``table`` (the parsed ``[trial]`` table) for ``scenario``; one-line errors
    name the key."""
    try:
        doc = _TrialIn.model_validate(table)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(f"trial.{key}: {first['msg']}, got {first['input']!r}") from None
    labels = [arm.label for arm in scenario.arms]
    if doc.design not in DESIGNS:
        raise ScenarioError(f"trial.design: {doc.design!r} is not one of {', '.join(DESIGNS)}")
    control = labels[0] if doc.control is None else doc.control
    if control not in labels:
        raise ScenarioError(f"trial.control: {control!r} is not an arm; arms: "
                            f"{', '.join(labels)}")
    treated = tuple(label for label in labels if label != control)
    if not treated:
        raise ScenarioError(f"trial.design: a {doc.design} trial needs at least two arms, the "
                            f"scenario has one ({control!r})")
    if doc.design != "parallel" and len(labels) != 2:
        raise ScenarioError(f"trial.design: a {doc.design} trial compares exactly two arms, "
                            f"the scenario has {len(labels)}")
    out = scenario.output
    later = [t for t in out.timepoints_h if t > 0]
    primary = parse_time(doc.primary, "trial.primary") if doc.primary is not None else \
        max(later, default=out.end_h)
    if not 0 < primary <= out.end_h:
        raise ScenarioError(f"trial.primary: {primary:g} h must be after 0 h and at most "
                            f"output.end ({out.end_h:g} h)")
    washout = randomize = None
    if doc.design == "crossover":
        if doc.washout is None:
            raise ScenarioError("trial.washout: a crossover needs a washout, e.g. '14 d'")
        washout = parse_duration(doc.washout, "trial.washout")
        last = max(arm.regimen.last_dose_end_h for arm in scenario.arms)
        if washout <= max(primary, last):
            raise ScenarioError(f"trial.washout: {washout:g} h must be longer than period 1 "
                                f"(primary visit {primary:g} h, last dose {last:g} h)")
    elif doc.washout is not None:
        raise ScenarioError("trial.washout: only a crossover takes a washout; remove it")
    if doc.design == "randomized_withdrawal":
        if doc.randomize is None:
            raise ScenarioError("trial.randomize: a randomized withdrawal needs the time of "
                                "randomization, e.g. '28 d'")
        randomize = parse_time(doc.randomize, "trial.randomize")
        if not 0 < randomize < out.end_h:
            raise ScenarioError(f"trial.randomize: {randomize:g} h must be after 0 h and before "
                                f"output.end ({out.end_h:g} h)")
        before = [tuple(d for d in arm.regimen.doses if d.time_h < randomize)
                  for arm in scenario.arms]
        if before[0] != before[1]:
            raise ScenarioError("trial.randomize: both arms must give the same doses before "
                                "randomization (the open-label phase)")
    elif doc.randomize is not None:
        raise ScenarioError("trial.randomize: only a randomized withdrawal takes it; remove it")
    return TrialDesign(doc.design, control, treated, primary, doc.dropout_per_week, doc.alpha,
                       washout, randomize)
