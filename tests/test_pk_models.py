"""The PK library against closed forms, published figures and its own stated properties.

Every published figure names its source and the tolerance; the numbers come from
../shared/data/pk_parameters.md (sections A and B).
"""

import numpy as np
import pytest
from scipy.linalg import expm

from ketasim.analysis.nca import auc, cmax_tmax
from ketasim.dosing import Dose, Regimen
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.simulation.engine import simulate

ADULT = Population(1, fixed={"weight_kg": 70.0, "age_y": 40.0})
FINE = np.concatenate([np.linspace(0, 2, 241), np.linspace(2.01, 72, 1400)])
LONG = np.concatenate([FINE, np.linspace(72.5, 400, 400)])


def run(model, doses, times=FINE, population=ADULT, **fixed):
    pop = population if not fixed else Population(1, fixed={**population.fixed, **fixed})
    return simulate(get_model(model).typical(), Regimen(tuple(doses)), pop, times, rtol=1e-9,
                    atol=1e-12)


def infusion(mg_per_kg=0.5, minutes=40.0, substance="racemic"):
    return Dose(substance, "iv_infusion", mg_per_kg, per_kg=True, duration_h=minutes / 60)


def exposure(res, analyte="ketamine"):
    conc = res[f"{analyte}_plasma_ng_ml"].to_numpy()[0]
    time = res["time"].to_numpy()
    cmax, tmax = cmax_tmax(conc, time)
    return float(cmax), float(tmax), float(auc(conc, time))


# -- closed forms: the published compartmental models ---------------------------------------
def micro(res, model):
    """The model's system matrix from the subject's drawn values (1/h)."""
    p = {n: float(res[n][0]) for n in get_model(model).parameter_names}
    w = float(res["weight_kg"][0])
    if model == "clements1981":
        k10, k12, k21, v1 = p["k10"], p["k12"], p["k21"], p["V1_per_kg"] * w
    elif model == "kamp2020":
        v1 = p["V_70"] * w / 70
        return np.array([[-p["CL_70"] * (w / 70) ** 0.75 / v1]]), v1
    else:
        s = w / 70
        v1, v2 = p["V1_70"] * s, p["V2_70"] * s
        k10, k12, k21 = p["CL_70"] * s**0.75 / v1, p["Q_70"] * s**0.75 / v1, \
            p["Q_70"] * s**0.75 / v2
    return np.array([[-(k10 + k12), k21], [k12, -k21]]), v1


@pytest.mark.parametrize("model, weight", [("clements1981", 70.0), ("kamp2020", 82.0),
                                           ("herd2007", 20.0), ("hornik2018", 35.0)])
def test_published_models_match_their_closed_form(model, weight):
    pop = Population(1, fixed={"weight_kg": weight, "age_y": 10.0})
    res = run(model, [Dose("racemic", "iv_bolus", 1.0, per_kg=True)], FINE[::10], pop)
    a, v1 = micro(res, model)
    x0 = np.zeros(a.shape[0])
    x0[0] = weight
    exact = np.array([expm(a * t) @ x0 for t in FINE[::10]])[:, 0] / v1 * 1000
    got = res["ketamine_plasma_ng_ml"].to_numpy()[0]
    np.testing.assert_allclose(got, exact, rtol=1e-6, atol=1e-9 * exact.max())


# -- racemic_sr: the default model ----------------------------------------------------------
def test_depression_infusion_cmax_near_zarate_2006():
    """0.5 mg/kg over 40 min, 70-kg adult: venous Cmax 185 ng/mL (Zarate 2006, via Zanos 2018
    Pharmacol Rev Table 1). Within 10%; this figure was used to choose the disposition, so the
    agreement is a consistency check, not an independent validation."""
    cmax, tmax, _ = exposure(run("racemic_sr", [infusion()]))
    assert cmax == pytest.approx(185.0, rel=0.10)
    assert tmax == pytest.approx(40 / 60, abs=1e-9)


def test_s_and_r_share_the_dose_and_differ_by_clearance():
    """AUC0-inf x CL = dose share for each enantiomer (exact for a linear model); R/S AUC ratio
    is the inverse clearance ratio 0.024/0.020 (Persson 2002)."""
    res = run("racemic_sr", [Dose("racemic", "iv_bolus", 35.0)], LONG)
    m = get_model("racemic_sr")
    p = {n: float(res[n][0]) for n in m.parameter_names}
    v1 = p["V1_per_kg"] * 70
    cl_s = p["k10"] * v1 * 2 / (1 + p["r_to_s_clearance"])
    auc_s = exposure(res, "s_ketamine")[2]
    auc_r = exposure(res, "r_ketamine")[2]
    assert auc_s * cl_s / 1000 == pytest.approx(17.5, rel=1e-3)
    assert auc_r / auc_s == pytest.approx(0.024 / 0.020, rel=1e-3)
    total = res["ketamine_plasma_ng_ml"] - res["s_ketamine_plasma_ng_ml"] \
        - res["r_ketamine_plasma_ng_ml"]
    assert float(abs(total).max()) <= 1e-12 * float(res["ketamine_plasma_ng_ml"].max())


@pytest.mark.parametrize("route, dose_mg, expected, source", [
    ("oral", 25.0, 0.20, "Yanagihara 2003"),
    ("sublingual", 25.0, 0.29, "Rolan 2014"),
    ("intranasal", 10.0, 0.17, "Pharmacotherapy 2022 Table 6"),
    ("intranasal", 30.0, 0.13, "Pharmacotherapy 2022 Table 6"),
    ("intranasal", 50.0, 0.11, "Pharmacotherapy 2022 Table 6"),
    ("im", 25.0, 0.93, "Clements 1982 (tertiary)"),
])
def test_bioavailability_by_route(route, dose_mg, expected, source):
    """Dose-normalised AUC0-inf against IV: within 1 percentage point of the published F."""
    iv = exposure(run("racemic_sr", [Dose("racemic", "iv_bolus", 10.0)], LONG))[2] / 10.0
    other = exposure(run("racemic_sr", [Dose("racemic", route, dose_mg)], LONG))[2] / dose_mg
    assert other / iv == pytest.approx(expected, abs=0.01), source


@pytest.mark.parametrize("route, tmax_h", [("oral", 0.96), ("sublingual", 0.76),
                                           ("intranasal", 17.7 / 60)])
def test_tmax_by_route_as_published(route, tmax_h):
    """Chong 2006 (oral, sublingual), Pharmacotherapy 2022 (intranasal), to the output grid."""
    assert exposure(run("racemic_sr", [Dose("racemic", route, 25.0)]))[1] == \
        pytest.approx(tmax_h, abs=0.01)


def test_oral_doses_form_more_norketamine_than_iv():
    """Presystemic norketamine formation: the norketamine/ketamine AUC ratio is far higher
    after oral dosing (Chong 2006; Yanagihara 2003; Fanta 2015 for S-ketamine)."""
    iv = run("racemic_sr", [Dose("racemic", "iv_bolus", 10.0)], LONG)
    oral = run("racemic_sr", [Dose("racemic", "oral", 25.0)], LONG)
    ratio = [exposure(r, "norketamine")[2] / exposure(r)[2] for r in (iv, oral)]
    assert ratio[1] > 4 * ratio[0]


def test_norketamine_after_10_mg_iv_within_chong_2006():
    """Norketamine Cmax after 10 mg IV: 38 +/- 29 ug/L (Chong 2006): within mean +/- 1 SD."""
    cmax = exposure(run("racemic_sr", [Dose("racemic", "iv_bolus", 10.0)]), "norketamine")[0]
    assert 38 - 29 <= cmax <= 38 + 29


@pytest.mark.parametrize("flag, route, fold, source", [
    ("cyp3a_inhibitor", "oral", 2.6, "Hagelberg 2010, clarithromycin"),
    ("cyp2b6_inhibitor", "oral", 2.4, "Peltoniemi 2011, ticlopidine"),
    ("cyp3a_inducer", "oral", 0.14, "Peltoniemi 2012, rifampicin"),
    ("cyp3a_inducer", "iv_bolus", 0.86, "Peltoniemi 2012, rifampicin"),
])
def test_drug_interactions_change_auc_as_published(flag, route, fold, source):
    without = exposure(run("racemic_sr", [Dose("racemic", route, 20.0)], LONG))[2]
    with_it = exposure(run("racemic_sr", [Dose("racemic", route, 20.0)], LONG, **{flag: 1}))[2]
    assert with_it / without == pytest.approx(fold, rel=0.01), source


def test_brain_follows_plasma_with_the_published_equilibration_half_life():
    """Effect site: dCe/dt = ln2 / 6.1 min x (Cp - Ce) (Olofsen 2012), checked by central
    differences (to 1e-4 relative); the brain peaks after plasma."""
    times = np.linspace(0, 4, 4801)
    res = run("racemic_sr", [infusion(0.5, 40.0)], times)
    cp, ce = (res[f"ketamine_{s}_ng_ml"].to_numpy()[0] for s in ("plasma", "brain"))
    slope = (ce[2:] - ce[:-2]) / (times[2:] - times[:-2])
    ke0 = np.log(2) / (6.1 / 60)
    inside = (times[1:-1] > 0.01) & (np.abs(times[1:-1] - 40 / 60) > 0.01)  # off the kinks
    np.testing.assert_allclose(slope[inside], (ke0 * (cp - ce)[1:-1])[inside], rtol=1e-4,
                               atol=1e-4 * cp.max())
    assert np.argmax(ce) > np.argmax(cp)


def test_molar_outputs_use_molar_masses():
    res = run("racemic_sr", [infusion()], FINE[:50])
    for analyte, mw in (("ketamine", 237.72), ("norketamine", 223.70)):
        np.testing.assert_allclose(res[f"{analyte}_plasma_um"], res[f"{analyte}_plasma_ng_ml"]
                                   / mw, rtol=1e-12)


def test_single_enantiomers_take_only_iv_routes_in_racemic_sr():
    m = get_model("racemic_sr")
    assert m.routes_for("arketamine") == ("iv_bolus", "iv_infusion")
    res = run("racemic_sr", [infusion(substance="arketamine")])
    assert float(res["s_ketamine_plasma_ng_ml"].max()) == 0.0
    assert float(res["r_ketamine_plasma_ng_ml"].max()) > 0.0


def test_auc_is_exact_on_a_coarse_output_grid():
    """AUC comes from an integrated state, so dose / CL holds to 1e-6 on the 15-min grid of the
    example scenario (the trapezoid on that grid misses the fast early fall by a few %)."""
    from ketasim.analysis.nca import exposures
    from ketasim.models.pk.analytes import plasma_analytes

    times = np.arange(0, 28 * 96 + 1) * 0.25
    model = get_model("domino1982")
    res = simulate(model, Regimen((infusion(),)), Population(5, seed=1),
                   times)
    cl = (res["k10"] * res["V1_per_kg"] * res["weight_kg"]).to_numpy()
    dose = 0.5 * res["weight_kg"].to_numpy()
    auc = exposures(res, plasma_analytes(model))["ketamine"]["auc_ng_h_ml"]
    np.testing.assert_allclose(auc * cl / 1000, dose, rtol=1e-6)


@pytest.mark.slow
def test_simulated_observations_carry_the_published_residual_error():
    """Perez-Ruixo 2021: esketamine 27.6% and noresketamine 42.2% on the log scale: the SD of
    log(observed / predicted) matches within 3% over 40,000 draws; the same seed repeats."""
    from ketasim.errors import KetasimError
    from ketasim.simulation.observations import observe

    m = get_model("perez_ruixo2021")
    res = simulate(m, Regimen((Dose("esketamine", "intranasal", 56.0),)), Population(200),
                   np.linspace(0.25, 24, 200))
    obs = observe(res, m, seed=3)
    for output, sd in (("s_ketamine_plasma_ng_ml", 0.276), ("s_norketamine_plasma_ng_ml",
                                                           0.422)):
        ratio = np.log(obs[f"{output}_obs"] / res[output]).to_numpy()
        assert ratio.std() == pytest.approx(sd, rel=0.03)
        assert abs(ratio.mean()) < 0.01
    again = observe(res.isel(subject=slice(100, 200)), m, seed=3)
    np.testing.assert_array_equal(again["s_ketamine_plasma_ng_ml_obs"],
                                  obs["s_ketamine_plasma_ng_ml_obs"][100:])
    with pytest.raises(KetasimError, match="no published residual error"):
        observe(res, get_model("racemic_sr"), seed=1)


KNOWN_MISSES = [
    # (dose, published Cmax ng/mL, source): racemic_sr's Clements central volume (123 L at
    # 70 kg) cannot give early peaks after a bolus or fast absorption; see
    # docs/validation/pk/README.md. Expected failures, kept visible.
    (Dose("racemic", "iv_bolus", 10.0), 296.0, "Pharmacotherapy 2022 Table 6, 10 mg IV"),
    (Dose("racemic", "intranasal", 30.0), 60.8, "Pharmacotherapy 2022 Table 6, 30 mg IN"),
    (Dose("racemic", "oral", 0.5, per_kg=True), 45.0, "Grant 1981 via Zanos 2018, 0.5 mg/kg"),
]


@pytest.mark.xfail(strict=True, reason="racemic_sr underestimates early peaks after a bolus, "
                   "intranasal or oral dose by 2.5-3.7x (large Clements central volume)")
@pytest.mark.parametrize("dose, published, source", KNOWN_MISSES,
                         ids=[m[2] for m in KNOWN_MISSES])
def test_early_peaks_after_fast_inputs(dose, published, source):
    cmax = exposure(run("racemic_sr", [dose]))[0]
    assert cmax == pytest.approx(published, rel=0.3), source
