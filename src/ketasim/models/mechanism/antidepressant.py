"""Oral monoaminergic antidepressants: SSRI (escitalopram) and SNRI (venlafaxine XR).

Each is a one-compartment model with first-order absorption (apparent oral clearance and
volume of a typical adult, no covariates). Serotonin-transporter (SERT) occupancy by the two,
competing for one site:

    occupancy = sert_max * x / (1 + x),   x = C_ssri / ec50_ssri + C_snri / ec50_snri,

drives a slow adaptation (receptor desensitisation and plasticity, lumped) that carries the
antidepressant effect, which is why it builds over weeks:

    d(adaptation)/dt = (occupancy - adaptation) / tau_adaptation.

ec50 is derived from one published fact: the minimum therapeutic dose gives about 80% SERT
occupancy at steady state (Meyer JH et al. 2004, Am J Psychiatry 161:826, [11C]DASB PET, five
SSRIs and venlafaxine XR), so ec50 = C_ss,avg(minimum dose) * (sert_max / 0.8 - 1), with
C_ss,avg = dose / (CL/F * 24 h).
"""

from __future__ import annotations

import math

from ketasim.modeling.spec import Deposit, Input, Model, Parameter, State

#: Occupancy at the minimum therapeutic dose (Meyer 2004) and the ceiling (assumption: mean
#: occupancy at high doses was ~85%, Meyer JH et al. 2007 Psychopharmacology 192:393, so the
#: ceiling is a little above it).
_OCC_MIN_DOSE, SERT_MAX = 0.8, 0.9
#: Escitalopram: oral clearance 600 mL/min, half-life 27-32 h, tmax ~5 h (Lexapro US
#: prescribing information, clinical pharmacology; as recalled, not in the shared data).
_ESC_CL_L_H, _ESC_T12_H = 36.0, 30.0
#: Venlafaxine XR: the active moiety taken as O-desmethylvenlafaxine (ODV): apparent clearance
#: 0.4 L/h/kg (70 kg), half-life 11 h, tmax of ODV ~9 h from the XR capsule (Effexor XR US
#: prescribing information; as recalled, not in the shared data).
_VEN_CL_L_H, _VEN_T12_H = 0.4 * 70.0, 11.0


def _ec50_ng_ml(min_dose_mg: float, cl_l_h: float) -> float:
    """ec50 (ng/mL) giving 80% occupancy at the steady-state mean of the minimum dose."""
    css = min_dose_mg / (cl_l_h * 24.0) * 1000.0  # mg/L -> ng/mL
    return css * (SERT_MAX / _OCC_MIN_DOSE - 1.0)


def _drug(prefix: str, name: str, cl: float, t12: float, ka: float, ka_source: str,
          min_dose: float, label: str) -> tuple[Parameter, ...]:
    return (
        Parameter(f"cl_{prefix}", cl, "L/h", f"{label}: apparent oral clearance",
                  description=f"{name} clearance (CL/F)"),
        Parameter(f"v_{prefix}", cl * t12 / math.log(2), "L",
                  f"derived: CL/F x t1/2 / ln 2 with t1/2 {t12:g} h ({label})",
                  description=f"{name} volume (V/F)"),
        Parameter(f"ka_{prefix}", ka, "1/h", ka_source, description=f"{name} absorption rate"),
        Parameter(f"ec50_{prefix}", _ec50_ng_ml(min_dose, cl), "ng/mL",
                  f"derived: 80% SERT occupancy at {min_dose:g} mg/day, the minimum therapeutic "
                  "dose, at steady state (Meyer 2004 Am J Psychiatry 161:826; escitalopram 10 "
                  "mg/day gave 81.5% in Klein 2007 Psychopharmacology 191:333)",
                  description=f"{name} plasma concentration for half-maximal occupancy"),
    )


PARAMETERS = (
    *_drug("ssri", "escitalopram", _ESC_CL_L_H, _ESC_T12_H, 0.707,
           "derived: tmax 5 h with the elimination rate (Lexapro label)", 10.0,
           "Lexapro US prescribing information (as recalled)"),
    *_drug("snri", "venlafaxine XR (as ODV)", _VEN_CL_L_H, _VEN_T12_H, 0.179,
           "derived: ODV tmax 9 h from the XR capsule with the elimination rate (Effexor XR "
           "label)", 75.0, "Effexor XR US prescribing information (as recalled)"),
    Parameter("sert_max", SERT_MAX, "1",
              "assumption: a little above the ~85% mean occupancy at high doses (Meyer 2007 "
              "Psychopharmacology 192:393)", description="maximal SERT occupancy"),
    Parameter("tau_adaptation", 488.5, "h",
              "derived: a first-order lag that reaches one third of its 6-week level at week 1, "
              "as the SSRI effect does (Taylor MJ et al. 2006 Arch Gen Psychiatry 63:1217; "
              "calibration_targets.csv taylor2006_ssri_onset)",
              description="time constant of the adaptation to SERT blockade"),
)


def antidepressant() -> Model:
    """The oral antidepressant layer: doses of ``ssri`` and ``snri`` (mg, oral)."""
    conc = {p: f"{p}_central / v_{p} * 1000" for p in ("ssri", "snri")}  # mg/L -> ng/mL
    return Model(
        name="antidepressant", title="oral antidepressants (SSRI, SNRI)",
        reference="Meyer 2004; Taylor 2006; Lexapro and Effexor XR labels",
        states=(*(State(f"{p}_{c}", "mg", description=f"{p.upper()} {c} amount")
                  for p in ("ssri", "snri") for c in ("gut", "central")),
                State("adaptation", "1", description="adaptation to SERT blockade (0-1)")),
        parameters=PARAMETERS,
        assignments=(("sert_x", f"{conc['ssri']} / ec50_ssri + {conc['snri']} / ec50_snri"),
                     ("sert_occ", "sert_max * sert_x / (1 + sert_x)")),
        odes={"ssri_gut": "-ka_ssri * ssri_gut",
              "ssri_central": "ka_ssri * ssri_gut - cl_ssri / v_ssri * ssri_central",
              "snri_gut": "-ka_snri * snri_gut",
              "snri_central": "ka_snri * snri_gut - cl_snri / v_snri * snri_central",
              "adaptation": "(sert_occ - adaptation) / tau_adaptation"},
        outputs={"ssri_plasma_ng_ml": conc["ssri"], "snri_plasma_ng_ml": conc["snri"],
                 "sert_occupancy": "sert_occ",
                 "antidepressant_adaptation": "adaptation"},
        output_units={"ssri_plasma_ng_ml": "ng/mL", "snri_plasma_ng_ml": "ng/mL",
                      "sert_occupancy": "1", "antidepressant_adaptation": "1"},
        inputs=(Input(("ssri",), ("oral",), (Deposit("ssri_gut"),)),
                Input(("snri",), ("oral",), (Deposit("snri_gut"),))),
        notes="Complete oral bioavailability is folded into CL/F and V/F. The SNRI's "
              "noradrenaline-transporter block is not modelled.")
