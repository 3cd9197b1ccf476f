"""Placebo, midazolam and oral antidepressants: doses, expectancy and SERT occupancy."""

import math

import numpy as np
import pytest

from ketasim.clinical.safety import dose_warnings
from ketasim.dosing import Dose, Regimen, read_event_table, to_event_table, write_event_table
from ketasim.errors import ScenarioError
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.scenario.files import parse_scenario
from ketasim.simulation.engine import simulate

MODEL = get_model("racemic_sr+mechanism")
VALUES = {p.name: p.model_value[0] for p in MODEL.parameters}  # model units (h)
ONE = Population(1, fixed={"weight_kg": 70.0, "age_y": 40.0})
TYPICAL = {"seed": 1}


def run(doses, times, model=MODEL):
    data = simulate(model.typical(), Regimen(tuple(doses)), ONE, np.asarray(times, float))
    return {name: data[name].to_numpy()[0] for name in data.data_vars}


def test_a_placebo_takes_no_amount_and_the_others_need_one():
    assert Dose("placebo", "oral", None).amount_mg(70.0) == 0.0
    with pytest.raises(ScenarioError, match=r"^amount: a placebo dose takes no amount"):
        Dose("placebo", "oral", 5.0)
    with pytest.raises(ScenarioError, match=r"^amount: a racemic dose needs an amount"):
        Dose("racemic", "oral", None)
    with pytest.raises(ScenarioError, match=r"^substance: 'saline' is not one of racemic, "):
        Dose("saline", "oral", None)


def test_placebo_round_trips_through_an_event_table(tmp_path):
    regimen = Regimen((Dose("placebo", "iv_infusion", None, duration_h=40 / 60),
                       Dose("ssri", "oral", 10.0, time_h=24.0)))
    path = tmp_path / "events.csv"
    write_event_table(to_event_table([regimen]), path)
    assert read_event_table(path) == [regimen]
    text = path.read_text().replace("1,0.0,0.0,0.0,0.6666666666666666",
                                    "1,0.0,2.0,0.0,0.6666666666666666")
    path.write_text(text)
    with pytest.raises(ScenarioError, match="row 1, AMT: a placebo dose takes no amount"):
        read_event_table(path)


def test_scenario_placebo_without_amount_and_unknown_route_for_ssri():
    base = {"name": "x", "population": {"n": 2}, "output": {"end": "2 d", "step": "1 d"}}
    scenario = parse_scenario(base | {"doses": [
        {"substance": "placebo", "route": "iv_infusion", "duration": "40 min"}]})
    assert scenario.model == "racemic_sr+mechanism"  # the first model that takes a placebo
    with pytest.raises(ScenarioError, match=r"doses\[0\]\.route: model 'racemic_sr\+mechanism' "
                                            r"takes ssri only by oral"):
        parse_scenario(base | {"doses": [{"substance": "ssri", "route": "im",
                                          "amount": "10 mg"}]})
    with pytest.raises(ScenarioError, match=r"doses\[0\]\.substance: model 'racemic_sr' does "
                                            r"not take placebo"):
        parse_scenario(base | {"model": "racemic_sr", "doses": [
            {"substance": "placebo", "route": "oral"}]})


def test_expectancy_jumps_by_the_belief_of_each_session_and_halves_per_half_life():
    """Closed forms: E and the session count S each jump at a session (by the belief, by 1)
    and halve per half-life; the effect is w (1 - exp(-E / (1 + S)))."""
    t12 = VALUES["t12_expectancy"]  # h
    times = [0.5, t12, 2 * t12]
    for substance, amount, belief in (("placebo", None, VALUES["belief_placebo"]),
                                      ("midazolam", 3.0, VALUES["belief_active"]),
                                      ("racemic", 35.0, VALUES["belief_active"]),
                                      ("racemic", 70.0, VALUES["belief_active"])):
        e = run([Dose(substance, "iv_bolus", amount)], times)["expectancy"]
        exact = belief * 0.5 ** (np.array(times) / t12)
        np.testing.assert_allclose(e, exact, rtol=1e-5)  # whatever the amount (solver rtol)
    two = run([Dose("placebo", "oral", None), Dose("placebo", "oral", None, time_h=24.0)],
              [48.0])
    fading = 0.5 ** (48 / t12) + 0.5 ** (24 / t12)
    exact = VALUES["belief_placebo"] * fading
    np.testing.assert_allclose(two["expectancy"], exact, rtol=1e-5)
    np.testing.assert_allclose(two["sessions"], fading, rtol=1e-5)
    effect = VALUES["w_expectancy"] * (1 - math.exp(-exact / (1 + fading)))
    np.testing.assert_allclose(two["expectancy_effect"], effect, rtol=1e-5)


def test_the_masked_variant_gives_placebo_the_belief_of_an_active_session():
    base = {"name": "x", "population": {"n": 1}, "output": {"end": "2 d", "step": "1 d"},
            "doses": [{"substance": "placebo", "route": "oral"}]}
    masked = parse_scenario(base | {"variants": {"masked": True}}).resolved_model()
    e = run([Dose("placebo", "oral", None)], [1e-3], masked)["expectancy"]
    np.testing.assert_allclose(e, VALUES["belief_active"] * 0.5 ** (1e-3 / VALUES[
        "t12_expectancy"]), rtol=1e-9)


def test_a_placebo_alone_improves_less_than_midazolam_which_improves_less_than_ketamine():
    times = [24.0]
    severity = {s: run([Dose(s, "iv_infusion", a, duration_h=40 / 60)], times)[
        "depression_severity"][0] for s, a in (("placebo", None), ("midazolam", 3.0),
                                               ("racemic", 35.0))}
    assert severity["racemic"] < severity["midazolam"] < severity["placebo"] < 1.0


def test_ssri_plasma_matches_the_one_compartment_oral_solution():
    times = np.array([1.0, 5.0, 24.0, 100.0])
    out = run([Dose("ssri", "oral", 10.0)], times)
    ka, cl, v = VALUES["ka_ssri"], VALUES["cl_ssri"], VALUES["v_ssri"]
    k = cl / v
    exact = 10.0 * ka / (v * (ka - k)) * (np.exp(-k * times) - np.exp(-ka * times)) * 1000
    np.testing.assert_allclose(out["ssri_plasma_ng_ml"], exact, rtol=1e-6)


def test_minimum_therapeutic_doses_occupy_about_80_percent_of_sert_at_steady_state():
    """Meyer 2004 (Am J Psychiatry 161:826): ~80% at the minimum therapeutic dose; the mean
    over the last dosing interval (5 weeks of daily doses) must be 80% +/- 3 points."""
    grid = np.linspace(34 * 24, 35 * 24, 49)
    for substance, mg in (("ssri", 10.0), ("snri", 75.0)):
        doses = Regimen.repeated(Dose(substance, "oral", mg), 24.0 * np.arange(35)).doses
        occupancy = run(doses, grid)["sert_occupancy"]
        assert abs(occupancy.mean() - 0.80) < 0.03, (substance, occupancy.mean())


def test_ssri_effect_builds_over_weeks():
    """Taylor 2006 (Arch Gen Psychiatry 63:1217): about a third of the 6-week drug effect is
    seen by week 1; with the accumulation of escitalopram the adaptation must reach 20-35% of
    its week-6 value at week 1, and rise monotonically."""
    doses = Regimen.repeated(Dose("ssri", "oral", 10.0), 24.0 * np.arange(42)).doses
    weeks = 168.0 * np.arange(1, 7)
    adaptation = run(doses, weeks)["antidepressant_adaptation"]
    assert np.all(np.diff(adaptation) > 0)
    assert 0.20 < adaptation[0] / adaptation[-1] < 0.35, adaptation / adaptation[-1]


def test_abuse_flag_counts_ketamine_doses_only_and_midazolam_amount_is_noted():
    daily_ssri = Regimen.repeated(Dose("ssri", "oral", 10.0), 24.0 * np.arange(14))
    assert dose_warnings(daily_ssri, np.array([70.0])) == ()
    midazolam = Regimen((Dose("midazolam", "iv_infusion", 0.045, per_kg=True,
                              duration_h=40 / 60),))
    (note,) = dose_warnings(midazolam, np.array([70.0]))
    assert note.startswith("midazolam is modelled as an active placebo")


def test_a_course_of_placebo_sessions_raises_expectancy_to_a_plateau_not_a_sum():
    """Nine thrice-weekly placebo sessions (Domany 2019's schedule) raise E / (1 + S) less than
    twice one session does: the mean belief times S / (1 + S) < 1, against ~6x for a sum."""
    days = (0, 2, 4, 7, 9, 11, 14, 16, 18)
    one = run([Dose("placebo", "oral", None)], [24.0])
    nine = run([Dose("placebo", "oral", None, time_h=24.0 * d) for d in days], [24.0 * 19])
    level = {k: float(r["expectancy"][0] / (1 + r["sessions"][0]))
             for k, r in (("one", one), ("nine", nine))}
    assert 1.0 < level["nine"] / level["one"] < 2.0
    assert float(nine["expectancy"][0]) / float(one["expectancy"][0]) > 5.0  # the sum
