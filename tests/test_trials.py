"""Virtual trials: the analyses against known answers, power against the nominal error rates,
the examples, and designs that cannot run."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ketasim.analysis import statistics
from ketasim.errors import ScenarioError
from ketasim.report.trial import run_trial
from ketasim.scenario.files import load_scenario, parse_scenario

EXAMPLES = Path(__file__).parents[1] / "examples"
TRIALS = ("single_infusion_vs_midazolam", "six_infusion_course",
          "esketamine_with_new_antidepressant", "weekly_maintenance_withdrawal", "dose_finding",
          "crossover")


def test_binary_p_value_is_the_chi_square_test_and_odds_ratio_the_cross_product():
    treated = np.r_[np.ones(18), np.zeros(12)].astype(bool)
    control = np.r_[np.ones(9), np.zeros(21)].astype(bool)
    rd, odds = statistics.binary(control, treated)
    _, p, *_ = stats.chi2_contingency([[18, 12], [9, 21]], correction=False)
    assert rd.p == pytest.approx(p, rel=1e-12)
    assert rd.effect == pytest.approx(0.3)
    assert odds.effect == pytest.approx(18 * 21 / (12 * 9))
    assert odds.low < odds.effect < odds.high


def test_ancova_recovers_a_known_effect_and_its_type_i_error_is_nominal():
    """y = -3 * arm + 0.4 * baseline + noise (SD 6): the estimate within 3 SE of -3 on a large
    sample; with no effect, p < 0.05 in 5% of 1000 trials (binomial 99.9% band 2.9-7.5%)."""
    rng = np.random.default_rng(1)

    def trial(effect, n):
        b0, b1 = rng.normal(32, 6, n), rng.normal(32, 6, n)
        c0 = 0.4 * (b0 - 32) + rng.normal(-8, 6, n)
        c1 = effect + 0.4 * (b1 - 32) + rng.normal(-8, 6, n)
        return statistics.ancova(c0, c1, b0, b1)

    big = trial(-3.0, 5000)
    se = (big.high - big.effect) / stats.t.ppf(0.975, 9997)
    assert abs(big.effect + 3.0) < 3 * se
    rejections = np.mean([trial(0.0, 30).p < 0.05 for _ in range(1000)])
    assert 0.029 <= rejections <= 0.075


def test_logrank_hazard_ratio_of_exponential_times_and_symmetry():
    rng = np.random.default_rng(2)
    control = rng.exponential(10.0, 4000)
    treated = rng.exponential(20.0, 4000)  # true hazard ratio 0.5
    cut = 30.0  # administrative censoring
    est = statistics.logrank(np.minimum(control, cut), control < cut,
                           np.minimum(treated, cut), treated < cut)
    assert est.effect == pytest.approx(0.5, abs=0.04)
    assert est.p < 1e-10
    swapped = statistics.logrank(np.minimum(treated, cut), treated < cut,
                               np.minimum(control, cut), control < cut)
    assert swapped.effect == pytest.approx(1 / est.effect, rel=1e-9)
    assert swapped.p == pytest.approx(est.p)
    same = statistics.logrank([1, 2, 3], [True] * 3, [1, 2, 3], [True] * 3)
    assert same.effect == pytest.approx(1.0) and same.p == pytest.approx(1.0)


def test_crossover_cancels_the_period_effect():
    """Period 2 is 2 points better for everyone, B is 3 points better than A: the estimate is
    -3 exactly when every patient responds alike."""
    change_a1, change_b2 = -5.0, -5.0 - 3.0 - 2.0  # sequence AB
    change_b1, change_a2 = -5.0 - 3.0, -5.0 - 2.0  # sequence BA
    ab = np.full(6, change_b2 - change_a1) + np.linspace(-1, 1, 6)
    ba = np.full(6, change_b1 - change_a2) + np.linspace(-1, 1, 6)
    est = statistics.crossover(ab, ba)
    assert est.effect == pytest.approx(-3.0)
    assert est.low < -3.0 < est.high


def _doc(arms, trial, n=30, end="3 d"):
    return {"name": "t", "arms": arms, "population": {"n": n, "seed": 9},
            "output": {"end": end, "step": "1 d", "timepoints": ["24 h"]}, "trial": trial}


_SALINE = {"route": "iv_infusion", "duration": "40 min"}


def test_identical_arms_reject_at_the_nominal_rate(tmp_path):
    """Saline against saline: power is the type I error, 5% (binomial 99.9% band over 400
    trials: 1.8-9.0%)."""
    scenario = parse_scenario(_doc(
        [{"label": "a", "substance": "placebo", "doses": [_SALINE]},
         {"label": "b", "substance": "placebo", "doses": [_SALINE]}],
        {"primary": "24 h"}))
    result = run_trial(scenario, 400, tmp_path, pool_n=600)
    assert 0.018 <= result["power"] <= 0.090
    assert abs(result["effect"]["median"]) < 1.0


@pytest.mark.slow
def test_trial_json_has_the_contract_and_a_sample_size(tmp_path):
    scenario = parse_scenario(_doc(
        [{"label": "saline", "substance": "placebo", "doses": [_SALINE]},
         {"label": "ketamine", "substance": "racemic",
          "doses": [_SALINE | {"amount": "0.5 mg/kg"}]}], {"control": "saline"}, n=12))
    result = run_trial(scenario, 60, tmp_path, target_power=0.8, pool_n=300)
    written = json.loads((tmp_path / "trial.json").read_text())
    assert written == result
    assert written["n_per_arm"] == 12 and 0 <= written["power"] <= 1
    effect = written["effect"]
    assert effect["p5"] <= effect["median"] <= effect["p95"] < 0  # ketamine better
    size = written["sample_size"]
    assert size["power"] >= 0.8
    for row in size["tried"]:  # the smallest size reaching the target
        assert (row["power"] >= 0.8) == (row["n_per_arm"] >= size["n_per_arm"]) or \
            row["n_per_arm"] > size["n_per_arm"]
    assert any(row["n_per_arm"] == size["n_per_arm"] - 1 and row["power"] < 0.8
               for row in size["tried"])
    for name in ("forest.png", "trajectories.png", "kaplan_meier.png"):
        assert (tmp_path / name).stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("name", TRIALS)
def test_every_example_trial_runs(name, tmp_path):
    scenario = load_scenario(EXAMPLES / f"{name}.toml")
    result = run_trial(scenario, 20, tmp_path, pool_n=100)
    assert result["replicates"] == 20 and len(result["comparisons"]) == len(scenario.arms) - 1
    assert math.isfinite(result["effect"]["median"])


@pytest.mark.parametrize(("arms", "trial", "message"), [
    ([{"label": "k", "substance": "racemic", "doses": [_SALINE | {"amount": "0.5 mg/kg"}]}],
     {"design": "crossover", "washout": "14 d"}, r"^trial\.design: a crossover trial needs at "
                                                 r"least two arms"),
    ([{"label": "a", "substance": "placebo", "doses": [_SALINE]},
      {"label": "b", "substance": "placebo", "doses": [_SALINE]}],
     {"design": "crossover"}, r"^trial\.washout: a crossover needs a washout"),
    ([{"label": "a", "substance": "placebo", "doses": [_SALINE]},
      {"label": "b", "substance": "placebo", "doses": [_SALINE]}],
     {"design": "factorial"}, r"^trial\.design: 'factorial' is not one of parallel, "),
    ([{"label": "a", "substance": "placebo", "doses": [_SALINE]},
      {"label": "b", "substance": "placebo", "doses": [_SALINE]}],
     {"control": "c"}, r"^trial\.control: 'c' is not an arm; arms: a, b"),
])
def test_designs_that_cannot_run_are_one_line_errors_when_the_file_is_read(arms, trial, message):
    with pytest.raises(ScenarioError, match=message.replace("^", "^<scenario>: ")) as error:
        parse_scenario(_doc(arms, trial))
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("trial", "message"), [
    ({"dropout_per_week": 1.5}, r"^<scenario>: trial\.dropout_per_week: Input should be less "
                                r"than or equal to 0\.9, got 1\.5$"),
    ({"desing": "crossover"}, r"^<scenario>: trial\.desing: unknown key; did you mean "
                              r"'design'\? allowed: design, control, "),
])
def test_a_malformed_trial_table_is_refused_when_the_scenario_is_read(trial, message):
    arms = [{"label": "a", "substance": "placebo", "doses": [_SALINE]},
            {"label": "b", "substance": "placebo", "doses": [_SALINE]}]
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(_doc(arms, trial))


def test_withdrawal_without_responders_replicates_and_power_are_refused(tmp_path):
    saline = {"route": "iv_infusion", "duration": "40 min", "at": ["0 d", "2 d"]}
    scenario = parse_scenario(_doc(
        [{"label": "off", "substance": "placebo", "doses": [saline]},
         {"label": "on", "substance": "placebo", "doses": [saline]}],
        {"design": "randomized_withdrawal", "randomize": "6 min"}, n=5))
    with pytest.raises(ScenarioError, match=r"^trial\.randomize: no virtual patient responds"):
        run_trial(scenario, 10, tmp_path, pool_n=50)
    with pytest.raises(ScenarioError, match=r"^replicates: must be a whole number from 1 to "):
        run_trial(scenario, 0, tmp_path)
    with pytest.raises(ScenarioError, match=r"^target-power: must be between 0 and 1"):
        run_trial(scenario, 10, tmp_path, target_power=1.0)


@pytest.mark.slow
def test_a_trial_on_a_dask_cluster_gives_the_same_trials(tmp_path, monkeypatch):
    """Pools and replicate blocks on a 2-worker LocalCluster: trial.json as in this process;
    an unreachable scheduler is a one-line error naming --scheduler."""
    from dask.distributed import LocalCluster

    from ketasim import distributed
    from ketasim.errors import KetasimError
    from ketasim.trials import run

    monkeypatch.setattr(run, "REPLICATE_BLOCK", 7)  # several blocks for 30 trials
    scenario = parse_scenario(_doc(
        [{"label": "saline", "substance": "placebo", "doses": [_SALINE]},
         {"label": "ketamine", "substance": "racemic",
          "doses": [_SALINE | {"amount": "0.5 mg/kg"}]}], {"control": "saline"}, n=10))
    here = run_trial(scenario, 30, tmp_path / "here", pool_n=80)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        there = run_trial(scenario, 30, tmp_path / "there", pool_n=80,
                          scheduler=cluster.scheduler_address)
    assert there == here
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(KetasimError, match=r"^--scheduler: cannot connect to tcp://127\.0\.0\.1:9"):
        run_trial(scenario, 30, tmp_path / "none", pool_n=80, scheduler="tcp://127.0.0.1:9")
