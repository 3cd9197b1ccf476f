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

[[inputs]]
substances = ["racemic"]
routes = ["iv_bolus", "iv_infusion"]
state = "central"
```
Expressions go through the whitelisting parser of :mod:`ketasim.modeling.expr`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from ketasim.errors import KetasimError
from ketasim.modeling.spec import Covariate, Input, Model, Parameter, State


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _StateIn(_Strict):
    name: str
    unit: str
    initial: float = 0.0
    description: str = ""


class _ParameterIn(_Strict):
    name: str
    value: float
    unit: str
    source: str
    cv: float | None = None
    cv_source: str = ""
    description: str = ""


class _CovariateIn(_Strict):
    name: str
    unit: str
    reference: float
    description: str = ""


class _InputIn(_Strict):
    substances: list[str]
    routes: list[str]
    state: str
    bioavailability: str = "1"
    lag_h: str = "0"


class _ModelIn(_Strict):
    name: str
    title: str
    reference: str
    notes: str = ""
    states: list[_StateIn]
    parameters: list[_ParameterIn] = []
    covariates: list[_CovariateIn] = []
    assignments: dict[str, str] = {}
    odes: dict[str, str]
    outputs: dict[str, str]
    inputs: list[_InputIn] = []


def load_model_file(path: str | Path) -> Model:
    """Read a model declaration from a TOML file; errors are one line naming the key."""
    try:
        doc = tomllib.loads(Path(path).read_text())
        spec = _ModelIn.model_validate(doc)
    except FileNotFoundError:
        raise KetasimError(f"model: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise KetasimError(f"model: cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise KetasimError(f"{path}: not valid TOML: {str(error).splitlines()[0]}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "model"
        raise KetasimError(f"{path}: {where}: {first['msg']}".replace("\n", " ")) from None
    try:
        return Model(
            name=spec.name, title=spec.title, reference=spec.reference, notes=spec.notes,
            states=tuple(State(**s.model_dump()) for s in spec.states),
            parameters=tuple(Parameter(**p.model_dump()) for p in spec.parameters),
            covariates=tuple(Covariate(**c.model_dump()) for c in spec.covariates),
            assignments=tuple(spec.assignments.items()), odes=spec.odes, outputs=spec.outputs,
            inputs=tuple(Input(tuple(i.substances), tuple(i.routes), i.state,
                               i.bioavailability, i.lag_h) for i in spec.inputs))
    except KetasimError as error:
        raise KetasimError(f"{path}: {error}") from None
