"""Domino et al. (1982): three-compartment racemic ketamine model for IV dosing.

Constants of Domino et al. 1982 (PMID 7198883) as coded in the open-source TCI library
opentiva (github.com/opentiva/opentiva, ``opentiva/ketamine.py``, class ``Domino``), where
rate constants are per minute; the independent TCI code fus_anes (``TCI_Ketamine``) has the same
values. The paper's own table was not available to us: a secondary source.
"""

from ketasim.modeling.spec import Deposit, Input, Parameter
from ketasim.models.pk.compartmental import mammillary
from ketasim.models.pk.published import ADULTS

_SRC = "Domino et al. 1982, PMID 7198883, as coded in opentiva (opentiva/ketamine.py)"
_IIV = ("assumption: Domino 1982 reports no inter-individual variability; 30% CV lies within "
        "published ketamine clearance IIV (13%, Fanta 2015; 40%, Flint 2017)")

MODEL = mammillary(
    "domino1982", "Domino 1982 three-compartment racemic ketamine (IV)", _SRC,
    parameters=(
        Parameter("V1_per_kg", 0.063, "L/kg", _SRC, cv=0.3, cv_source=_IIV,
                  description="central volume per kg body weight"),
        Parameter("k10", 0.4381, "1/min", _SRC, cv=0.3, cv_source=_IIV,
                  description="elimination rate constant"),
        Parameter("k12", 0.5921, "1/min", _SRC, description="central to peripheral 1"),
        Parameter("k13", 0.5900, "1/min", _SRC, description="central to peripheral 2"),
        Parameter("k21", 0.2470, "1/min", _SRC, description="peripheral 1 to central"),
        Parameter("k31", 0.0146, "1/min", _SRC, description="peripheral 2 to central"),
    ),
    compartments=3,
    assignments=(("V1", "V1_per_kg * weight_kg"),),
    inputs=(Input(("racemic",), ("iv_bolus", "iv_infusion"), (Deposit("central"),)),),
    notes="Venous plasma after IV dosing; no absorption routes. Its variability is an "
          "assumption (see V1_per_kg and k10). Adults; the exact ranges of the study were not "
          "available (assumed 18-65 y).", valid=ADULTS)
