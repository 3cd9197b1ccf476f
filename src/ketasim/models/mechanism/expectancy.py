"""Placebo and expectancy: every treatment session raises the expectation of getting better.

Each dose is a session that adds ``belief_<kind>`` to the expectancy E and 1 to the count of
recent sessions S; both fade with the same half-life:

    dE/dt = -ln 2 / t12_expectancy * E,   dS/dt = -ln 2 / t12_expectancy * S,
    expectancy effect = w_expectancy * (1 - exp(-E / (1 + S)))   (lowers log-severity).

E / (1 + S) is the mean belief of the recent sessions times S / (1 + S): half its plateau after
one session, the plateau after a few. So a course of sessions raises expectancy less than the sum
of its sessions would (issue 11: the TRANSFORM-1 comparator arm, 28 daily pills and 8 placebo
sprays, responds 38.9% at day 28, Fedgchin 2019; nine oral placebo sessions improve MADRS by
2.5 points, Domany 2019; an expectancy summed over sessions gave 55-65% and 13 points; Domany
is still missed: docs/validation/report.md).

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
    Parameter("w_expectancy", 1.493, "1", f"{FIT}", cv=CV, cv_source=CV_SOURCE,
              description="largest fall of log-severity from expectancy"),
    Parameter("belief_active", 1.0, "1",
              "assumption (reference): a felt session (ketamine, or midazolam as the active "
              "placebo chosen to mimic it); a midazolam-controlled contrast then measures the "
              "drug effect, as such trials assume (Murrough 2013 Am J Psychiatry)",
              description="expectancy added by a ketamine or midazolam session"),
    Parameter("belief_placebo", 0.6664, "1", f"{FIT}",
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
    count = Deposit("sessions", "1", per_dose=True)
    session = (Deposit("expectancy", "belief_active", per_dose=True), count)
    inert = (Deposit("expectancy", "belief_placebo", per_dose=True), count)
    return Model(
        name="expectancy", title="placebo and expectancy",
        reference="docs/models/mechanism.md (placebo and expectancy)",
        states=(State("expectancy", "1", description="expectancy from treatment sessions"),
                State("sessions", "1", description="recent treatment sessions (fading count)")),
        parameters=PARAMETERS,
        odes={"expectancy": "-log(2) / t12_expectancy * expectancy",
              "sessions": "-log(2) / t12_expectancy * sessions"},
        outputs={"expectancy_effect":
                 "w_expectancy * (1 - exp(-expectancy / (1 + sessions)))"},
        output_units={"expectancy_effect": "1"},
        inputs=(*(Input((s,), routes, session) for s, routes in felt.items()),
                Input(("placebo",), ROUTES, inert),
                Input(("ssri", "snri"), ("oral",), inert)))
