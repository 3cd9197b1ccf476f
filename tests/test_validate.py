"""Validation: prediction intervals for every simulated published result, the leave-one-study-out
reweighting, the between-study effect of a new trial, the visual predictive checks and the HTML
report."""

import html
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from ketasim.cli import app
from ketasim.clinical.visits import Ratings
from ketasim.evidence import endpoints as ep
from ketasim.evidence import validate as v
from ketasim.evidence.calibrate import Target
from ketasim.evidence.claims import claims
from ketasim.evidence.targets import load_targets
from ketasim.report.validation import write

pytestmark = pytest.mark.slow  # end to end: the validation and its report

FIELDS = {"study", "arm", "endpoint", "kind", "scale", "statistic", "time_h", "n", "observed",
          "observed_interval", "predicted", "p5", "p95", "inside", "loso_predicted", "loso_p5",
          "loso_p95", "loso_inside", "fitted", "source", "citation", "rows", "label"}


@pytest.fixture(scope="module")
def result():
    """Tiny settings: 2 parameter sets, populations of max(60, the trial's n)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(v, "POPULATION_FACTOR", 1)
        return v.validate(draws=2, n=60, resamples=30, seed=5)


def test_json_schema_and_coverage(result):
    endpoints, _ = ep.select_endpoints()
    found, _ = ep.literature_endpoints()
    assert result["parameter_draws"] == 2 and result["resamples"] == 30
    assert result["n_endpoints"] == len(result["endpoints"]) == len(endpoints) + len(found)
    for row in result["endpoints"]:
        assert set(row) == FIELDS
        assert isinstance(row["inside"], bool) and isinstance(row["fitted"], bool)
        assert row["n"] >= 1 and row["rows"]
    json.dumps(result, allow_nan=False)
    keys = {(r["study"], r["statistic"], r["time_h"], r["arm"]) for r in result["endpoints"]}
    for key in [("murrough2013_biolpsych", "response_pct", 288.0, "ketamine x6, 3/week"),
                ("transform1", "response_pct", 672.0, "esketamine 84 mg + new AD"),
                ("aspire2", "mean_change_from_baseline", 24.0, "esketamine 84 mg + new AD")]:
        assert key in keys
    assert result["arms"]["esketamine 84 mg + new AD"] == "perez_ruixo2021+mechanism"
    rows = {i for r in result["endpoints"] if r["source"] != "literature" for i in r["rows"]}
    assert rows | {s["row"] for s in result["not_simulated"]} == set(range(len(load_targets())))
    assert all(s["reason"] for s in result["not_simulated"])
    literature = {i for r in result["endpoints"] if r["source"] == "literature"
                  for i in r["rows"]}
    assert literature | {s["row"] for s in result["literature_not_simulated"]} == \
        set(range(len(ep.load_literature())))
    assert all(r["citation"] for r in result["endpoints"])


def test_intervals_are_ordered_and_inside_matches_them(result):
    rows = result["endpoints"]
    for r in rows:
        assert r["p5"] <= r["predicted"] <= r["p95"], r
        assert r["inside"] == (r["p5"] <= r["observed"] <= r["p95"]), r
        assert r["loso_p5"] <= r["loso_predicted"] <= r["loso_p95"], r
        assert r["loso_inside"] == (r["loso_p5"] <= r["observed"] <= r["loso_p95"]), r
        if r["kind"] in ("response", "remission", "sensitivity"):
            assert 0.0 <= r["p5"] and r["p95"] <= 1.0
    assert result["fraction_inside"] == pytest.approx(np.mean([r["inside"] for r in rows]))
    assert result["n_inside"] == sum(r["inside"] for r in rows)
    goals = result["targets"]
    assert goals["calibration"]["of"] == sum(r["fitted"] for r in rows)
    assert goals["loso"]["inside"] == sum(r["loso_inside"] for r in rows)
    by_study = {p["study"]: p for p in result["studies"]}
    assert set(by_study) == {r["study"] for r in rows}
    assert goals["studies_all_outside"] == [s for s, p in by_study.items()
                                            if p["loso_inside"] == 0]
    for p in by_study.values():
        assert 1.0 - 1e-9 <= p["effective_draws"] <= result["parameter_draws"] + 1e-9
        if not p["in_calibration"]:  # nothing to leave out: the same interval
            assert p["effective_draws"] == pytest.approx(result["parameter_draws"])
            assert all(r["loso_p5"] == pytest.approx(r["p5"]) for r in rows
                       if r["study"] == p["study"])
    # the fitted 24-h ketamine change of Murrough 2013 AJP lies inside, the 2-h change of the
    # open-label course (a known misfit of the early time course, not fitted) outside
    by_label = {r["label"]: r for r in rows}
    assert by_label["murrough2013_ajp mean_change_from_baseline @ 24 h (n 47)"]["inside"]


def test_visual_predictive_checks_cover_every_time_course(result):
    rows = result["endpoints"]
    bands = {(b["study"], b["arm"], b["kind"]): b for b in result["vpc"]}
    for r in rows:
        if r["kind"] not in v.VPC_KINDS:
            continue
        b = bands[(r["study"], r["arm"], r["kind"])]
        assert b["times_h"] == sorted(b["times_h"]) and b["times_h"][-1] >= r["time_h"]
        assert np.all(np.array(b["p5"]) <= np.array(b["p50"]))
        assert np.all(np.array(b["p50"]) <= np.array(b["p95"]))
        if r["n"] == b["n"] and r["time_h"] in b["times_h"]:  # the same statistic, resampled
            k = b["times_h"].index(r["time_h"])
            assert r["p5"] <= b["p50"][k] <= r["p95"], (r, b)


@pytest.fixture(scope="module")
def found():
    return claims(n=40)


def test_report_has_every_endpoint_the_claims_and_no_network_resource(result, found, tmp_path):
    paths = write(result, found, tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "validation.json").read_text()) == result
    assert all(p.exists() for p in paths)
    for r in result["endpoints"]:
        assert (f"<td>{html.escape(r['study'])}</td><td>{html.escape(r['arm'])}</td>"
                f"<td>{html.escape(r['endpoint'])}</td>") in page
    assert page.count('<tr class="outside">') == result["n_endpoints"] - result["n_inside"] + \
        len(result["targets"]["studies_all_outside"])  # endpoint rows, then study rows
    assert "The claims, with data and model" in page
    for c in found:
        assert f"<td>{html.escape(c.claim)}</td>" in page
    assert "Limits" in page and "Leave one study out" in page and "Targets" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert page.count('src="data:image/png;base64,') == 1 + len(
        {r["study"] for r in result["endpoints"]})


def _draw(study_nll: dict[str, float]) -> dict:
    return {"values": {}, "tau_change": 0.0, "tau_logit": 0.0, "study_nll": study_nll}


def test_study_weights_undo_the_left_out_studys_likelihood():
    """w ∝ 1 / L_study: a draw that fits the study worse by log 2 gets twice the weight; a study
    the calibration did not see leaves the weights uniform."""
    draws = [_draw({"a": 5.0, "b": 3.0}), _draw({"a": 5.0 + math.log(2), "b": 9.0})]
    w = v.study_weights(draws, "a")
    assert w == pytest.approx([1 / 3, 2 / 3], rel=1e-12)
    assert v.study_weights(draws, "unseen") == pytest.approx([0.5, 0.5])
    assert v.effective_size(w) == pytest.approx(1 / (1 / 9 + 4 / 9))
    assert v.effective_size(np.full(8, 1 / 8)) == pytest.approx(8)


def test_weighted_percentiles_match_a_replicated_sample():
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    counts = rng.integers(1, 4, size=400)
    q = [5, 50, 95]
    got = v.weighted_percentiles(x, counts / counts.sum(), q)
    assert got == pytest.approx(np.percentile(np.repeat(x, counts), q), abs=0.05)
    assert v.weighted_percentiles(np.append(x, np.nan), np.full(401, 1.0), q) == pytest.approx(
        np.percentile(x, q), abs=0.02)


def test_study_effect_shifts_means_in_points_and_rates_on_the_logit():
    z = np.array([-1.0, 0.0, 2.0])
    change = _endpoint("change", 24.0, 40)
    assert v.study_effect(change, np.full(3, -10.0), z, 3.0, 0.5) == pytest.approx(
        [-7.0, -10.0, -16.0])
    relative = ep.Endpoint(Target("t", "relative_change", 24.0, 0.0, 40, baseline=30.0), "s", "x",
                          ep.ARMS["saline"])
    assert v.study_effect(relative, np.full(3, -0.3), z, 3.0, 0.5) == pytest.approx(
        [-0.2, -0.3, -0.5])
    rate = v.study_effect(_endpoint("response", 24.0, 40), np.full(3, 0.4), z, 3.0, 0.5)
    logit = np.log(rate / (1 - rate))
    assert logit - math.log(0.4 / 0.6) == pytest.approx(0.5 * z)
    median = _endpoint("relapse_days", 24.0, 40)
    assert np.all(v.study_effect(median, np.full(3, 18.0), z, 3.0, 0.5) == 18.0)


def _patients(scores: np.ndarray, times_h) -> Ratings:
    s = np.asarray(scores, np.int16)
    ids = np.arange(s.shape[0])
    return Ratings(np.asarray(times_h, float), ids, {"madrs": s}, {"madrs": s[:, 0]})


def _endpoint(kind: str, time_h: float, n: int, reference_h: float | None = None) -> ep.Endpoint:
    return ep.Endpoint(Target("t", kind, time_h, 0.0, n), "s", "x", ep.ARMS["saline"],
                      reference_h=reference_h)


def _resampled(e: ep.Endpoint, patients: Ratings, last_h: float, k: int,
               rng: np.random.Generator) -> np.ndarray:
    return ep.statistic(e, patients, last_h, ep.draw_groups(e, patients, last_h, k, rng))


def test_resampled_statistics_by_hand():
    rng = np.random.default_rng(1)
    same = _patients(np.tile([30, 12], (50, 1)), [0.0, 24.0])
    assert np.all(_resampled(_endpoint("change", 24.0, 10), same, 0.0, 5, rng) == -18.0)
    assert np.allclose(_resampled(_endpoint("relative_change", 24.0, 10), same, 0.0, 5, rng),
                       -0.6)
    assert np.all(_resampled(_endpoint("response", 24.0, 10), same, 0.0, 5, rng) == 1.0)
    assert np.all(_resampled(_endpoint("remission", 24.0, 10), same, 0.0, 5, rng) == 0.0)
    # half respond: a group of 100 responds 50% +/- sqrt(0.25 / 100) = 5 points
    half = _patients(np.repeat([[30, 10], [30, 20]], 500, axis=0), [0.0, 24.0])
    rates = _resampled(_endpoint("response", 24.0, 100), half, 0.0, 4000, rng)
    assert rates.mean() == pytest.approx(0.5, abs=0.005)
    assert rates.std() == pytest.approx(0.05, rel=0.08)
    # of those responding at 48 h (3 of 4 types), 2 of 3 responded at 4 h already
    types = np.repeat([[30, 10, 10], [30, 10, 10], [30, 25, 10], [30, 10, 25]], 250, axis=0)
    sens = _resampled(_endpoint("sensitivity", 4.0, 200, reference_h=48.0),
                       _patients(types, [0.0, 4.0, 48.0]), 0.0, 500, rng)
    assert sens.mean() == pytest.approx(2 / 3, abs=0.01)
    # responders at 24 h after the (only) dose fail on two visits from 72 h: relapse at day 3
    relapse = _patients(np.tile([30, 10, 10, 25, 25], (40, 1)), [0.0, 24.0, 48.0, 72.0, 96.0])
    assert np.all(_resampled(_endpoint("relapse_days", 96.0, 17), relapse, 0.0, 5, rng) == 3.0)


def test_cli_rejects_too_few_draws():
    res = CliRunner().invoke(app, ["validate", "--draws", "1"])
    assert res.exit_code == 2
    assert "--draws: must be from 2 to 1000, got 1" in res.output


def test_cli_writes_the_report_and_prints_the_share_inside(result, found, tmp_path, monkeypatch):
    """The command's wiring, with the tiny module result standing in for a full run."""
    import ketasim.evidence.claims

    monkeypatch.setattr(v, "validate", lambda *args, **kwargs: result)
    monkeypatch.setattr(ketasim.evidence.claims, "claims", lambda: found)
    res = CliRunner().invoke(app, ["validate", "--out", str(tmp_path), "--quiet"])
    assert res.exit_code == 0, res.output
    assert f"{result['n_inside']} of {result['n_endpoints']} published values inside" in res.output
    assert (tmp_path / "report.html").exists() and (tmp_path / "validation.json").exists()


def test_the_simulator_agrees_with_the_calibrations_own_endpoints():
    """Two paths to one number: the Simulator's statistic over the whole population and the
    clinic layer's endpoint table (calibrate.simulate) for the same arm, patients and seed."""
    from ketasim.evidence.calibrate import simulate
    from ketasim.evidence.validate import current_values

    targets = [e for e in ep.select_endpoints()[0]
               if e.study == "murrough2013_ajp" and e.target.arm == "ketamine"
               and e.target.time_h == 24.0]
    values = current_values()
    got = ep.Simulator(targets, 120, 3)(values)
    table = simulate(values, "ketamine", [24.0], 120, 3, "murrough2013_ajp")[24.0]
    expected = {"change": table.mean_change, "response": table.response_rate}
    assert got == pytest.approx([expected[e.target.kind] for e in targets], abs=1e-9)
