"""Published compartmental models of racemic ketamine, IV, as their authors gave them.

Rate constants per minute and clearances per hour convert to the model's units when the
declaration is read. None of these papers' variability was available: subjects differ only by
their covariates (the Domino model is the exception, with an assumed variability).
"""

from ketasim.modeling.spec import Deposit, Input, Parameter
from ketasim.models.pk.compartmental import mammillary

IV = (Input(("racemic",), ("iv_bolus", "iv_infusion"), (Deposit("central"),)),)
_OPENTIVA = "as coded in opentiva (opentiva/ketamine.py)"
#: Covariate ranges of an adult population model whose study ranges are not available:
#: assumption: 18-65 y and 40-150 kg, adult volunteers and patients (a run outside them is
#: simulated with a warning, e.g. a child's weight with an adult model).
ADULTS = {"age_y": (18.0, 65.0), "weight_kg": (40.0, 150.0)}
_ADULT_NOTE = ("Adults; the exact ranges of the study were not available (assumed 18-65 y, "
               "40-150 kg).")


def _allometric(name: str, title: str, source: str, v1: float, v2: float, cl: float, q: float,
                valid: dict[str, tuple[float, float]]):
    """Two compartments with values per 70 kg: volumes (L) linear in weight, clearances (L/h)
    with weight^0.75."""
    params = (Parameter("V1_70", v1, "L", source), Parameter("V2_70", v2, "L", source),
              Parameter("CL_70", cl, "L/h", source), Parameter("Q_70", q, "L/h", source))
    assignments = (("size", "weight_kg / 70"), ("V1", "V1_70 * size"), ("V2", "V2_70 * size"),
                   ("k10", "CL_70 * size ** 0.75 / V1"), ("k12", "Q_70 * size ** 0.75 / V1"),
                   ("k21", "Q_70 * size ** 0.75 / V2"))
    return mammillary(name, title, source, params, compartments=2, assignments=assignments,
                      inputs=IV, valid=valid,
                      notes="Allometric: volumes with weight, clearances with weight^0.75.")


_CL = f"Clements & Nimmo 1981, Br J Anaesth 53:27 (PMID 7459184), 250 ug/kg bolus, {_OPENTIVA}"
CLEMENTS = mammillary(
    "clements1981", "Clements 1981 two-compartment racemic ketamine (IV)", _CL,
    (Parameter("V1_per_kg", 1.7522, "L/kg", _CL), Parameter("k10", 0.0109, "1/min", _CL),
     Parameter("k12", 0.0186, "1/min", _CL), Parameter("k21", 0.0137, "1/min", _CL)),
    compartments=2, assignments=(("V1", "V1_per_kg * weight_kg"),), inputs=IV,
    notes=_ADULT_NOTE, valid=ADULTS)

_HERD = ("Herd 2007, Paediatr Anaesth, DOI 10.1111/j.1460-9592.2006.02145.x (PMID 17564643), "
         f"children 1-14 y, 10.8-74.8 kg, {_OPENTIVA}")
HERD = _allometric("herd2007", "Herd 2007 two-compartment racemic ketamine in children (IV)",
                   _HERD, 38.7, 102.0, 90.0, 215.0, {"age_y": (1.0, 14.0),
                                                     "weight_kg": (10.8, 74.8)})

_HORNIK = ("Hornik 2018, J Clin Pharmacol, DOI 10.1002/jcph.1116 (PMID 29677389), children "
           f"1-18 y, 2-176 kg, {_OPENTIVA}")
HORNIK = _allometric("hornik2018",
                     "Hornik 2018 two-compartment racemic ketamine in children (IV)", _HORNIK,
                     32.8, 152.0, 38.9, 54.9, {"age_y": (1.0, 18.0), "weight_kg": (2.0, 176.0)})

_KAMP = ("Kamp 2020, Anesthesiology 133:1192, meta-analysis of 18 studies: weighted mean "
         "clearance 79 L/h (95% CI 69-90) and volume of distribution 252 L (200-304) per 70 kg")
KAMP = mammillary(
    "kamp2020", "Kamp 2020 meta-analytic clearance and volume, one compartment (IV)", _KAMP,
    (Parameter("CL_70", 79.0, "L/h", _KAMP), Parameter("V_70", 252.0, "L", _KAMP)),
    compartments=1,
    assignments=(("size", "weight_kg / 70"), ("V1", "V_70 * size"),
                 ("k10", "CL_70 * size ** 0.75 / V1")),
    inputs=IV,
    notes="One compartment ignores distribution: early concentrations after a bolus or short "
          "infusion are underestimated. Weight scaling (volume linear, clearance ^0.75) is an "
          "assumption: the meta-regression found no covariate effect.", valid=ADULTS)
