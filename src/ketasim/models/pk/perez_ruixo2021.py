"""Perez-Ruixo et al. (2021): esketamine and noresketamine after IV, intranasal and oral doses.

Perez-Ruixo C, Rossenu S, Zannikos P, Nandy P, Singh J, Drevets WC, Perez-Ruixo JJ. Clin
Pharmacokinet 2021;60(4):501-516, DOI 10.1007/s40262-020-00953-4: 820 healthy subjects and
patients with treatment-resistant depression. Esketamine has three compartments plus a
hepato-portal (liver) compartment of volume Vh and blood flow Qh, where it is eliminated by kel
(other metabolites) and kmet (noresketamine): a well-stirred first pass for the swallowed part of
a nasal dose and for oral doses. Noresketamine has two compartments with apparent (/F)
parameters. Values: Table 3 as transcribed by nlmixr2lib
(inst/modeldb/specificDrugs/PerezRuixo_2020_esketamine.R), not checked against the PDF.
Amounts in mg, volumes in L, time in h.
"""

import numpy as np

from ketasim.modeling.spec import (
    Covariate,
    Deposit,
    Input,
    Model,
    Parameter,
    ResidualError,
    State,
)

_T3 = "Perez-Ruixo 2021 Table 3 (as transcribed by nlmixr2lib)"
_RATE = _T3 + "; printed as L/h, a rate constant in 1/h (correction by the transcriber)"
_ABSTRACT = "Perez-Ruixo 2021 abstract"

#: SD of the additive logit-scale random effect on FRn: Table 3 omega(FRn) "70.8 (additive on
#: logit)", read as SD 0.708 by the transcriber. A log-normal factor on the odds with this CV
#: has exactly that SD on the log-odds (logit) scale.
_FRN_LOGIT_SD = 0.708  # Perez-Ruixo 2021 Table 3 (as transcribed by nlmixr2lib)

PARAMETERS = (
    # -- intranasal and oral absorption --------------------------------------------------------
    Parameter("spray_mg", 28.0, "mg", "Spravato (esketamine) nasal spray US prescribing "
              "information: one device delivers 28 mg in two sprays; Perez-Ruixo 2021 gives FRn "
              "per 28-mg unit", description="esketamine delivered by one nasal spray device"),
    Parameter("FRn", 0.54, "1", f"{_T3}; {_ABSTRACT}: 54% of a 28-mg dose is absorbed through "
              "the nasal cavity", description="typical fraction of a 28-mg nasal unit absorbed "
              "through the nasal mucosa (the rest is swallowed)"),
    Parameter("FRn_odds", 1.0, "1", "by construction: 1 for the typical subject (Perez-Ruixo "
              "2021 puts the variability of FRn on the logit scale)",
              cv=float(np.sqrt(np.expm1(_FRN_LOGIT_SD**2))),
              cv_source=f"{_T3}: omega(FRn) 70.8, additive on the logit scale, read as SD "
              "0.708; this CV gives a log-normal odds factor whose log has SD 0.708",
              description="subject's factor on the odds FRn / (1 - FRn)"),
    Parameter("FRn_dose_effect", 0.62, "1", f"{_T3}: dose effect on FRn; per 28-mg unit "
              f"after the first (nlmixr2lib vignette); reproduces the absolute bioavailability "
              f"of 54% (56 mg) and 51% (84 mg) in the {_ABSTRACT}",
              description="factor on FRn for the second and later 28-mg units of one dose"),
    Parameter("FRn_japanese", 1.34, "1", _T3, description="factor on FRn, Japanese subjects"),
    Parameter("ka_n", 2.93, "1/h", _RATE, cv=0.615, cv_source=_T3,
              description="nasal absorption rate constant"),
    Parameter("Dsw", 0.53, "h", _T3, description="zero-order duration of the swallowed part "
              "of a nasal dose"),
    Parameter("ka_sw", 1.45, "1/h", _RATE, cv=1.32, cv_source=_T3,
              description="absorption rate constant of the swallowed part (into the liver)"),
    Parameter("Dpo", 0.32, "h",
              _T3 + "; printed as h/L, a duration (correction by the transcriber)",
              description="zero-order duration of an oral solution dose"),
    Parameter("ka_po", 0.97, "1/h", _RATE, cv=1.32, cv_source=_T3,
              description="oral absorption rate constant (into the liver)"),
    Parameter("Fgut", 0.64, "1", _T3, description="fraction of a swallowed dose escaping gut "
              "metabolism"),
    # -- esketamine disposition -----------------------------------------------------------------
    Parameter("Vc", 192.0, "L", _T3, cv=0.275, cv_source=_T3, description="central volume"),
    Parameter("Q1", 84.3, "L/h", _T3, description="intercompartmental clearance, peripheral 1"),
    Parameter("Vp1", 143.0, "L", _T3, cv=0.493, cv_source=_T3,
              description="peripheral volume 1"),
    Parameter("Q2", 37.6, "L/h", _T3, description="intercompartmental clearance, peripheral 2"),
    Parameter("Vp2", 417.0, "L", _T3, description="peripheral volume 2"),
    Parameter("Qh", 151.0, "L/h", _T3, description="hepatic blood flow at 60 y or younger"),
    Parameter("Qh_eta", 1.0, "1", "by construction: 1 for the typical subject (nlmixr2lib "
              "applies the variability of Qh after the age effect)",
              cv=0.232, cv_source=_T3, description="subject's factor on the age-adjusted Qh"),
    Parameter("Qh_age", 2.19, "L/h", _T3 + ": age on Qh -2.19 L/h per year above 60 y",
              description="decrease of Qh per year of age above 60"),
    Parameter("Vh", 101.0, "L", _T3, cv=0.346, cv_source=_T3,
              description="hepato-portal (liver) volume"),
    Parameter("kel", 1.11, "1/h", _RATE, cv=1.20, cv_source=_T3,
              description="hepatic elimination to metabolites other than noresketamine"),
    Parameter("kel_asian", 0.36, "1", _T3, description="factor on kel, Asian subjects"),
    Parameter("kmet", 2.77, "1/h", _RATE + "; its IIV is blank in Table 3, so none is given",
              description="hepatic formation of noresketamine"),
    # -- noresketamine (apparent) ---------------------------------------------------------------
    Parameter("Vcn", 70.0, "L", _T3 + " (Vcn/F)", cv=0.316, cv_source=_T3,
              description="noresketamine apparent central volume"),
    Parameter("CLn", 38.0, "L/h", _T3 + f" (CLn/F); {_ABSTRACT}: 38 L/h", cv=0.254,
              cv_source=_T3, description="noresketamine apparent clearance"),
    Parameter("CLn_asian", 0.81, "1", _T3, description="factor on CLn, Asian subjects"),
    Parameter("Vpn", 115.0, "L", _T3 + f" (Vpn/F); Vcn + Vpn = Vss 185 L, {_ABSTRACT}",
              description="noresketamine apparent peripheral volume"),
    Parameter("Q3", 26.1, "L/h", _T3 + " (Q3/F)",
              description="noresketamine apparent intercompartmental clearance"),
)

COVARIATES = (
    Covariate("age_y", "year", 45.0, "age; reference: median of Perez-Ruixo 2021 (45 y)"),
    Covariate("asian", "1", 0.0, "Asian ancestry (0/1)"),
    Covariate("japanese", "1", 0.0, "Japanese ancestry (0/1; Japanese subjects are Asian)"),
)

ASSIGNMENTS = (
    # 60 y: Perez-Ruixo 2021 Table 3 (as transcribed by nlmixr2lib), age effect above 60 y
    ("Qh_i", "(Qh - Qh_age * max(age_y - 60, 0)) * Qh_eta"),
    ("kel_i", "kel * kel_asian ** asian"),
    ("CLn_i", "CLn * CLn_asian ** asian"),
    # logit(FRn) + eta, then the Japanese factor; capped at 1 (assumption: a fraction)
    ("FRn_i", "min(FRn * FRn_odds / (1 - FRn + FRn * FRn_odds) * FRn_japanese ** japanese, "
              "1)"),
)

#: Fraction of a nasal dose absorbed through the nose: FRn_i for the first 28-mg unit,
#: FRn_i * FRn_dose_effect for the rest (0.54 / 0.4375 / 0.4032 at 28 / 56 / 84 mg).
_NASAL = ("FRn_i * (min(dose_mg, spray_mg) + FRn_dose_effect * max(dose_mg - spray_mg, 0))"
          " / dose_mg")

INPUTS = (
    Input(("esketamine",), ("iv_bolus", "iv_infusion"), (Deposit("central"),)),
    Input(("esketamine",), ("intranasal",), (
        Deposit("nasal", fraction=_NASAL),
        Deposit("gut_swallowed", fraction=f"(1 - {_NASAL}) * Fgut", duration_h="Dsw"))),
    Input(("esketamine",), ("oral",), (Deposit("gut_oral", fraction="Fgut", duration_h="Dpo"),)),
)

STATES = (
    State("nasal", "mg", description="esketamine in the nasal depot"),
    State("gut_swallowed", "mg", description="swallowed part of a nasal dose, past the gut wall"),
    State("gut_oral", "mg", description="oral dose, past the gut wall"),
    State("central", "mg", description="esketamine, central"),
    State("peripheral1", "mg", description="esketamine, peripheral 1"),
    State("peripheral2", "mg", description="esketamine, peripheral 2"),
    State("liver", "mg", description="esketamine, hepato-portal compartment"),
    State("nor_central", "mg", description="noresketamine, central (apparent amount)"),
    State("nor_peripheral", "mg", description="noresketamine, peripheral (apparent amount)"),
)

ODES = {
    "nasal": "-ka_n * nasal",
    "gut_swallowed": "-ka_sw * gut_swallowed",
    "gut_oral": "-ka_po * gut_oral",
    "central": "ka_n * nasal - (Q1 + Q2 + Qh_i) / Vc * central + Q1 / Vp1 * peripheral1"
               " + Q2 / Vp2 * peripheral2 + Qh_i / Vh * liver",
    "peripheral1": "Q1 / Vc * central - Q1 / Vp1 * peripheral1",
    "peripheral2": "Q2 / Vc * central - Q2 / Vp2 * peripheral2",
    "liver": "ka_sw * gut_swallowed + ka_po * gut_oral + Qh_i / Vc * central"
             " - (Qh_i / Vh + kel_i + kmet) * liver",
    "nor_central": "kmet * liver - (CLn_i + Q3) / Vcn * nor_central + Q3 / Vpn * nor_peripheral",
    "nor_peripheral": "Q3 / Vcn * nor_central - Q3 / Vpn * nor_peripheral",
}

MODEL = Model(
    name="perez_ruixo2021",
    title="Perez-Ruixo 2021 esketamine + noresketamine (IV, intranasal, oral)",
    reference="Perez-Ruixo C et al. Clin Pharmacokinet 2021;60(4):501-516, DOI "
              "10.1007/s40262-020-00953-4; " + _T3,
    states=STATES, parameters=PARAMETERS, covariates=COVARIATES, assignments=ASSIGNMENTS,
    odes=ODES,
    outputs={"s_ketamine_plasma_ng_ml": "central / Vc * 1000",
             "s_norketamine_plasma_ng_ml": "nor_central / Vcn * 1000"},
    output_units=dict.fromkeys(("s_ketamine_plasma_ng_ml", "s_norketamine_plasma_ng_ml"),
                               "ng/mL"),
    inputs=INPUTS,
    notes="Esketamine only. A nasal dose is given at once (as in the paper's Table 4); its "
          "28-mg units after the first are absorbed less through the nose (FRn_dose_effect). "
          "Noresketamine parameters are apparent (/F); the model reproduces the paper's "
          "Table 4 esketamine exposures and noresketamine Cmax but gives a 1.4-1.6-fold higher "
          "noresketamine AUC0-24 (docs/models/perez_ruixo2021.md). kmet has no variability "
          "(blank in Table 3). Residual error: the Phase I/II values (Phase III values exist, "
          "not transcribed).",
    # ranges of the data: Perez-Ruixo 2021 Table 2 (as transcribed by nlmixr2lib)
    valid={"age_y": (18.0, 86.0), "weight_kg": (39.0, 170.0)},
    errors=(ResidualError("s_ketamine_plasma_ng_ml", "exponential", 0.276,
                          _T3 + ": esketamine residual error 27.6% (Phase I/II), LTBS"),
            ResidualError("s_norketamine_plasma_ng_ml", "exponential", 0.422,
                          _T3 + ": noresketamine residual error 42.2% (Phase I/II), LTBS")))
