"""Models declared in TOML files by users: the same declaration as in code.

```toml
name = "one_compartment"
title = "One-compartment IV model"
reference = "a textbook"

[[states]]
name = "central"
unit = "mg"

[[parameters]]
name = "CL"
value = 80
unit = "L/h"
source = "Kamp 2020 meta-analysis"
cv = 0.3
cv_source = "assumption: typical clearance variability"

[[covariates]]
name = "weight_kg"
unit = "kg"
reference = 70

[assignments]                    # evaluated in order
V = "3.6 * weight_kg"

[odes]
central = "-CL / V * central"

[outputs]
ketamine_plasma_ng_ml = "central / V * 1000"

[output_units]                   # one per output
ketamine_plasma_ng_ml = "ng/mL"

[[inputs]]                       # where doses go; a deposit may also set fraction (of the
substances = ["racemic"]         # dose), lag_h and duration_h (zero-order input), as
routes = ["iv_bolus", "iv_infusion"]   # expressions that may use dose_mg
deposits = [{ state = "central" }]
```
Expressions go through the whitelisting parser of :mod:`ketasim.modeling.expr`.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ketasim.errors import KetasimError
from ketasim.modeling.spec import Covariate, Deposit, Input, Model, Parameter, State


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _schema(cls: type) -> type[BaseModel]:
    """A strict pydantic schema with the init fields of the dataclass ``cls`` (tuples read
    from TOML arrays)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, typing.Any] = {}
    for f in dataclasses.fields(cls):
        if f.init:
            kind = hints[f.name]
            if typing.get_origin(kind) is tuple:  # list[item] (mypy reads list[...] as a type)
                kind = types.GenericAlias(list, typing.get_args(kind)[0])
            fields[f.name] = (kind, ... if f.default is dataclasses.MISSING else f.default)
    return create_model(f"{cls.__name__}File", __base__=_Strict, **fields)


def _build(cls: type, item: BaseModel):
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in item})


if typing.TYPE_CHECKING:  # made at run time, so mypy knows them only as _Strict models
    _State: typing.TypeAlias = _Strict
    _Parameter: typing.TypeAlias = _Strict
    _Covariate: typing.TypeAlias = _Strict
    _Deposit: typing.TypeAlias = _Strict
else:
    _State, _Parameter, _Covariate, _Deposit = map(_schema, (State, Parameter, Covariate, Deposit))


class _Input(_Strict):
    substances: list[str]
    routes: list[str]
    deposits: list[_Deposit]


class _ModelIn(_Strict):
    name: str
    title: str
    reference: str
    notes: str = ""
    states: list[_State]
    parameters: list[_Parameter] = []
    covariates: list[_Covariate] = []
    assignments: dict[str, str] = {}
    odes: dict[str, str]
    outputs: dict[str, str]
    output_units: dict[str, str]
    inputs: list[_Input] = []
    valid: dict[str, tuple[float, float]] = {}


def load_model_file(path: str | Path) -> Model:
    """Read a model declaration from a TOML file; errors are one line naming the key."""
    try:
        doc = tomllib.loads(Path(path).read_text())
        spec = _ModelIn.model_validate(doc)
    except FileNotFoundError:
        raise KetasimError(f"model: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise KetasimError(f"model: cannot read {path}: {error}") from None
    except RecursionError:
        raise KetasimError(f"{path}: not valid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as error:
        raise KetasimError(f"{path}: not valid TOML: {str(error).splitlines()[0]}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "model"
        raise KetasimError(f"{path}: {where}: {first['msg']}".replace("\n", " ")) from None
    try:
        return Model(
            name=spec.name, title=spec.title, reference=spec.reference, notes=spec.notes,
            states=tuple(_build(State, s) for s in spec.states),
            parameters=tuple(_build(Parameter, p) for p in spec.parameters),
            covariates=tuple(_build(Covariate, c) for c in spec.covariates),
            assignments=tuple(spec.assignments.items()), odes=spec.odes, outputs=spec.outputs,
            output_units=spec.output_units, inputs=tuple(Input(tuple(i.substances), tuple(i.routes),
                               tuple(_build(Deposit, d) for d in i.deposits))
                         for i in spec.inputs), valid=spec.valid)
    except KetasimError as error:
        raise KetasimError(f"{path}: {error}") from None
