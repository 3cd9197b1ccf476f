"""Scenario files (TOML): their structure (pydantic), read into a
:class:`~ketasim.scenario.definition.Scenario`.

Every error is one line that names the offending key, e.g. ``arms[1].doses[0].route`` or
``population.n``.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ketasim.dosing import SUBSTANCES, Dose, Regimen, check_dose_count, renamed, schedule
from ketasim.errors import KetasimError, ScenarioError
from ketasim.models import DEFAULT_MODEL, MODEL_NAMES, get_model
from ketasim.models.mechanism import MECHANISM
from ketasim.population.cohorts import COVARIATE_RANGES, HEALTHY_COHORTS
from ketasim.population.sampling import Population
from ketasim.scenario.definition import Arm, Criteria, Output, Scenario
from ketasim.scenario.variants import variant_parameters
from ketasim.trials.design import trial_design
from ketasim.units import parse_amount, parse_duration, parse_time, show


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
    """n, cohort, seed, a screening (MADRS range, excluded attributes), the trial's recorded
    baseline MADRS (mean, SD) and demographics (mean age, share female), and any covariate or
    attribute of COVARIATE_RANGES fixed for everyone."""

    n: int
    cohort: str | None = None
    seed: int | None = None
    madrs_min: float | None = None
    madrs_max: float | None = None
    baseline_mean: float | None = None
    baseline_sd: float | None = None
    age_mean: float | None = None
    female_share: float | None = None
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


#: The ``[trial]`` table's defaults: the design of ``ketasim trial`` on a scenario without one.
TRIAL_DEFAULTS: dict[str, Any] = _TrialIn().model_dump()


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
    trial: _TrialIn | None = None


_TABLES: dict[tuple[str, ...], type[BaseModel]] = {
    (): _FileIn, ("doses",): _DoseIn, ("arms",): _ArmIn, ("arms", "doses"): _DoseIn,
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
    if dose.at is not None:  # before parsing each of its times
        check_dose_count(len(dose.at), f"{path}.at")
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
    """The first built-in model that takes every dose of every arm, a whole-chain
    (``+mechanism``) model first for a patient cohort (any but ``healthy``); else the first that
    takes every substance (its check then names the routes it takes), else the default
    model."""
    arms = [(None, doc.doses)] if doc.doses is not None else \
        [(arm.substance, arm.doses) for arm in doc.arms or ()]
    wanted = {(dose.substance or arm_substance or doc.substance, dose.route)
              for arm_substance, doses in arms for dose in doses}
    patients = (doc.population.cohort or Population.cohort) not in HEALTHY_COHORTS
    for takes in (lambda model, substance, route: route in model.routes_for(substance),
                  lambda model, substance, route: bool(model.routes_for(substance))):
        for name in sorted(MODEL_NAMES, key=lambda m: patients and not m.endswith(MECHANISM)):
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
    arms: tuple[Arm, ...]
    if doc.doses is not None:
        arms = (Arm(doc.name, _regimen(doc.doses, "", top, model)),)
    else:  # exactly one of doses and arms is given (checked above): arms is not None
        arms = tuple(
            Arm(arm.label, _regimen(arm.doses, f"arms[{i}].", top if arm.substance is None
                                    else (arm.substance, f"arms[{i}].substance"), model))
            for i, arm in enumerate(cast(list[_ArmIn], doc.arms)))
    people = doc.population
    settings = {key: getattr(people, key) for key in ("cohort", "seed", "madrs_min", "madrs_max",
                                                      "baseline_mean", "baseline_sd", "age_mean",
                                                      "female_share")
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
    design = None if doc.trial is None else trial_design(doc.trial.model_dump(), arms, output)
    return Scenario(doc.name, model, arms, population, output, population.seed, criteria,
                    parameters, design)


def parse_scenario(doc: dict, source: str | None = "<scenario>") -> Scenario:
    """A Scenario from a parsed TOML document; errors are one line, prefixed by `source`
    (unless None)."""
    try:
        if not isinstance(doc, dict):
            raise ScenarioError(f"scenario: expected a table of keys, got {show(doc)}")
        try:
            structure = _FileIn.model_validate(doc)
        except ValidationError as error:
            raise ScenarioError(_one_line(error)) from None
        except RecursionError:
            raise ScenarioError("scenario: values nested too deeply") from None
        return _build(structure)
    except KetasimError as error:
        raise ScenarioError(str(error) if source is None else f"{source}: {error}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a TOML scenario file."""
    try:
        with open(path, "rb") as file:
            doc = tomllib.load(file)
    except FileNotFoundError:
        raise ScenarioError(f"scenario file not found: {path}") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
    except RecursionError:
        raise KetasimError(f"{path}: not valid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {str(error).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    model = doc.get("model")
    if isinstance(model, str) and model.endswith(".toml"):  # a model file beside the scenario
        doc["model"] = str(Path(path).parent / model)
    return parse_scenario(doc, source=str(path))
