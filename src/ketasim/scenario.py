"""Scenario files (TOML): what to give, to whom, and which times to report.

Times in a scenario are measured from the start of each arm, t = 0 h, which is also where the
output time axis starts. Every error is one line that names the offending key, e.g.
``arms[1].doses[0].route`` or ``population.n``.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ketasim.errors import KetasimError, ScenarioError
from ketasim.modeling.spec import Model
from ketasim.models import DEFAULT_MODEL, MODEL_NAMES, get_model
from ketasim.population import COVARIATE_RANGES, Population
from ketasim.regimen import SUBSTANCES, Dose, Regimen, finite_number, renamed, schedule
from ketasim.units import parse_amount, parse_duration, parse_time, show
from ketasim.variants import variant_parameters

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

    response_fraction: float = 0.5
    remission_max: float = 10.0


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
    #: The ``[trial]`` table, its defaults filled in (read by ``ketasim trial``, see
    #: trials/design.py).
    trial: Mapping[str, Any] = field(default_factory=lambda: _TrialIn().model_dump())

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


# -- the file's structure (pydantic); values with units are read afterwards -----------------
class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _DoseIn(_Table):
    route: str
    amount: Any = None
    substance: str | None = None
    duration: Any = None
    at: Annotated[list[Any], Field(min_length=1)] | None = None
    start: Any = None
    every: Any = None
    count: int | None = None
    per_week: int | None = None
    weeks: int | None = None


_Doses = Annotated[list[_DoseIn], Field(min_length=1)]


class _ArmIn(_Table):
    label: _Text
    substance: str | None = None
    doses: _Doses


class _PopulationIn(_Table):
    """n, cohort, seed, a screening (MADRS range, excluded attributes), and any covariate or
    attribute of COVARIATE_RANGES fixed for everyone."""

    n: int
    cohort: str | None = None
    seed: int | None = None
    madrs_min: float | None = None
    madrs_max: float | None = None
    exclude: list[str] = []
    weight_kg: float | None = None
    age_y: float | None = None
    female: int | None = None
    asian: int | None = None
    japanese: int | None = None
    cyp3a_inhibitor: int | None = None
    cyp3a_inducer: int | None = None
    cyp2b6_inhibitor: int | None = None
    bipolar: int | None = None
    anxiety: int | None = None
    psychosis: int | None = None
    substance_use: int | None = None
    hypertension: int | None = None
    crp_mg_l: float | None = None


class _OutputIn(_Table):
    end: Any
    step: Any
    timepoints: list[Any] = []


class _EndpointsIn(_Table):
    response_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.5
    remission_max: Annotated[float, Field(ge=0, le=60)] = 10.0


class _TrialIn(_Table):
    """The ``[trial]`` table (its meaning and checks: ketasim/trials/design.py)."""

    design: str = "parallel"
    control: str | None = None
    primary: Any = None
    dropout_per_week: Annotated[float, Field(ge=0, le=0.9)] = 0.0
    alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05
    washout: Any = None
    randomize: Any = None


class _FileIn(_Table):
    name: _Text
    substance: str | None = None
    model: str | None = None
    doses: _Doses | None = None
    arms: Annotated[list[_ArmIn], Field(min_length=1)] | None = None
    population: _PopulationIn
    output: _OutputIn
    endpoints: _EndpointsIn = _EndpointsIn()
    variants: dict[str, Any] = {}
    trial: _TrialIn = _TrialIn()


_TABLES = {(): _FileIn, ("doses",): _DoseIn, ("arms",): _ArmIn, ("arms", "doses"): _DoseIn,
           ("population",): _PopulationIn, ("output",): _OutputIn, ("endpoints",): _EndpointsIn,
           ("trial",): _TrialIn}


#: Plainer wording for some pydantic error types.
_PROBLEMS = {"model_type": "expected a table of keys", "too_short": "must not be empty"}


def _where(loc: tuple) -> str:
    """Pydantic location ('arms', 1, 'doses', 0) -> 'arms[1].doses[0]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _one_line(error: ValidationError) -> str:
    """One pydantic error as 'key: problem' (a misspelt key first, as it explains the rest)."""
    errors = sorted(error.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first, loc = errors[0], errors[0]["loc"]
    if first["type"] == "extra_forbidden":
        allowed = list(_TABLES[tuple(p for p in loc[:-1] if isinstance(p, str))].model_fields)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problem = f"unknown key; {hint}allowed: {', '.join(allowed)}"
    elif first["type"] == "missing":
        problem = "required key is missing"
    else:
        problem = f"{_PROBLEMS.get(first['type'], first['msg'])}, got {show(first['input'])}"
    more = "" if len(errors) == 1 else \
        f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return f"{_where(loc) or 'scenario'}: {problem}{more}".replace("\n", " ")


# -- from file structure to Scenario ---------------------------------------------------------
def _times(dose: _DoseIn, path: str) -> tuple[float, ...]:
    """Dose times (h) from the dose's schedule keys; one dose at 0 h if it has none."""
    if all(value is None for value in (dose.at, dose.start, dose.every, dose.count,
                                       dose.per_week, dose.weeks)):
        return (0.0,)
    return schedule(
        at=None if dose.at is None else
        [parse_time(t, f"{path}.at[{k}]") for k, t in enumerate(dose.at)],
        start=None if dose.start is None else parse_time(dose.start, f"{path}.start"),
        every=None if dose.every is None else parse_duration(dose.every, f"{path}.every"),
        count=dose.count, per_week=dose.per_week, weeks=dose.weeks, field=path)


def _check_model(model_name: str, substance: str, route: str, fields: dict[str, str]) -> None:
    """Fail unless the model takes `substance` by `route`; name models that do."""
    routes = get_model(model_name).routes_for(substance)
    if route in routes:
        return
    others = [m for m in MODEL_NAMES if route in get_model(m).routes_for(substance)]
    field, takes = (fields["route"], f"takes {substance} only by {', '.join(routes)}") if routes \
        else (fields["substance"], f"does not take {substance}")
    raise ScenarioError(f"{field}: model {model_name!r} {takes}, so not {substance} by {route}; "
                        f"models that do: {', '.join(others) or 'none'}")


def _regimen(doses: list[_DoseIn], path: str, substance: tuple[str | None, str],
             model_name: str) -> Regimen:
    """The regimen of one arm; `substance` is the arm's default and the key that set it."""
    given: list[Dose] = []
    for i, dose in enumerate(doses):
        where = f"{path}doses[{i}]"
        name, name_key = (dose.substance, f"{where}.substance") if dose.substance is not None \
            else substance
        fields = {"substance": name_key, "route": f"{where}.route", "amount": f"{where}.amount",
                  "duration": f"{where}.duration"}
        if name is None:
            raise ScenarioError(f"{where}.substance: no substance given; set 'substance' (one of "
                                f"{', '.join(SUBSTANCES)}) on the dose, its arm or the file")
        amount, per_kg = (None, False) if dose.amount is None else \
            parse_amount(dose.amount, fields["amount"])
        duration = None if dose.duration is None else \
            parse_duration(dose.duration, fields["duration"])
        try:
            template = Dose(name, dose.route, amount, per_kg=per_kg, duration_h=duration)
        except ScenarioError as error:
            raise renamed(error, fields) from None
        _check_model(model_name, name, dose.route, fields)
        given.extend(Regimen.repeated(template, _times(dose, where)).doses)
    return Regimen(tuple(given))


def _default_model(doc: _FileIn) -> str:
    """The first built-in model that takes every dose of every arm; else the first that takes
    every substance (its check then names the routes it takes), else the default model."""
    arms = [(None, doc.doses)] if doc.doses is not None else \
        [(arm.substance, arm.doses) for arm in doc.arms or ()]
    wanted = {(dose.substance or arm_substance or doc.substance, dose.route)
              for arm_substance, doses in arms for dose in doses}
    for takes in (lambda model, substance, route: route in model.routes_for(substance),
                  lambda model, substance, route: bool(model.routes_for(substance))):
        for name in MODEL_NAMES:
            if all(takes(get_model(name), substance, route) for substance, route in wanted):
                return name
    return DEFAULT_MODEL


def _build(doc: _FileIn) -> Scenario:
    if (doc.doses is None) == (doc.arms is None):
        raise ScenarioError("doses, arms: give exactly one of 'doses' (a single arm) or "
                            "'[[arms]]' (several arms)")
    model = doc.model or _default_model(doc)
    get_model(model)  # an unknown name is a one-line error listing the known ones
    top = (doc.substance, "substance")
    if doc.doses is not None:
        arms = (Arm(doc.name, _regimen(doc.doses, "", top, model)),)
    else:
        arms = tuple(
            Arm(arm.label, _regimen(arm.doses, f"arms[{i}].", top if arm.substance is None
                                    else (arm.substance, f"arms[{i}].substance"), model))
            for i, arm in enumerate(doc.arms))
    people = doc.population
    settings = {key: getattr(people, key) for key in ("cohort", "seed", "madrs_min", "madrs_max")
                if key in people.model_fields_set}
    fixed = {key: getattr(people, key) for key in COVARIATE_RANGES
             if getattr(people, key) is not None}
    population = Population(n=people.n, fixed=fixed, exclude=tuple(people.exclude), **settings)
    out = doc.output
    output = Output(
        end_h=parse_duration(out.end, "output.end"),
        step_h=parse_duration(out.step, "output.step"),
        timepoints_h=tuple(parse_time(t, f"output.timepoints[{k}]")
                           for k, t in enumerate(out.timepoints)))
    criteria = Criteria(doc.endpoints.response_fraction, doc.endpoints.remission_max)
    parameters = variant_parameters(doc.variants, get_model(model).parameter_names, model) \
        if doc.variants else {}
    return Scenario(doc.name, model, arms, population, output, population.seed, criteria,
                    parameters, doc.trial.model_dump())


def parse_scenario(doc: dict, source: str = "<scenario>") -> Scenario:
    """A Scenario from a parsed TOML document; errors are one line, prefixed by `source`."""
    try:
        if not isinstance(doc, dict):
            raise ScenarioError(f"scenario: expected a table of keys, got {show(doc)}")
        try:
            structure = _FileIn.model_validate(doc)
        except ValidationError as error:
            raise ScenarioError(_one_line(error)) from None
        return _build(structure)
    except KetasimError as error:
        raise ScenarioError(f"{source}: {error}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a TOML scenario file."""
    try:
        with open(path, "rb") as file:
            doc = tomllib.load(file)
    except FileNotFoundError:
        raise ScenarioError(f"scenario file not found: {path}") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {str(error).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    model = doc.get("model")
    if isinstance(model, str) and model.endswith(".toml"):  # a model file beside the scenario
        doc["model"] = str(Path(path).parent / model)
    return parse_scenario(doc, source=str(path))
