"""Export a model declaration to SBML Level 3 Version 2 (python-libsbml).

States become parameters with rate rules (amounts in mg, time in h), assignments and outputs
become assignment rules, and every constant carries its source in its notes. Each state has an
input-rate parameter ``input_<state>`` (mg/h, 0 by default) that infusions switch on and off;
dose events for one subject may be added as SBML events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape

import libsbml

from ketasim.errors import KetasimError
from ketasim.modeling.spec import Model

#: One dose event for one subject: (time h, state name, kind, value); kind "bolus" adds value
#: (mg) to the state, kind "rate" adds value (mg/h) to its input rate.
Event = tuple[float, str, str, float]


def to_sbml(model: Model, values: Mapping[str, float] | None = None,
            events: Iterable[Event] = ()) -> str:
    """SBML text of ``model``; ``values`` overrides parameter values (model units) and the
    covariates' reference values."""
    values = dict(values or {})
    known = {*model.parameter_names, *model.covariate_names}
    if set(values) - known:
        raise KetasimError(f"sbml values: unknown names {sorted(set(values) - known)}")
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    _ok(m.setId(re.sub(r"\W", "_", model.name)))  # SBML ids: letters, digits, underscores
    m.setName(model.title)
    _notes(m, f"{model.title}. Reference: {model.reference}. Time in h, amounts in mg. "
              f"{model.notes}")
    c = m.createCompartment()
    _ok(c.setId("body"), c.setConstant(True), c.setSize(1.0))
    for p in model.parameters:
        _parameter(m, p.name, values.get(p.name, p.model_value[0]), True,
                   f"{p.model_value[1]}; source: {p.source}")
    for cov in model.covariates:
        _parameter(m, cov.name, values.get(cov.name, cov.reference), True, f"covariate, {cov.unit}")
    for s in model.states:
        _parameter(m, s.name, s.initial, False, f"state, {s.unit}. {s.description}")
        _parameter(m, f"input_{s.name}", 0.0, False, f"input rate into {s.name}, {s.unit}/h")
    for a, _ in model.assignments:
        _parameter(m, a, 0.0, False, "assignment")
        _rule(m.createAssignmentRule(), a, model.expr(f"assign:{a}").to_sbml())
    for o in model.output_names:
        _parameter(m, o, 0.0, False, "output")
        _rule(m.createAssignmentRule(), o, model.expr(f"output:{o}").to_sbml())
    for name in model.state_names:
        _rule(m.createRateRule(), name, f"{model.expr(f'ode:{name}').to_sbml()} + input_{name}")
    for k, (time, state, kind, value) in enumerate(events):
        _event(m, k, time, state if kind == "bolus" else f"input_{state}", value)
    return libsbml.writeSBMLToString(doc)


def _ok(*codes) -> None:
    for code in codes:
        if code not in (None, libsbml.LIBSBML_OPERATION_SUCCESS):
            raise KetasimError(f"sbml: libsbml refused an element "
                               f"({libsbml.OperationReturnValue_toString(code)})")


def _math(formula: str):
    ast = libsbml.parseL3Formula(formula)
    if ast is None:
        raise KetasimError(f"sbml: cannot write {formula!r}: {libsbml.getLastParseL3Error()}")
    return ast


def _notes(element, text: str) -> None:
    _ok(element.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p>'
                         "</body>"))


def _parameter(m, pid: str, value: float, constant: bool, note: str) -> None:
    p = m.createParameter()
    _ok(p.setId(pid), p.setValue(float(value)), p.setConstant(constant))
    _notes(p, note)


def _rule(rule, variable: str, formula: str) -> None:
    _ok(rule.setVariable(variable), rule.setMath(_math(formula)))


def _event(m, k: int, time: float, target: str, value: float) -> None:
    e = m.createEvent()
    _ok(e.setId(f"dose_{k}"), e.setUseValuesFromTriggerTime(True))
    trigger = e.createTrigger()
    _ok(trigger.setInitialValue(False), trigger.setPersistent(True),
        trigger.setMath(_math(f"time >= {float(time)!r}")))
    assignment = e.createEventAssignment()
    _ok(assignment.setVariable(target), assignment.setMath(_math(f"{target} + {float(value)!r}")))
