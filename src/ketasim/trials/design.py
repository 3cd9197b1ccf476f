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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ketasim.errors import ScenarioError
from ketasim.units import parse_duration, parse_time

if TYPE_CHECKING:
    from ketasim.scenario.definition import Arm, Output

DESIGNS = ("parallel", "crossover", "randomized_withdrawal")


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


def trial_design(doc: Mapping[str, Any], arms: Sequence[Arm], out: Output) -> TrialDesign:
    """The design of a ``[trial]`` table ``doc`` (every key present, defaults filled in; keys,
    types and ranges are checked by the file schema), checked against the scenario's ``arms``
    and output ``out``; one-line errors name the key."""
    kind, washout_text, randomize_text = doc["design"], doc["washout"], doc["randomize"]
    labels = [arm.label for arm in arms]
    if kind not in DESIGNS:
        raise ScenarioError(f"trial.design: {kind!r} is not one of {', '.join(DESIGNS)}")
    control = labels[0] if doc["control"] is None else doc["control"]
    if control not in labels:
        raise ScenarioError(f"trial.control: {control!r} is not an arm; arms: "
                            f"{', '.join(labels)}")
    treated = tuple(label for label in labels if label != control)
    if not treated:
        raise ScenarioError(f"trial.design: a {kind} trial needs at least two arms, the "
                            f"scenario has one ({control!r})")
    if kind != "parallel" and len(labels) != 2:
        raise ScenarioError(f"trial.design: a {kind} trial compares exactly two arms, "
                            f"the scenario has {len(labels)}")
    later = [t for t in out.timepoints_h if t > 0]
    primary = parse_time(doc["primary"], "trial.primary") if doc["primary"] is not None else \
        max(later, default=out.end_h)
    if not 0 < primary <= out.end_h:
        raise ScenarioError(f"trial.primary: {primary:g} h must be after 0 h and at most "
                            f"output.end ({out.end_h:g} h)")
    washout = randomize = None
    if kind == "crossover":
        if washout_text is None:
            raise ScenarioError("trial.washout: a crossover needs a washout, e.g. '14 d'")
        washout = parse_duration(washout_text, "trial.washout")
        last = max(arm.regimen.last_dose_end_h for arm in arms)
        if washout <= max(primary, last):
            raise ScenarioError(f"trial.washout: {washout:g} h must be longer than period 1 "
                                f"(primary visit {primary:g} h, last dose {last:g} h)")
    elif washout_text is not None:
        raise ScenarioError("trial.washout: only a crossover takes a washout; remove it")
    if kind == "randomized_withdrawal":
        if randomize_text is None:
            raise ScenarioError("trial.randomize: a randomized withdrawal needs the time of "
                                "randomization, e.g. '28 d'")
        randomize = parse_time(randomize_text, "trial.randomize")
        if not 0 < randomize < out.end_h:
            raise ScenarioError(f"trial.randomize: {randomize:g} h must be after 0 h and before "
                                f"output.end ({out.end_h:g} h)")
        before = [tuple(d for d in arm.regimen.doses if d.time_h < randomize)
                  for arm in arms]
        if before[0] != before[1]:
            raise ScenarioError("trial.randomize: both arms must give the same doses before "
                                "randomization (the open-label phase)")
    elif randomize_text is not None:
        raise ScenarioError("trial.randomize: only a randomized withdrawal takes it; remove it")
    return TrialDesign(kind, control, treated, primary, doc["dropout_per_week"],
                       doc["alpha"], washout, randomize)
