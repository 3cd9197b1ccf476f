"""The batch engine against closed-form solutions (relative error <= 1e-6 at rtol 1e-8)."""

import numba
import numpy as np
import pk_cases as pc
import pytest

from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError, ScenarioError
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.simulation import engine
from ketasim.simulation.engine import simulate

TIGHT = {"rtol": 1e-8, "atol": 1e-12}
ONE = Population(1, fixed={"weight_kg": 70.0})
TIMES = np.linspace(0.0, 48.0, 97)


def bolus(mg, t=0.0, route="iv_bolus"):
    return Dose("racemic", route, mg, time_h=t)


def infusion(mg, t, dur):
    return Dose("racemic", "iv_infusion", mg, time_h=t, duration_h=dur)


def conc(model, regimen, times=TIMES, **kw):
    """Simulated central concentration (ng/mL) of one subject."""
    res = simulate(model, regimen, ONE, times, **(TIGHT | kw))
    return res["ketamine_plasma_ng_ml"].to_numpy()[0]


def exact_conc(compartments, events, times=TIMES, depot=False):
    amounts = pc.exact_amounts(pc.system_matrix(compartments, depot), events, times)
    return amounts[:, 1 if depot else 0] / pc.V1 * 1000


def assert_rel(actual, expected, tol=1e-6):
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale * 1e-3)


def test_one_compartment_bolus_matches_exponential():
    c = conc(pc.model(1), Regimen((bolus(100.0),)))
    assert_rel(c, 100.0 / pc.V1 * 1000 * np.exp(-pc.RATES["k10"] * TIMES))


def test_one_compartment_infusion_matches_closed_form():
    k, rate, dur = pc.RATES["k10"], 50.0 / 2.0, 2.0
    t = TIMES
    during = rate / (k * pc.V1) * (1 - np.exp(-k * np.minimum(t, dur)))
    expected = during * np.exp(-k * np.maximum(t - dur, 0.0)) * 1000
    assert_rel(conc(pc.model(1), Regimen((infusion(50.0, 0.0, dur),))), expected)


@pytest.mark.parametrize("compartments", [2, 3])
def test_first_order_absorption_multi_compartment(compartments):
    model = pc.model(compartments, depot=True)
    events = [(0.0, 0, "bolus", 150.0 * pc.F_ORAL)]
    assert_rel(conc(model, Regimen((bolus(150.0, route="oral"),))),
               exact_conc(compartments, events, depot=True))


def test_first_order_absorption_matches_bateman():
    k, ka, f = pc.RATES["k10"], pc.KA, pc.F_ORAL
    expected = f * 200.0 * ka / (pc.V1 * (ka - k)) * (np.exp(-k * TIMES) - np.exp(-ka * TIMES))
    assert_rel(conc(pc.model(1, depot=True), Regimen((bolus(200.0, route="oral"),))),
               expected * 1000)


@pytest.mark.parametrize("compartments", [2, 3])
def test_multi_compartment_bolus_and_infusion(compartments):
    reg = Regimen((bolus(80.0, 1.0), infusion(60.0, 5.0, 1.5)))
    events = [(1.0, 0, "bolus", 80.0), (5.0, 0, "rate", 40.0), (6.5, 0, "rate", -40.0)]
    assert_rel(conc(pc.model(compartments), reg), exact_conc(compartments, events))


def test_repeated_oral_doses_superpose_with_lag():
    model = pc.model(2, depot=True, lag=0.25)
    times = [0.0, 6.0, 12.0, 18.0]
    reg = Regimen.repeated(bolus(100.0, route="oral"), times)
    events = [(t + 0.25, 0, "bolus", 100.0 * pc.F_ORAL) for t in times]
    assert_rel(conc(model, reg), exact_conc(2, events, depot=True))


def test_domino_matches_matrix_exponential():
    """Domino 1982 with one subject's drawn parameters (IIV on V1 and k10)."""
    m = get_model("domino1982")
    infusion = Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=2 / 3)
    res = simulate(m, Regimen((infusion,)), Population(1, seed=3), TIMES, **TIGHT)
    p = {k: float(res[k][0]) for k in m.parameter_names}
    a = np.array([[-(p["k10"] + p["k12"] + p["k13"]), p["k21"], p["k31"]],
                  [p["k12"], -p["k21"], 0], [p["k13"], 0, -p["k31"]]])
    w = float(res["weight_kg"][0])
    rate = 0.5 * w / (2 / 3)
    amounts = pc.exact_amounts(a, [(0.0, 0, "rate", rate), (2 / 3, 0, "rate", -rate)], TIMES)
    v1 = p["V1_per_kg"] * w
    assert_rel(res["ketamine_plasma_ng_ml"].to_numpy()[0], amounts[:, 0] / v1 * 1000)


def test_long_stiff_run_stays_accurate_at_default_tolerances():
    """28 days of Domino: the solver switches to RODAS4; relative error stays below 2e-5
    wherever the concentration is above 1e-3 of its peak (default rtol 1e-6)."""
    m = get_model("domino1982")
    times = np.arange(0, 28 * 24 * 4 + 1) * 0.25
    infusion = Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=2 / 3)
    res = simulate(m, Regimen((infusion,)), Population(3, seed=9), times)
    for i in range(3):
        p = {name: float(res[name][i]) for name in m.parameter_names}
        a = np.array([[-(p["k10"] + p["k12"] + p["k13"]), p["k21"], p["k31"]],
                      [p["k12"], -p["k21"], 0], [p["k13"], 0, -p["k31"]]])
        rate = 0.5 * float(res["weight_kg"][i]) / (2 / 3)
        exact = pc.exact_amounts(a, [(0.0, 0, "rate", rate), (2 / 3, 0, "rate", -rate)],
                                 times[:200])[:, 0]
        got = res["central"].to_numpy()[i, :200]
        keep = exact > 1e-3 * exact.max()
        assert np.max(np.abs(got[keep] / exact[keep] - 1)) < 2e-5


def test_serial_and_parallel_runs_are_bit_identical(monkeypatch):
    m = get_model("domino1982")
    reg = Regimen((Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=2 / 3),))
    pop = Population(200, seed=7)
    numba.set_num_threads(1)
    serial = simulate(m, reg, pop, TIMES)["ketamine_plasma_ng_ml"].to_numpy()
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    monkeypatch.setattr(engine, "MAX_CHUNK", 33)
    parallel = simulate(m, reg, pop, TIMES)["ketamine_plasma_ng_ml"].to_numpy()
    assert np.array_equal(serial, parallel)


def test_same_seed_same_subjects_and_different_seed_differs():
    m = get_model("domino1982")
    reg = Regimen((Dose("racemic", "iv_bolus", 0.2, per_kg=True),))
    a = simulate(m, reg, Population(50, seed=1), TIMES)["ketamine_plasma_ng_ml"].to_numpy()
    b = simulate(m, reg, Population(50, seed=1), TIMES)["ketamine_plasma_ng_ml"].to_numpy()
    c = simulate(m, reg, Population(50, seed=2), TIMES)["ketamine_plasma_ng_ml"].to_numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# --- dosing edge cases that broke mrgsolve and rxode2 -------------------------------------------

def test_bolus_exactly_at_output_time_reports_post_dose_value():
    times = np.array([0.0, 2.0, 4.0])
    c = conc(pc.model(1), Regimen((bolus(100.0, 0.0), bolus(50.0, 2.0))), times)
    k = pc.RATES["k10"]
    post = (100.0 * np.exp(-2 * k) + 50.0) / pc.V1 * 1000
    assert c[1] == pytest.approx(post, rel=1e-8)


def test_dose_at_time_zero_with_output_at_zero_is_post_dose():
    c = conc(pc.model(1), Regimen((bolus(100.0, 0.0),)), np.array([0.0, 1.0]))
    assert c[0] == pytest.approx(100.0 / pc.V1 * 1000, rel=1e-12)


def test_two_overlapping_infusions_add_their_rates():
    reg = Regimen((infusion(30.0, 0.0, 3.0), infusion(40.0, 1.0, 1.0)))
    events = [(0.0, 0, "rate", 10.0), (3.0, 0, "rate", -10.0),
              (1.0, 0, "rate", 40.0), (2.0, 0, "rate", -40.0)]
    assert_rel(conc(pc.model(2), reg), exact_conc(2, events))


def test_infusion_running_past_the_last_output_time():
    times = np.linspace(0.0, 2.0, 9)
    reg = Regimen((infusion(100.0, 1.0, 5.0),))
    events = [(1.0, 0, "rate", 20.0), (6.0, 0, "rate", -20.0)]
    assert_rel(conc(pc.model(3), reg, times), exact_conc(3, events, times))


def test_zero_length_infusion_is_rejected():
    with pytest.raises(ScenarioError, match="duration"):
        infusion(10.0, 0.0, 0.0)


def test_route_the_model_does_not_take_is_an_error_naming_the_allowed_routes():
    with pytest.raises(KetasimError, match="iv_bolus, iv_infusion"):
        conc(pc.model(1), Regimen((bolus(10.0, route="oral"),)))


@pytest.mark.parametrize("times", [[], [1.0, 0.5], [0.0, np.nan], [-1.0, 1.0]])
def test_bad_output_times_are_rejected(times):
    with pytest.raises(KetasimError, match="times"):
        conc(pc.model(1), Regimen((bolus(10.0),)), np.array(times))


def test_a_dose_split_between_deposits_with_zero_order_part_and_dose_dependent_share():
    """Like a nasal spray: a share absorbed first-order from a depot after a lag, the rest
    (its share depending on the dose) entering the central compartment at a constant rate."""
    from ketasim.modeling.spec import Deposit, Input, Parameter
    from ketasim.models.pk.compartmental import mammillary

    split = Input(("racemic",), ("intranasal",), (
        Deposit("depot", fraction="share", lag_h="0.1"),
        Deposit("central", fraction="(1 - share) * 40 / dose_mg", duration_h="0.5")))
    params = (Parameter("V1", pc.V1, "L", "test"), Parameter("k10", pc.RATES["k10"], "1/h", "t"),
              Parameter("ka", pc.KA, "1/h", "t"), Parameter("share", 0.54, "1", "t"))
    m = mammillary("split", "t", "t", params, compartments=1, inputs=(split,), depot=True,
                   covariates=())
    a = pc.system_matrix(1, depot=True)
    zero_order = (1 - 0.54) * 40 / 80 * 80 / 0.5  # mg/h of the dose-dependent share
    events = [(0.1, 0, "bolus", 0.54 * 80), (0.0, 1, "rate", zero_order),
              (0.5, 1, "rate", -zero_order)]
    expected = pc.exact_amounts(a, events, TIMES)[:, 1] / pc.V1 * 1000
    assert_rel(conc(m, Regimen((bolus(80.0, route="intranasal"),))), expected)


def test_correlated_random_effects_have_the_declared_correlation():
    """Two parameters with 30% and 50% CV, correlation 0.6: drawn log-values reproduce the
    covariance within sampling error (n = 20,000)."""
    from dataclasses import replace

    from ketasim.modeling.spec import Parameter

    params = (Parameter("V1", pc.V1, "L", "t", cv=0.3, cv_source="t"),
              Parameter("k10", pc.RATES["k10"], "1/h", "t", cv=0.5, cv_source="t"))
    m = replace(pc.model(1), parameters=params, correlations={("V1", "k10"): 0.6})
    eta = np.log(Population(20_000, seed=5).sample(m).params[:, :2] / [pc.V1, pc.RATES["k10"]])
    assert np.corrcoef(eta.T)[0, 1] == pytest.approx(0.6, abs=0.02)
    assert eta.std(axis=0) == pytest.approx([np.sqrt(np.log(1.09)), np.sqrt(np.log(1.25))],
                                            rel=0.02)
