"""Racemic ketamine with S and R tracked separately, and their norketamines: the default model
for depression dosing.

Why this model (docs/models/racemic_sr.md): of the published adult ketamine models whose
constants we have, the Clements & Nimmo (1981) two-compartment disposition is the one that
agrees with the Kamp et al. (2020) meta-analysis (clearance 80 vs 79 L/h, Vss 289 vs 252 L per
70 kg) and with the venous Cmax of the depression protocol (0.5 mg/kg over 40 min: 177 vs
185 ng/mL, Zarate 2006; this figure helped choose the model, so it is not an independent check).
S and R share distribution (Henthorn 2018) and differ in clearance (Persson 2002); both form
norketamine, whose disposition is taken from noresketamine (Perez-Ruixo 2021).
"""

from ketasim.modeling.spec import Covariate, Deposit, Input, Model, Parameter, State
from ketasim.models.pk.compartmental import WEIGHT
from ketasim.models.pk.published import ADULTS

_CLEMENTS = ("Clements & Nimmo 1981, Br J Anaesth 53:27 (PMID 7459184), 250 ug/kg IV bolus, "
             "as coded in opentiva (opentiva/ketamine.py, Clements250)")
_PERSSON = ("Persson 2002, Eur J Clin Pharmacol 57:869: clearance R 0.020 vs S 0.024 L/min/kg; "
            "the racemic total clearance of Clements is kept")
_NK = ("Perez-Ruixo 2021, Clin Pharmacokinet 60:501, Table 3 (noresketamine, apparent /F values "
       "used as if F = 1: assumption, no absolute norketamine disposition found)")
_IIV = ("assumption: Clements 1981 reports no variability; 30% CV lies within published "
        "ketamine clearance IIV (13%, Fanta 2015; 40%, Flint 2017)")
_TMAX = "absorption rate chosen so that this model's Tmax equals"

PARAMETERS = (
    Parameter("V1_per_kg", 1.7522, "L/kg", _CLEMENTS, cv=0.3, cv_source=_IIV,
              description="central volume per kg"),
    Parameter("k10", 0.0109, "1/min", _CLEMENTS, cv=0.3, cv_source=_IIV,
              description="elimination rate constant of the racemate"),
    Parameter("k12", 0.0186, "1/min", _CLEMENTS),
    Parameter("k21", 0.0137, "1/min", _CLEMENTS),
    Parameter("r_to_s_clearance", 0.020 / 0.024, "1", _PERSSON,
              description="R-ketamine clearance relative to S-ketamine"),
    Parameter("fm_nk", 0.8, "1", "Simons 2022, Front Pain Res 3:946486: 80% of S-ketamine is "
              "metabolised to S-norketamine (applied to R as well: assumption)",
              description="fraction of ketamine clearance forming norketamine"),
    Parameter("V_nk", 70.0, "L", _NK, description="norketamine central volume"),
    Parameter("CL_nk", 38.0, "L/h", _NK, cv=0.254, cv_source=_NK),
    Parameter("V_nk_p", 115.0, "L", _NK, description="norketamine peripheral volume"),
    Parameter("Q_nk", 26.1, "L/h", _NK),
    Parameter("F_im", 0.93, "1", "Clements 1982 (J Pharm Sci 71:539), IM 93%, via tertiary "
              "sources only (pk_parameters.md A8)"),
    Parameter("F_sc", 0.93, "1", "assumption: no subcutaneous bioavailability found; taken as "
              "IM"),
    Parameter("F_oral", 0.20, "1", "Yanagihara 2003, Biopharm Drug Dispos 24:37: oral tablet "
              "~20% (Chong 2006: 23 +/- 9%; Clements 1982: 17%)"),
    Parameter("F_sl", 0.29, "1", "Rolan 2014, Br J Clin Pharmacol 77:1011: sublingual wafer 29% "
              "(90% CI 27-31)"),
    Parameter("F_in_10mg", 0.17, "1", "Pharmacotherapy 2022;42:298 Table 6: intranasal 17%, "
              "13%, 11% at 10, 30, 50 mg"),
    Parameter("F_in_slope", -0.27, "1", "fitted to the three doses of Pharmacotherapy 2022 "
              "Table 6: F = F_in_10mg * (dose / 10 mg) ** slope reproduces 17/13/11%",
              description="power of the dose dependence of intranasal bioavailability"),
    Parameter("ka_oral", 0.995, "1/h", f"{_TMAX} 0.96 h (oral, Chong 2006, Pain Med 7:469)"),
    Parameter("ka_sl", 1.404, "1/h", f"{_TMAX} 0.76 h (sublingual, Chong 2006; Rolan 2014 "
              "median 0.75 h)"),
    Parameter("ka_in", 6.28, "1/h", f"{_TMAX} 17.7 min (intranasal, mean of median Tmax 23, "
              "14, 16 min at 10, 30, 50 mg, Pharmacotherapy 2022 Table 6)"),
    Parameter("ka_inj", 6.28, "1/h", "assumption: no IM or SC Tmax found; absorption taken as "
              "fast as intranasal"),
    Parameter("cyp3a_inhibitor_oral_auc", 2.6, "1", "Hagelberg 2010, Eur J Pain 14:625: "
              "clarithromycin raised oral S-ketamine AUC 2.6-fold (applied to oral "
              "bioavailability, IV clearance unchanged: assumption)"),
    Parameter("cyp2b6_inhibitor_oral_auc", 2.4, "1", "Peltoniemi 2011, Clin Pharmacol Ther "
              "90:296: ticlopidine raised oral S-ketamine AUC 2.4-fold (applied to oral "
              "bioavailability: assumption)"),
    Parameter("cyp3a_inducer_iv_auc", 0.86, "1", "Peltoniemi 2012, Basic Clin Pharmacol "
              "Toxicol 111:325: rifampicin lowered IV S-ketamine AUC by 14%"),
    Parameter("cyp3a_inducer_oral_auc", 0.14, "1", "Peltoniemi 2012: rifampicin lowered oral "
              "S-ketamine AUC by 86%"),
)

COVARIATES = (WEIGHT,
              Covariate("cyp3a_inhibitor", "1", 0.0, "on a CYP3A inhibitor (0/1)"),
              Covariate("cyp3a_inducer", "1", 0.0, "on a CYP3A inducer (0/1)"),
              Covariate("cyp2b6_inhibitor", "1", 0.0, "on a CYP2B6 inhibitor (0/1)"))

ASSIGNMENTS = (
    ("V1", "V1_per_kg * weight_kg"),
    ("induction", "1 + cyp3a_inducer * (1 / cyp3a_inducer_iv_auc - 1)"),
    ("CL_s", "k10 * V1 * 2 / (1 + r_to_s_clearance) * induction"),
    ("CL_r", "CL_s * r_to_s_clearance"),
    ("oral_fold", "(1 + cyp3a_inhibitor * (cyp3a_inhibitor_oral_auc - 1)) * "
                  "(1 + cyp2b6_inhibitor * (cyp2b6_inhibitor_oral_auc - 1)) * "
                  "(1 + cyp3a_inducer * (cyp3a_inducer_oral_auc * induction - 1))"),
    ("F_oral_i", "min(F_oral * oral_fold, 1)"),
)

#: Absorption depots per route group: (name, rate constant, routes, bioavailability).
DEPOTS = (("oral", "ka_oral", ("oral",), "F_oral_i"),
          ("sl", "ka_sl", ("sublingual",), "F_sl"),
          ("in", "ka_in", ("intranasal",), "min(F_in_10mg * (dose_mg / 10) ** F_in_slope, 1)"),
          ("inj", "ka_inj", ("im",), "F_im"),
          ("sc", "ka_inj", ("subcutaneous",), "F_sc"))


def _enantiomer(e: str, clearance: str):
    """States, ODEs and outputs of one enantiomer (``e`` is "s" or "r") and its norketamine.

    The part of an oral, sublingual or intranasal dose lost before the circulation forms
    norketamine at the same fraction as systemic clearance (presystemic formation, as in
    Fanta 2015), absorbed at the oral rate (assumption).
    """
    c, p, nk, nkp, gut = (f"{e}_{x}" for x in ("central", "peripheral", "nk_central",
                                               "nk_peripheral", "nk_gut"))
    states = [State(c, "mg", description=f"{e.upper()}-ketamine, central"),
              State(p, "mg", description=f"{e.upper()}-ketamine, peripheral"),
              State(nk, "mg", description=f"{e.upper()}-norketamine, central"),
              State(nkp, "mg", description=f"{e.upper()}-norketamine, peripheral"),
              State(gut, "mg", description=f"{e.upper()}-norketamine formed presystemically")]
    absorbed = " + ".join(f"{ka} * {e}_depot_{name}" for name, ka, _, _ in DEPOTS)
    odes = {c: f"-{clearance} / V1 * {c} - k12 * {c} + k21 * {p} + {absorbed}",
            p: f"k12 * {c} - k21 * {p}",
            nk: f"fm_nk * {clearance} / V1 * {c} + ka_oral * {gut} - CL_nk / V_nk * {nk}"
                f" - Q_nk / V_nk * {nk} + Q_nk / V_nk_p * {nkp}",
            nkp: f"Q_nk / V_nk * {nk} - Q_nk / V_nk_p * {nkp}",
            gut: f"-ka_oral * {gut}"}
    for name, ka, _, _ in DEPOTS:
        states.append(State(f"{e}_depot_{name}", "mg", description=f"{name} absorption depot"))
        odes[f"{e}_depot_{name}"] = f"-{ka} * {e}_depot_{name}"
    outputs = {f"{e}_ketamine_plasma_ng_ml": f"{c} / V1 * 1000",
               f"{e}_norketamine_plasma_ng_ml": f"{nk} / V_nk * 1000"}
    return states, odes, outputs


def _inputs(substance: str, enantiomers: tuple[str, ...]) -> tuple[Input, ...]:
    """Routes of ``substance``: a racemic dose is half S, half R. A single enantiomer is taken
    IV only: the bioavailabilities here are the racemate's (``dose_mg`` is the whole dose)."""
    share = "0.5 * " if len(enantiomers) == 2 else ""
    inputs = [Input((substance,), ("iv_bolus", "iv_infusion"),
                    tuple(Deposit(f"{e}_central", fraction=f"{share}1") for e in enantiomers))]
    if len(enantiomers) == 1:
        return tuple(inputs)
    for name, _, routes, f in DEPOTS:
        presystemic = name in ("oral", "sl", "in")
        inputs.append(Input((substance,), routes, tuple(
            d for e in enantiomers for d in (
                Deposit(f"{e}_depot_{name}", fraction=f"{share}{f}"),
                *([Deposit(f"{e}_nk_gut", fraction=f"{share}(1 - {f}) * fm_nk")]
                  if presystemic else ())))))
    return tuple(inputs)


def _build() -> Model:
    states: list[State] = []
    odes: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for e, clearance in (("s", "CL_s"), ("r", "CL_r")):
        st, od, out = _enantiomer(e, clearance)
        states += st
        odes |= od
        outputs |= out
    inputs = (*_inputs("racemic", ("s", "r")), *_inputs("esketamine", ("s",)),
              *_inputs("arketamine", ("r",)))
    return Model(
        name="racemic_sr",
        title="Racemic ketamine, S and R with norketamines (Clements 1981 disposition, "
              "Persson 2002 enantiomer clearances); default for depression dosing",
        reference=f"{_CLEMENTS}; {_PERSSON}; {_NK}",
        states=tuple(states), parameters=PARAMETERS, covariates=COVARIATES,
        assignments=ASSIGNMENTS, odes=odes, outputs=outputs,
        output_units=dict.fromkeys(outputs, "ng/mL"), inputs=inputs,
        notes="Single enantiomers (esketamine, arketamine) are taken IV only. "
              "Hydroxynorketamine and dehydronorketamine are not modelled: no human "
              "disposition parameters were found (docs/models/racemic_sr.md).",
        valid=ADULTS)


MODEL = _build()
