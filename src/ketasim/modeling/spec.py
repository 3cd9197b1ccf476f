"""The model language: states, parameters and equations, declared once.

A :class:`Model` is an immutable declaration. The compiled batch kernel
(:mod:`ketasim.modeling.kernel`), the SBML document (:mod:`ketasim.modeling.sbml`) and the
parameter table (:meth:`Model.parameter_table`) are all generated from it. Time is in hours,
amounts in mg, volumes in L; each parameter is declared in its published unit and converted once,
here, with pint.
"""

from __future__ import annotations

import hashlib
import keyword
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from ketasim.errors import KetasimError
from ketasim.modeling.expr import FUNCTIONS, Expr, parse
from ketasim.units import registry

#: Names a model may not declare: time, a dose's amount (in deposits), and the names of the
#: generated kernel's modules.
RESERVED = ("t", "dose_mg", "math", "np", "njit", "prange", *FUNCTIONS)


@dataclass(frozen=True)
class State:
    """A state variable: an amount (mg) or a level, with its initial value."""

    name: str
    unit: str
    initial: float = 0.0
    description: str = ""


@dataclass(frozen=True)
class Parameter:
    """A model constant with its published value, unit and source.

    ``cv`` is the coefficient of variation (fraction, e.g. 0.3) of log-normal inter-individual
    variability, with its own ``cv_source``; ``None`` means the parameter is the same for every
    subject. A source that starts with ``"assumption"`` marks a value without direct evidence,
    followed by its reason.
    """

    name: str
    value: float
    unit: str
    source: str
    cv: float | None = None
    cv_source: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not np.isfinite(self.value):
            raise KetasimError(f"parameter {self.name}: value must be finite, got {self.value}")
        if self.cv is not None and not 0 < self.cv <= 3:
            raise KetasimError(f"parameter {self.name}: cv must be in (0, 3], got {self.cv}")
        if not self.source.strip() or (self.cv is not None and not self.cv_source.strip()):
            raise KetasimError(f"parameter {self.name}: a source (citation or assumption) is "
                               "required for its value and for its cv")

    @property
    def assumptions(self) -> list[str]:
        """The assumption notes of the value and of its variability, if any."""
        return [f"{self.name}{what}: {src}" for what, src in
                (("", self.source), (" variability", self.cv_source))
                if src.lower().startswith("assumption")]

    @cached_property
    def model_value(self) -> tuple[float, str]:
        """The value and unit in the model's unit system (h, L, mg, kg)."""
        return to_model_units(self.value, self.unit, f"parameter {self.name}")

    @property
    def omega(self) -> float:
        """Standard deviation of the log-normal random effect: sqrt(log(1 + cv^2))."""
        return float(np.sqrt(np.log1p(self.cv**2))) if self.cv else 0.0


@dataclass(frozen=True)
class Covariate:
    """A per-subject characteristic read by the equations, e.g. ``weight_kg``.

    ``reference`` is the value of a typical subject, used where one subject is exported.
    """

    name: str
    unit: str
    reference: float
    description: str = ""


@dataclass(frozen=True)
class Deposit:
    """A share of a dose delivered to one state.

    ``fraction`` (of the dose, 0-1), ``lag_h`` (h) and ``duration_h`` (h; above 0 the share
    enters at a constant rate over that time, e.g. a zero-order swallowed part) are expressions
    of parameters, covariates, assignments of those alone, and ``dose_mg`` (the dose's
    amount, mg), evaluated per subject and dose. A dose given as an infusion uses its own
    duration instead. A ``per_dose`` deposit adds ``fraction`` units to its state at each
    administration (after the lag, at once), whatever the amount: e.g. one treatment session.
    """

    state: str
    fraction: str = "1"
    lag_h: str = "0"
    duration_h: str = "0"
    per_dose: bool = False


@dataclass(frozen=True)
class ResidualError:
    """Measurement error of an output, for simulated observations.

    ``kind`` "exponential": y = c * exp(sd * e) (additive on the log scale, as in
    log-transform-both-sides fits); "proportional": y = c * (1 + sd * e); e standard normal.
    """

    output: str
    kind: str
    sd: float
    source: str

    def __post_init__(self) -> None:
        if self.kind not in ("exponential", "proportional") or not 0 < self.sd < 5:
            raise KetasimError(f"residual error of {self.output}: kind must be exponential or "
                               f"proportional and 0 < sd < 5, got {self.kind!r}, {self.sd}")


@dataclass(frozen=True)
class Input:
    """Where a dose of ``substances`` by ``routes`` goes: one or more deposits."""

    substances: tuple[str, ...]
    routes: tuple[str, ...]
    deposits: tuple[Deposit, ...]

    def __post_init__(self) -> None:
        if not self.deposits:
            raise KetasimError(f"input {self.routes}: needs at least one deposit")


@dataclass(frozen=True)
class Model:
    """A model layer or a composition of layers.

    ``assignments`` are intermediate quantities, evaluated in order; ``odes`` give d(state)/dt
    per hour; ``outputs`` are algebraic observables, each with its unit in ``output_units``
    (e.g. ``ketamine_plasma_ng_ml``: ``ng/mL``; ``1`` for a fraction). ``ports`` are names
    that a downstream layer reads from an upstream one; :func:`compose` binds them. ``valid``
    gives the covariate ranges of the people the model was built on (simulating others is
    flagged, not refused).
    """

    name: str
    title: str
    reference: str
    states: tuple[State, ...]
    parameters: tuple[Parameter, ...]
    odes: Mapping[str, str]
    outputs: Mapping[str, str]
    output_units: Mapping[str, str] = field(default_factory=dict)
    covariates: tuple[Covariate, ...] = ()
    assignments: tuple[tuple[str, str], ...] = ()
    inputs: tuple[Input, ...] = ()
    ports: tuple[str, ...] = ()
    notes: str = ""
    valid: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    errors: tuple[ResidualError, ...] = ()
    correlations: Mapping[tuple[str, str], float] = field(default_factory=dict)
    _parsed: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._check()

    # -- structure -------------------------------------------------------------------------
    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def covariate_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.covariates)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.outputs)

    def expr(self, key: str) -> Expr:
        """The parsed expression of an ODE, output or assignment (``"ode:x"``, ...)."""
        return self._parsed[key]

    @cached_property
    def fingerprint(self) -> str:
        """A hash of everything that the compiled kernel depends on."""
        text = repr((self.state_names, self.parameter_names, self.covariate_names,
                     tuple(self.assignments), tuple(self.odes.items()),
                     tuple(self.outputs.items()), self.inputs))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def routes_for(self, substance: str) -> tuple[str, ...]:
        """Routes by which this model accepts ``substance`` (empty if it does not)."""
        return tuple(dict.fromkeys(r for i in self.inputs if substance in i.substances
                                   for r in i.routes))

    def eta_covariance(self) -> np.ndarray:
        """Covariance of the log-normal random effects, one row per parameter (0 for those
        without variability); correlations between random effects as declared."""
        omega = np.array([p.omega for p in self.parameters])
        corr = np.eye(len(omega))
        index = {n: i for i, n in enumerate(self.parameter_names)}
        for (a, b), r in self.correlations.items():
            corr[index[a], index[b]] = corr[index[b], index[a]] = r
        return corr * np.outer(omega, omega)

    @property
    def constant_assignments(self) -> tuple[str, ...]:
        """Assignments that depend on parameters and covariates only (per-subject constants)."""
        constants = {*self.parameter_names, *self.covariate_names}
        for a, _ in self.assignments:
            if self.expr(f"assign:{a}").names <= constants:
                constants.add(a)
        return tuple(a for a, _ in self.assignments if a in constants)

    @property
    def deposits(self) -> tuple[Deposit, ...]:
        """Every deposit of every input, in order (the kernel's numbering)."""
        return tuple(d for inp in self.inputs for d in inp.deposits)

    def deposits_for(self, substance: str, route: str) -> tuple[int, ...]:
        """Indices in :attr:`deposits` where a dose of ``substance`` by ``route`` goes (the
        deposits of every input that takes it)."""
        found: list[int] = []
        start = 0
        for inp in self.inputs:
            if substance in inp.substances and route in inp.routes:
                found.extend(range(start, start + len(inp.deposits)))
            start += len(inp.deposits)
        if found:
            return tuple(found)
        routes = self.routes_for(substance)
        if not routes:
            raise KetasimError(f"substance: model {self.name} does not take {substance!r}; it "
                               f"takes {sorted({s for i in self.inputs for s in i.substances})}")
        raise KetasimError(f"route: model {self.name} does not take {substance} by {route!r}; "
                           f"allowed: {', '.join(routes)}")

    # -- parameters ------------------------------------------------------------------------
    def parameter_table(self) -> pd.DataFrame:
        """Every parameter: name, published value and unit, model value and unit, IIV, source."""
        rows = [{"name": p.name, "value": p.value, "unit": p.unit,
                 "model_value": p.model_value[0], "model_unit": p.model_value[1],
                 "iiv_cv": p.cv, "source": p.source, "iiv_source": p.cv_source,
                 "description": p.description}
                for p in self.parameters]
        return pd.DataFrame(rows)

    def typical(self) -> Model:
        """A copy without inter-individual variability: every subject is the typical one."""
        return replace(self, parameters=tuple(replace(p, cv=None, cv_source="")
                                              for p in self.parameters))

    def with_parameters(self, **values: float) -> Model:
        """A copy with some parameter values replaced (in their declared units).

        A value must be finite and keep the sign of the published one (a rate, volume or gain
        cannot turn negative); a switch or fraction declared between 0 and 1 stays there.
        """
        unknown = set(values) - set(self.parameter_names)
        if unknown:
            raise KetasimError(f"parameters: unknown {sorted(unknown)}; "
                               f"allowed: {', '.join(self.parameter_names)}")
        for p in self.parameters:
            if p.name in values:
                v = values[p.name]
                fraction = p.unit in ("1", "dimensionless") and 0 <= p.value <= 1 and \
                    any(w in f"{p.description} {p.source}".lower()
                        for w in ("switch", "fraction", "0-1"))
                if not (isinstance(v, (int, float)) and np.isfinite(v)) or v * p.value < 0 \
                        or (fraction and not 0 <= v <= 1):
                    allowed = "0 to 1" if fraction else \
                        ("a number >= 0" if p.value >= 0 else "a number <= 0")
                    raise KetasimError(f"parameters.{p.name}: must be {allowed}, got {v!r}")
        params = tuple(replace(p, value=float(values[p.name]), source="user value")
                       if p.name in values else p for p in self.parameters)
        return replace(self, parameters=params)

    # -- checks ----------------------------------------------------------------------------
    def _check(self) -> None:
        where = f"model {self.name}"
        names = [*self.state_names, *self.parameter_names, *self.covariate_names,
                 *(a for a, _ in self.assignments), *self.outputs, *self.ports]
        seen = set()
        for n in names:
            if n in seen:
                raise KetasimError(f"{where}: name {n!r} is declared twice")
            if not n.isidentifier() or keyword.iskeyword(n) or n.startswith("_") \
                    or n in RESERVED:
                raise KetasimError(f"{where}: {n!r} is not a valid name (letters, digits and "
                                   f"underscores, not starting with _, not a Python keyword; not "
                                   f"{', '.join(RESERVED)})")
            seen.add(n)
        for state in self.states:
            if isinstance(state.initial, bool) or not isinstance(state.initial, (int, float)) \
                    or not math.isfinite(state.initial):
                raise KetasimError(f"{where}: state {state.name!r}: initial must be a finite "
                                   f"number, got {state.initial!r}")
        if set(self.odes) != set(self.state_names):
            raise KetasimError(f"{where}: every state needs exactly one ODE; states "
                               f"{sorted(self.state_names)}, ODEs {sorted(self.odes)}")
        constants = {*self.parameter_names, *self.covariate_names}
        known = {*constants, *self.state_names, *self.ports, "t"}
        for a, text in self.assignments:
            self._parse(f"assign:{a}", text, known)
            known.add(a)
            if self.expr(f"assign:{a}").names <= constants:
                constants.add(a)  # a per-subject constant: deposits may use it
        for s, text in self.odes.items():
            self._parse(f"ode:{s}", text, known)
        for o, text in self.outputs.items():
            self._parse(f"output:{o}", text, known)
        if set(self.output_units) != set(self.outputs):
            raise KetasimError(f"{where}: every output needs exactly one unit; outputs without "
                               f"one: {sorted(set(self.outputs) - set(self.output_units))}, "
                               f"units of no output: "
                               f"{sorted(set(self.output_units) - set(self.outputs))}")
        for (a, b), r in self.correlations.items():
            cvs = {p.name: p.cv for p in self.parameters}
            if not (cvs.get(a) and cvs.get(b) and a != b and -1 < r < 1):
                raise KetasimError(f"{where}: correlation {a}-{b}: both must be parameters with "
                                   f"variability and -1 < r < 1, got {r}")
        for e in self.errors:
            if e.output not in self.outputs:
                raise KetasimError(f"{where}: residual error for unknown output {e.output!r}")
        for k, dep in enumerate(self.deposits):
            if dep.state not in self.state_names:
                raise KetasimError(f"{where}: a deposit targets unknown state {dep.state!r}")
            for part in ("fraction", "lag_h", "duration_h"):
                self._parse(f"deposit:{k}:{part}", getattr(dep, part), {*constants, "dose_mg"})

    def _parse(self, key: str, text: str, known: set[str]) -> None:
        e = parse(text, f"model {self.name}, {key}")
        unknown = e.names - known
        if unknown:
            raise KetasimError(f"model {self.name}, {key}: unknown names {sorted(unknown)}")
        self._parsed[key] = e


#: Units of the model's unit system (pint parses them). A declared unit that is one of these
#: is kept; any other converts to the first of the same dimensionality. A ratio of masses
#: (e.g. ug/kg) becomes mg/kg; other dimensionless units become plain numbers. Effects per
#: concentration use mL/ng, which shares its dimensionality with L/kg: declare them so.
MODEL_UNITS = ("dimensionless", "1/h", "h", "L", "L/h", "L/kg", "L/h/kg", "mg", "kg", "ng/mL",
               "umol/L", "1/umol", "mmHg", "mL/ng", "mmHg*mL/ng", "mL/(ng*h)")


def to_model_units(value: float, unit: str, field: str) -> tuple[float, str]:
    """Convert ``value unit`` to the model unit of the same dimensionality."""
    ureg = registry()
    try:
        q = ureg.Quantity(value, unit)
    except Exception:  # pint raises several types for unreadable units
        raise KetasimError(f"{field}: cannot read unit {unit!r}") from None
    mass = ureg.Unit("kg").dimensionality
    if q.dimensionless and any(ureg.Unit(u).dimensionality == mass for u, _ in q.unit_items()):
        return float(q.to("mg/kg").magnitude), "mg/kg"
    for target in MODEL_UNITS:
        if q.units == ureg.Unit(target):
            return float(value), target
    for target in MODEL_UNITS:
        if q.dimensionality == ureg.Unit(target).dimensionality:
            return float(q.to(target).magnitude), target
    raise KetasimError(f"{field}: unit {unit!r} has no model unit; model units: "
                       f"{', '.join(MODEL_UNITS)}")


def compose(name: str, *layers: Model, links: Mapping[str, str], title: str = "") -> Model:
    """Join layers into one model, binding each downstream port to an upstream output.

    ``links`` maps a port name (declared by a later layer) to an output of an earlier layer;
    the port becomes an assignment equal to that output's expression.
    """
    ports = {p for layer in layers for p in layer.ports}
    outputs = {o: text for layer in layers for o, text in layer.outputs.items()}
    if set(links) != ports:
        raise KetasimError(f"compose {name}: links must bind every port exactly once; ports "
                           f"{sorted(ports)}, links {sorted(links)}")
    for port, output in links.items():
        if output not in outputs:
            raise KetasimError(f"compose {name}: link {port} -> {output!r}: no such output")
    covariates = tuple({c.name: c for layer in layers for c in layer.covariates}.values())
    assignments = []
    for layer in layers:
        assignments += [(p, outputs[links[p]]) for p in layer.ports]
        assignments += list(layer.assignments)
    return Model(
        name=name, title=title or " + ".join(layer.title for layer in layers),
        reference="; ".join(layer.reference for layer in layers),
        states=sum((layer.states for layer in layers), ()),
        parameters=sum((layer.parameters for layer in layers), ()),
        covariates=covariates, assignments=tuple(assignments),
        odes={k: v for layer in layers for k, v in layer.odes.items()}, outputs=outputs,
        output_units={o: u for layer in layers for o, u in layer.output_units.items()},
        inputs=sum((layer.inputs for layer in layers), ()),
        notes="\n".join(layer.notes for layer in layers if layer.notes),
        valid={k: v for layer in layers for k, v in layer.valid.items()},
        correlations={k: v for layer in layers for k, v in layer.correlations.items()},
        errors=sum((layer.errors for layer in layers), ()))
