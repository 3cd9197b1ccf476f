"""Perez-Ruixo 2021 esketamine + noresketamine model against the paper, its abstract and the
Spravato label (typical subjects unless stated)."""

from functools import cache

import numpy as np
import pytest

from ketasim.analysis.nca import auc, cmax_tmax
from ketasim.dosing import Dose, Regimen
from ketasim.models.pk.perez_ruixo2021 import MODEL
from ketasim.population.sampling import Population
from ketasim.simulation.engine import simulate

pytestmark = pytest.mark.slow  # statistical: population exposure against published tables

TYPICAL = MODEL.typical()
VALUE = {p.name: p.value for p in MODEL.parameters}
ESK, NOR = "s_ketamine_plasma_ng_ml", "s_norketamine_plasma_ng_ml"
DAY = np.linspace(0.0, 24.0, 24 * 60 + 1)  # 1-min grid for Table 4 (Cmax, AUC0-24)
#: Long enough for AUC0-inf: esketamine's terminal half-life here is 15.5 h, so 20 days leave
#: under 1e-9 of the area.
LONG = np.concatenate([np.linspace(0.0, 24.0, 24 * 20 + 1), np.linspace(24.5, 480.0, 912)])
STRATA = {"18-60 y Caucasian": {"age_y": 45.0},
          ">60 y Caucasian": {"age_y": 70.0},
          "18-60 y Japanese": {"age_y": 45.0, "asian": 1.0, "japanese": 1.0}}


def esketamine(route, mg, t=0.0):
    return Dose("esketamine", route, mg, time_h=t)


@cache
def profile(stratum, route, mg, times="day"):
    """Typical subject's esketamine and noresketamine (ng/mL) on the DAY or LONG grid."""
    res = simulate(TYPICAL, Regimen((esketamine(route, mg),)),
                   Population(1, fixed=STRATA[stratum]), DAY if times == "day" else LONG)
    return res[ESK].to_numpy()[0], res[NOR].to_numpy()[0]


# Perez-Ruixo 2021 Table 4 (model-based typical values, as transcribed by nlmixr2lib):
# Cmax ng/mL and AUC0-24 ng*h/mL per stratum and intranasal dose (mg).
TABLE4 = {("18-60 y Caucasian", 28): (43.8, 147.3, 59.1, 274.4),
          ("18-60 y Caucasian", 56): (72.5, 254.7, 119.7, 516.3),
          ("18-60 y Caucasian", 84): (101.0, 362.2, 180.0, 758.0),
          (">60 y Caucasian", 84): (102.7, 391.2, 177.0, 765.9),
          ("18-60 y Japanese", 84): (131.3, 475.4, 220.4, 1114.0)}
METRICS = ("esketamine Cmax", "esketamine AUC0-24", "noresketamine Cmax",
           "noresketamine AUC0-24")
#: Simulated / Table 4 noresketamine AUC0-24 measured with this model (rounded).
NOR_AUC_RATIO = {("18-60 y Caucasian", 28): 1.41, ("18-60 y Caucasian", 56): 1.45,
                 ("18-60 y Caucasian", 84): 1.46, (">60 y Caucasian", 84): 1.43,
                 ("18-60 y Japanese", 84): 1.52}


def _table4_cases():
    cases = []
    for (stratum, mg), values in TABLE4.items():
        for k, (metric, published) in enumerate(zip(METRICS, values, strict=True)):
            marks = ()
            if k == 3:
                marks = pytest.mark.xfail(strict=True, reason=(
                    f"Table 4 noresketamine AUC0-24 is not reproducible from Table 3: this "
                    f"model gives {NOR_AUC_RATIO[stratum, mg]:.2f}x the published value while "
                    "matching its Cmax within 1% (docs/models/perez_ruixo2021.md)"))
            cases.append(pytest.param(stratum, mg, k, published, marks=marks,
                                      id=f"{stratum}-{mg}mg-{metric}"))
    return cases


@pytest.mark.parametrize(("stratum", "mg", "k", "published"), _table4_cases())
def test_table4_intranasal_exposure_within_10_percent(stratum, mg, k, published):
    conc = profile(stratum, "intranasal", mg)[k // 2]
    simulated = cmax_tmax(conc, DAY)[0] if k % 2 == 0 else auc(conc, DAY)
    assert simulated == pytest.approx(published, rel=0.10)


def test_noresketamine_auc_mismatch_is_the_documented_ratio():
    """The xfail reasons above quote these ratios; they hold within 0.01."""
    for (stratum, mg), ratio in NOR_AUC_RATIO.items():
        simulated = auc(profile(stratum, "intranasal", mg)[1], DAY)
        assert simulated / TABLE4[stratum, mg][3] == pytest.approx(ratio, abs=0.01)


def bioavailability(route, mg):
    """AUC0-inf per mg of ``route`` relative to a 28-mg IV bolus (typical, 18-60 y)."""
    iv = auc(profile("18-60 y Caucasian", "iv_bolus", 28.0, "long")[0], LONG) / 28.0
    return auc(profile("18-60 y Caucasian", route, mg, "long")[0], LONG) / mg / iv


def test_esketamine_clearance_matches_abstract():
    """Abstract: CL 114 L/h; here Qh * E = 109 L/h (dose / AUC0-inf of a 28-mg IV bolus)."""
    auc_mg_h_per_l = auc(profile("18-60 y Caucasian", "iv_bolus", 28.0, "long")[0], LONG) / 1000
    assert 28.0 / auc_mg_h_per_l == pytest.approx(114.0, rel=0.10)


@pytest.mark.parametrize(("mg", "published"), [
    (28.0, 0.54 + 0.46 * 0.186),  # abstract: FRn 54%, 18.6% of the swallowed 46% absorbed
    (56.0, 0.54),  # abstract: absolute bioavailability of 56 mg
    (84.0, 0.51),  # abstract: absolute bioavailability of 84 mg
])
def test_absolute_intranasal_bioavailability_matches_abstract(mg, published):
    assert bioavailability("intranasal", mg) == pytest.approx(published, rel=0.10)


def test_swallowed_fraction_reaching_circulation_matches_abstract():
    """18.6% (abstract): from a 28-mg nasal dose, F = FRn + (1 - FRn) * F_swallowed; and the
    oral route, whose bioavailability is the same Fgut * (1 - E) in this model."""
    frn = VALUE["FRn"]
    swallowed = (bioavailability("intranasal", 28.0) - frn) / (1 - frn)
    assert swallowed == pytest.approx(0.186, rel=0.10)
    assert bioavailability("oral", 84.0) == pytest.approx(0.186, rel=0.10)


@pytest.mark.xfail(strict=True, reason=(
    "sources disagree: Perez-Ruixo 2021 gives oral F = Fgut * (1 - E) = 17.8% (its abstract: "
    "18.6% of a swallowed dose reaches the circulation), 2.2x the 8% of Fanta 2015 and J&J"))
def test_oral_bioavailability_matches_fanta_2015():
    """Fanta 2015 (0.25 mg/kg oral S-ketamine, n = 11) and J&J Medical Connect: ~8%; tolerance
    +/-50% (4-12%), wider than Fanta's 11% between-subject CV."""
    assert bioavailability("oral", 84.0) == pytest.approx(0.08, rel=0.5)


def test_label_tmax_20_to_40_min_after_the_last_spray_of_84_mg():
    """Spravato label: Tmax 20-40 min after the last spray. In practice 84 mg is three 28-mg
    devices 5 min apart. The model (like Table 4) also takes a dose at once, so both are checked:
    at once (the last spray is at 0) and staggered, built by superposition (the model is linear)
    of device 1 with FRn and devices 2 and 3 with FRn x FRn_dose_effect, as the paper's dose
    effect prescribes for the units after the first."""
    times = np.linspace(0.0, 4.0, 4 * 360 + 1)  # 10-s grid
    one = Population(1, fixed=STRATA["18-60 y Caucasian"])
    at_once = simulate(TYPICAL, Regimen((esketamine("intranasal", 84.0),)), one, times)[ESK]
    later = TYPICAL.with_parameters(FRn=VALUE["FRn"] * VALUE["FRn_dose_effect"])
    first = simulate(TYPICAL, Regimen((esketamine("intranasal", 28.0),)), one, times)[ESK]
    rest = simulate(later, Regimen((esketamine("intranasal", 28.0, 5 / 60),
                                    esketamine("intranasal", 28.0, 10 / 60))), one, times)[ESK]
    tmax_once = cmax_tmax(at_once.to_numpy()[0], times)[1] * 60
    tmax_staggered = cmax_tmax((first + rest).to_numpy()[0], times)[1] * 60 - 10
    assert 20 <= tmax_once <= 40  # 39.5 min
    assert 20 <= tmax_staggered <= 40  # 34.3 min after the third device


def test_frn_variability_is_additive_on_the_logit_scale_with_sd_0708():
    """Table 3: omega(FRn) 70.8 on the logit scale; the odds factor's log has that SD."""
    odds = next(p for p in MODEL.parameters if p.name == "FRn_odds")
    assert odds.omega == pytest.approx(0.708, rel=1e-12)


def test_japanese_population_keeps_nasal_fraction_at_most_one():
    """FRn x 1.34 would exceed 1 for about 10% of Japanese subjects; it is capped, so a large
    population runs and its typical member matches Table 4 (checked above)."""
    res = simulate(MODEL, Regimen((esketamine("intranasal", 84.0),)),
                   Population(2000, seed=4, fixed={"japanese": 1}), np.linspace(0, 2, 9))
    assert np.isfinite(res[ESK].to_numpy()).all()


def test_sbml_agrees_with_roadrunner_for_a_drawn_subject():
    pytest.importorskip("roadrunner")
    from test_sbml import roadrunner_vs_engine

    reg = Regimen((esketamine("intranasal", 56.0),))
    for output in (ESK, NOR):
        actual, expected = roadrunner_vs_engine(MODEL, reg, Population(1, seed=7), output)
        np.testing.assert_allclose(actual, expected, rtol=1e-5)
