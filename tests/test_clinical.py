"""Clinic layer: scales, endpoints, calibration manifest."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.clinical import endpoints as ep
from ketasim.clinical import scales as sc
from ketasim.evidence.targets import load_targets

SHARED = Path("/work/shared/data/clinical_outcomes.csv")


# --- scales -----------------------------------------------------------------------------------

def test_scores_are_integers_within_bounds():
    sev = np.tile(np.linspace(0.0, 3.0, 13), (200, 1))  # beyond baseline too: must clip at max
    out = sc.measure(sev, np.arange(200), seed=3)
    for name, top in (("madrs", 60), ("hamd17", 52), ("qids_sr16", 27)):
        s = out[name]
        assert s.dtype == np.int16 and s.shape == sev.shape
        assert s.min() >= 0 and s.max() <= top
        assert (s[:, 0] <= 10).all()  # severity 0: noise only (SD <= 2 points, 5 SD)
        assert (s[:, -1] == top).mean() > 0.9  # 3 x baseline is clipped to the maximum


def test_score_rounds_and_clips():
    got = sc.score(np.array([10.4, 10.6, -3.0, 75.0]), np.zeros(4), "madrs")
    assert got.tolist() == [10, 11, 0, 60]


@pytest.mark.slow
def test_noise_sd_recovered():
    n = 100_000
    for name in sc.SCALE_NAMES:
        s = sc.SCALES[name]
        raw = sc.score(np.full(n, 20.0), np.random.default_rng(1).standard_normal(n), name)
        # rounding adds variance 1/12; SE of an SD estimate ~ sd / sqrt(2n) (0.2% here)
        expected = np.sqrt(s.noise_sd**2 + 1 / 12)
        assert raw.std() == pytest.approx(expected, rel=0.01)
    ids = np.arange(20_000)
    z = sc.draw(ids, 5, seed=9)[1]
    assert z.std() == pytest.approx(1.0, abs=0.005)
    assert abs(np.corrcoef(z[:, 0, 0], z[:, 1, 0])[0, 1]) < 0.03  # scales independent


@pytest.mark.slow
def test_baseline_distribution():
    b = sc.baselines(np.arange(50_000), seed=2)["madrs"]
    d = sc.BASELINES["trd"]
    assert b.min() >= d.floor and b.max() <= d.ceiling
    # truncation at 20 (1.78 SD below 31.9) raises the mean by ~0.6 and trims the SD slightly
    assert 32.0 < b.mean() < 32.8 and 6.0 < b.std() < 6.7


def test_reproducible_and_chunking_independent():
    sev = np.random.default_rng(0).uniform(0.2, 1.0, (10, 4))
    whole = sc.measure(sev, np.arange(10), seed=5)
    parts = [sc.measure(sev[a:b], np.arange(a, b), seed=5) for a, b in ((0, 3), (3, 10))]
    for name in sc.SCALE_NAMES:
        assert np.array_equal(whole[name], np.vstack([p[name] for p in parts]))
    again = sc.measure(sev, np.arange(10), seed=5)["madrs"]
    other = sc.measure(sev, np.arange(10), seed=6)["madrs"]
    assert np.array_equal(whole["madrs"], again) and not np.array_equal(whole["madrs"], other)
    single = sc.measure(sev[7:8], [7], seed=5)["madrs"]  # subject 7 alone = subject 7 in a crowd
    assert np.array_equal(single[0], whole["madrs"][7])


def test_conversions_follow_linking_tables():
    # Leucht 2018: HAM-D 10/20/30 = MADRS 13/26/39
    assert sc.to_madrs([10, 20, 30], "hamd17").tolist() == pytest.approx([13, 26, 39])
    assert sc.from_madrs(26, "hamd17") == pytest.approx(20)
    # Carmody 2006: QIDS-SR16 5 = MADRS 7.5
    assert sc.to_madrs(5, "qids_sr16") == pytest.approx(7.5)
    assert sc.convert(20, "hamd17", "hamd17") == pytest.approx(20)
    x = np.linspace(0, 60, 61)
    for name in ("hamd17", "qids_sr16"):
        y = sc.from_madrs(x, name)
        assert (np.diff(y) >= 0).all() and y[0] == 0 and y[-1] <= sc.SCALES[name].max_score
        inside = x <= sc.to_madrs(sc.SCALES[name].max_score - 1, name)
        assert sc.to_madrs(y, name)[inside] == pytest.approx(x[inside])  # round trip


def test_suicidal_ideation_share():
    assert sc.suicidal_ideation([0, 14, 15, 36, 60]).tolist() == [0, 1, 2, 4, 6]


def test_bad_inputs():
    with pytest.raises(ValueError):
        sc.measure(np.ones((2, 3)), [0], seed=1)
    with pytest.raises(ValueError):
        sc.measure(-np.ones((1, 3)), [0], seed=1)
    with pytest.raises(ValueError):
        sc.to_madrs(3, "bdi")


# --- endpoints ----------------------------------------------------------------------------------

TIMES = np.array([0.0, 24.0, 72.0, 168.0])
BASE = np.array([30, 20, 40, 10])
SCORES = np.array([[30, 15, 16, 30],    # 50% at 24 h: response; remits? 15 > 10 no
                   [20, 10, 12, 20],    # 50%: response; 10 <= 10 remission
                   [40, 30, 8, 40],     # 25%: none at 24 h; 80% at 72 h
                   [10, 6, 5, 9]])      # 40%: none; remission (6 <= 10)


def test_endpoints_by_hand():
    rows = ep.endpoints(SCORES, BASE, TIMES, [24, 72])
    r = rows[0]
    assert r.timepoint_h == 24 and r.scale == "madrs"
    assert r.mean_score == pytest.approx((15 + 10 + 30 + 6) / 4)
    change = np.array([-15, -10, -10, -4])
    assert r.mean_change == pytest.approx(change.mean())
    assert r.sd_change == pytest.approx(np.std(change, ddof=1))
    assert r.response_rate == 0.5 and r.remission_rate == 0.5
    r72 = rows[1]  # reductions 14/30, 8/20, 32/40, 5/10 -> responders: subjects 3 and 4
    assert r72.response_rate == 0.5 and r72.remission_rate == 0.5  # 8 and 5
    strict = ep.endpoints(SCORES, BASE, TIMES, [24], response_fraction=0.6, remission_max=6)
    assert strict[0].response_rate == 0.0 and strict[0].remission_rate == 0.25
    with pytest.raises(ValueError):
        ep.endpoints(SCORES, BASE, TIMES, [48])


def test_relapse_by_hand():
    # visits every 3.5 d after the last dose at t=0; assessment at 24 h; baseline 30 (cut 15)
    t = np.array([0, 24, 108, 192, 276, 360, 444, 528, 612, 696, 780], float)
    s = np.array([
        [30, 10, 20, 12, 18, 19, 20, 20, 20, 20, 20],   # fail at 108 once; relapse at 276 h
        [30, 12, 14, 16, 15, 17, 18, 20, 20, 20, 20],   # fail 192; ok 276; relapse at 360 h
        [30, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10],   # never relapses: censored at 32.5 d
        [30, 20, 25, 30, 30, 30, 30, 30, 30, 30, 30],   # never responded
    ])
    b = np.full(4, 30)
    resp, days, seen = ep.relapse_times(s, b, t, last_dose_h=0.0)
    assert resp.tolist() == [True, True, True, False]
    assert days[:3] == pytest.approx([276 / 24, 360 / 24, 780 / 24])
    assert seen.tolist() == [True, True, False, False] and np.isnan(days[3])
    out = ep.relapse(s, b, t, last_dose_h=0.0)
    assert out.n_responders == 3 and out.responder_rate == 0.75
    # KM: S = 2/3 after 11.5 d, 1/3 after 15 d -> median 15 d; S(28 d) = 1/3
    assert out.median_days_to_relapse_among_responders == pytest.approx(15.0)
    assert out.responders_still_well_at_28d == pytest.approx(1 / 3)
    one = ep.relapse(s[2:3], b[:1], t, last_dose_h=0.0)
    assert one.median_days_to_relapse_among_responders is None  # not reached
    assert one.responders_still_well_at_28d == 1.0
    short = ep.relapse(s[:, :6], b, t[:6], last_dose_h=0.0)
    assert short.responders_still_well_at_28d is None  # follow-up 15 d < 28 d


def test_kaplan_meier_censoring():
    times, surv = ep.kaplan_meier([2, 3, 3, 5, 8], [True, False, True, True, False])
    # at 2: 1-1/5 = .8; at 3: .8*(1-1/4) = .6; at 5: .6*(1-1/2) = .3
    assert times.tolist() == [2, 3, 5] and surv == pytest.approx([0.8, 0.6, 0.3])


def test_course_by_hand():
    doses = np.array([0, 56, 112, 168, 224, 280], float)  # 3 per week (2.33-d spacing)
    t = np.concatenate([[0.0], doses + 24])
    base = np.full(4, 40)
    s = np.array([[40, 20, 20, 20, 20, 20, 20],      # responds after dose 1
                  [40, 30, 28, 19, 15, 12, 10],      # after dose 3
                  [40, 35, 30, 25, 20, 18, 18],      # after dose 4 (20 = 50%)
                  [40, 38, 36, 34, 32, 30, 30]])     # never
    out = ep.course(s, base, t, doses)
    assert out.n_doses == 6
    assert out.cumulative_response_by_dose == pytest.approx([.25, .25, .5, .75, .75, .75])
    assert out.response_by_dose == pytest.approx([.25, .25, .5, .75, .75, .75])
    assert out.median_doses_to_response == pytest.approx(3.5)  # doses 1, 3, 4, inf
    assert out.median_doses_to_response_among_responders == 3.0
    none = ep.course(s[3:], base[:1], t, doses)
    assert none.median_doses_to_response is None


def test_end_to_end_from_severity():
    """Synthetic trajectory: severity 0.45 at 24 h for everyone -> most respond."""
    t = np.array([0.0, 4.0, 24.0, 168.0])
    sev = np.tile([1.0, 0.6, 0.45, 0.9], (2000, 1))
    out = sc.measure(sev, np.arange(2000), seed=11)
    rows = ep.endpoints(out["madrs"], out["madrs"][:, 0], t, [4, 24, 168])
    assert rows[0].response_rate < 0.2 < 0.6 < rows[1].response_rate
    assert rows[2].response_rate < 0.01
    assert rows[1].mean_change == pytest.approx(-0.55 * 32.4, abs=0.6)


# --- manifest -----------------------------------------------------------------------------------

def test_manifest_loads_and_is_complete():
    m = load_targets()
    unused = m["use"].str.startswith(("not usable", "validation candidate"))
    assert len(m) >= 50 and ((m["n"] > 0) | unused).all()  # a row used has its n
    assert (m["use"].str.strip() != "").all() and (m["citation"].str.strip() != "").all()
    assert (m["source_url"].str.startswith("http")).all()
    bad = m["notes"].str.lower().str.contains("secondary summary|scraped copy|low reliability")
    assert not bad.any()
    for study in ("murrough2013_ajp", "murrough2013_biolpsych", "han2016_meta", "transform1",
                  "taylor2006_ssri_onset", "spravato_label", "esk_first_dose_dissociation"):
        assert study in set(m["study"])
    relapse = m[(m.study == "murrough2013_biolpsych")
                & (m.statistic == "median_time_to_relapse_days")]
    assert relapse["value"].astype(float).tolist() == [18.0]


@pytest.mark.skipif(not SHARED.exists(), reason="reference table not available")
def test_manifest_rows_trace_to_reference_table():
    ref = pd.read_csv(SHARED, dtype=str, keep_default_na=False)
    keys = ["study", "endpoint", "timepoint_h", "statistic", "value"]
    known = set(map(tuple, ref[keys].to_numpy()))
    m = load_targets()
    missing = [tuple(r) for r in m[keys].to_numpy() if tuple(r) not in known]
    assert not missing
    full = ref.set_index(keys)
    for _, row in m.iterrows():
        src = full.loc[tuple(row[keys])]
        src = src.iloc[0] if isinstance(src, pd.DataFrame) else src
        assert row["citation"] == src["citation"] and row["source_url"] == src["source_url"]
        assert row["arm"] == src["arm"] and row["unit"] == src["unit_or_definition"]


def test_solver_error_below_zero_is_rated_as_symptom_free_but_real_negatives_are_refused():
    tiny = sc.measure(np.array([[1.0, -1e-9]]), [0], seed=1)
    zero = sc.measure(np.array([[1.0, 0.0]]), [0], seed=1)
    np.testing.assert_array_equal(tiny["madrs"], zero["madrs"])
    with pytest.raises(ValueError, match="severity must be finite and >= 0"):
        sc.measure(np.array([[1.0, -0.01]]), [0], seed=1)
