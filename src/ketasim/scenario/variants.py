"""Patient variants a scenario can switch on: each maps to mechanism parameters, with evidence.

``[variants]`` in a scenario file: ``bdnf_val66met`` ("val/val", "val/met", "met/met"),
``inflammation`` ("typical", "high"), ``benzodiazepine`` and ``lamotrigine`` (true/false), and
the trial design's ``masked`` (true/false: placebo patients cannot tell what they received).
"""

from __future__ import annotations

from collections.abc import Mapping

from ketasim.errors import ScenarioError
from ketasim.units import show

#: variant -> allowed value -> parameter values (an empty mapping: no change, with the reason).
VARIANTS: dict[str, dict[object, dict[str, float]]] = {
    # Laje 2012, Liu 2012 (Met carriers respond less); release factors are assumptions
    # documented on the parameter bdnf_val66met.
    "bdnf_val66met": {"val/val": {"bdnf_val66met": 1.0}, "val/met": {"bdnf_val66met": 0.7},
                      "met/met": {"bdnf_val66met": 0.3}},
    # Osimo 2019: low-grade inflammation (CRP > 3 mg/L) in 27% of patients; "high" is that
    # group (index 1), "typical" the TRD average the model is built on (0.3).
    "inflammation": {"typical": {"inflammation": 0.3}, "high": {"inflammation": 1.0}},
    # Andrashko 2020; Feeney 2023 (attenuation at higher benzodiazepine doses)
    "benzodiazepine": {False: {"benzodiazepine": 0.0}, True: {"benzodiazepine": 1.0}},
    # Mathew 2010 (Int J Neuropsychopharmacol 13:71): lamotrigine pretreatment did not alter
    # ketamine's effect, so it changes nothing here.
    "lamotrigine": {False: {}, True: {}},
    # A masked design (e.g. the infusion given under general anaesthesia, Lii 2023 Nat Ment
    # Health 1:876): placebo patients cannot tell what they got, so a placebo session is
    # believed like an active one (belief_active = 1, docs/models/mechanism.md).
    "masked": {False: {}, True: {"belief_placebo": 1.0}},
}


def variant_parameters(variants: Mapping[str, object], parameter_names: tuple[str, ...],
                       model: str) -> dict[str, float]:
    """Parameter values of the chosen variants; one-line errors name the key and the allowed
    values, or say that the model has no mechanism to apply them to."""
    values: dict[str, float] = {}
    for name, choice in variants.items():
        if name not in VARIANTS:
            raise ScenarioError(f"variants.{name}: unknown variant; allowed: "
                                f"{', '.join(VARIANTS)}")
        options = VARIANTS[name]
        if isinstance(choice, str):
            choice = choice.strip().lower()
        if not isinstance(choice, (str, bool)) or choice not in options:
            allowed = ", ".join(str(o).lower() if isinstance(o, bool) else f'"{o}"'
                                for o in options)
            raise ScenarioError(f"variants.{name}: {show(choice)} is not one of {allowed}")
        missing = set(options[choice]) - set(parameter_names)
        if missing:
            raise ScenarioError(f"variants.{name}: model {model} has no mechanism to apply it "
                                "to; use a '+mechanism' model")
        values |= options[choice]
    return values
