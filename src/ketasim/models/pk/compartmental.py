"""Linear mammillary PK models (1-3 compartments, optional first-order absorption depot).

Amounts are in mg and time in h. The equations are written with micro-constants
``k10, k12, k21, k13, k31`` (1/h) and central volume ``V1`` (L); a model defines these names as
parameters or as assignments (e.g. clearances scaled by weight).
"""

from __future__ import annotations

from ketasim.modeling.spec import Covariate, Input, Model, Parameter, State

WEIGHT = Covariate("weight_kg", "kg", 70.0, "total body weight")


def mammillary(name: str, title: str, reference: str, parameters: tuple[Parameter, ...], *,
               compartments: int, inputs: tuple[Input, ...], depot: bool = False,
               assignments: tuple[tuple[str, str], ...] = (),
               covariates: tuple[Covariate, ...] = (WEIGHT,), drug: str = "ketamine",
               notes: str = "", valid: dict[str, tuple[float, float]] | None = None) -> Model:
    """A ``compartments``-compartment model of ``drug`` with its plasma output in ng/mL."""
    if compartments not in (1, 2, 3):
        raise ValueError("compartments must be 1, 2 or 3")
    peripheral = [("peripheral1", "k12", "k21"), ("peripheral2", "k13", "k31")][:compartments - 1]
    states = [State("central", "mg", description=f"{drug} in the central compartment")]
    central = "-k10 * central"
    odes = {}
    for state, k_out, k_in in peripheral:
        states.append(State(state, "mg", description=f"{drug} in {state}"))
        central += f" - {k_out} * central + {k_in} * {state}"
        odes[state] = f"{k_out} * central - {k_in} * {state}"
    if depot:
        states.insert(0, State("depot", "mg", description="absorption depot"))
        odes["depot"] = "-ka * depot"
        central += " + ka * depot"
    odes["central"] = central
    return Model(
        name=name, title=title, reference=reference, states=tuple(states),
        parameters=parameters, covariates=covariates, assignments=assignments, odes=odes,
        outputs={f"{drug}_plasma_ng_ml": "central / V1 * 1000"},
        output_units={f"{drug}_plasma_ng_ml": "ng/mL"},
        inputs=inputs, notes=notes, valid=valid or {})
