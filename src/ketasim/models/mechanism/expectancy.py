"""Placebo and expectancy: every treatment session raises the expectation of getting better.

Each dose is a session that adds ``belief_<kind>`` to the expectancy E, which fades:

    dE/dt = -ln 2 / t12_expectancy * E,
    expectancy effect = w_expectancy * (1 - exp(-E))   (lowers log-severity; mood layer).

How much a session adds depends on what the patient feels, which is why active placebos and
masked designs shrink the drug-placebo gap: ketamine and midazolam are felt (belief 1, the
reference), inert saline, sprays and pills much less (``belief_placebo``, fitted). A masked
design (e.g. infusion under anaesthesia) gives the placebo arm the same belief as the drug arm
(the ``masked`` variant). Oral antidepressants count as placebo-like sessions (a daily pill).
"""

from __future__ import annotations

from collections.abc import Mapping

from ketasim.dosing import ROUTES
from ketasim.modeling.spec import Deposit, Input, Model, Parameter, State
from ketasim.models.mechanism.mood import CV, CV_SOURCE, FIT

PARAMETERS = (
    Parameter("w_expectancy", 0.4866, "1", f"{FIT}; start 0.4", cv=CV, cv_source=CV_SOURCE,
              description="largest fall of log-severity from expectancy"),
    Parameter("belief_active", 1.0, "1",
              "assumption (reference): a felt session (ketamine, or midazolam as the active "
              "placebo chosen to mimic it); a midazolam-controlled contrast then measures the "
              "drug effect, as such trials assume (Murrough 2013 Am J Psychiatry)",
              description="expectancy added by a ketamine or midazolam session"),
    Parameter("belief_placebo", 0.2976, "1", f"{FIT}; start 0.3",
              description="expectancy added by an inert placebo or pill session"),
    Parameter("t12_expectancy", 21.0, "d",
              "assumption: the masked saline arm of Lii 2023 (Nat Ment Health 1:876) kept its "
              "24-h improvement to day 14 (MADRS 16.4 -> 16.2), so expectancy fades over weeks",
              description="half-life of expectancy"),
)


def expectancy(felt: Mapping[str, tuple[str, ...]]) -> Model:
    """The expectancy layer. ``felt`` maps each felt substance to the routes it is taken by
    (the PK model's ketamine routes, and midazolam's); placebo takes every route; oral SSRIs
    and SNRIs count as placebo-like sessions."""
    session = Deposit("expectancy", "belief_active", per_dose=True)
    inert = Deposit("expectancy", "belief_placebo", per_dose=True)
    return Model(
        name="expectancy", title="placebo and expectancy",
        reference="docs/models/mechanism.md (placebo and expectancy)",
        states=(State("expectancy", "1", description="expectancy from treatment sessions"),),
        parameters=PARAMETERS,
        odes={"expectancy": "-log(2) / t12_expectancy * expectancy"},
        outputs={"expectancy_effect": "w_expectancy * (1 - exp(-expectancy))"},
        output_units={"expectancy_effect": "1"},
        inputs=(*(Input((s,), routes, (session,)) for s, routes in felt.items()),
                Input(("placebo",), ROUTES, (inert,)),
                Input(("ssri", "snri"), ("oral",), (inert,))))
