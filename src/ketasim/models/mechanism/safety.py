"""Safety: dissociation (CADSS) and blood pressure from the brain ketamine concentration.

Dissociative and psychedelic effects rise linearly with ketamine concentration between 50 and
200 ng/mL (Bowdle 1998, R 0.93-0.99) and are seen above about 70 ng/mL (Hartvig 1995); they
peak near the end of a 40-min infusion and resolve within about 2 h (Del Sant 2023); they
lessen with repeated doses (Glue 2018: CADSS 20 after the first weekly dose, 8.8 at week 14).
Tolerance builds with exposure and fades slowly:
    dT/dt = k_tolerance * Ce - ln2 / t12_tolerance * T,
    CADSS = slope * max(Ce - threshold, 0) / (1 + T),
and blood pressure rises in proportion to Ce (no tolerance: none reported).
"""

from ketasim.modeling.spec import Model, Parameter, State

_GLUE = ("Glue 2018, J Psychopharmacol 32:663 (calibration_targets.csv: glue2018_anxiety_maint "
         "CADSS at 168 h and 2352 h; refractory GAD/SAD, 1 mg/kg SC weekly, n = 20)")
_CARDIO = ("calibration_targets.csv: cardio_cohort_135, maximum mean rise SBP 7.4 / DBP 6.0 mmHg "
           "at 30-40 min after 0.5 mg/kg IV over 40 min (n = 135)")


def safety() -> Model:
    """A layer reading the brain ketamine concentration (port ``ce_ketamine_ng_ml``)."""
    return Model(
        name="safety", title="dissociation and blood pressure",
        reference="Bowdle 1998; Del Sant 2023; Glue 2018; cardiovascular cohort (n = 135)",
        states=(State("tolerance", "1", description="tolerance to dissociation"),),
        parameters=(
            Parameter("cadss_threshold", 50.0, "ng/mL", "Bowdle 1998, Anesthesiology 88:82: "
                      "effects linear in concentration from 50 ng/mL (Hartvig 1995: seen above "
                      "70 ng/mL plasma)", description="brain ketamine below which no "
                      "dissociation"),
            Parameter("cadss_per_ng_ml", 0.08681, "mL/ng",
                      "fitted to: " + _GLUE + ": with k_tolerance, solved so that racemic_sr "
                      "(typical 70-kg adult, 1 mg/kg SC weekly) peaks at CADSS 20 after dose 1 "
                      "and 8.8 after dose 14", description="CADSS points per ng/mL of brain "
                      "ketamine"),
            Parameter("t12_tolerance", 14.0, "d", "assumption: tolerance fading over weeks; "
                      "one anchor (Glue 2018) cannot separate build-up from decay",
                      description="half-life of tolerance to dissociation"),
            Parameter("k_tolerance", 6.840e-4, "mL/(ng*h)",
                      "fitted to: " + _GLUE + ": solved with cadss_per_ng_ml (see there), "
                      "given t12_tolerance", description="tolerance built per unit of brain "
                      "exposure"),
            Parameter("sbp_per_ng_ml", 7.4 / 156.1, "mmHg*mL/ng",
                      "fitted to: " + _CARDIO + ", at 156.1 ng/mL peak brain ketamine "
                      "(racemic_sr, typical adult)", description="systolic rise per ng/mL"),
            Parameter("dbp_per_ng_ml", 6.0 / 156.1, "mmHg*mL/ng", "fitted to: " + _CARDIO,
                      description="diastolic rise per ng/mL"),
        ),
        odes={"tolerance": "k_tolerance * ce_ketamine_ng_ml - log(2) / t12_tolerance * "
                           "tolerance"},
        outputs={"cadss": "min(cadss_per_ng_ml * max(ce_ketamine_ng_ml - cadss_threshold, 0) "
                           "/ (1 + tolerance), 92)",
                 "sbp_rise_mmhg": "sbp_per_ng_ml * ce_ketamine_ng_ml",
                 "dbp_rise_mmhg": "dbp_per_ng_ml * ce_ketamine_ng_ml"},
        output_units={"cadss": "points", "sbp_rise_mmhg": "mmHg", "dbp_rise_mmhg": "mmHg"},
        ports=("ce_ketamine_ng_ml",),
        notes="CADSS is capped at its maximum, 92 (23 items scored 0-4). Anchors come from "
              "anxiety patients given SC ketamine (dissociation) and a mixed cohort (blood "
              "pressure); no TRD-specific CADSS time course was available.")
