"""Indication scales (PCL-5, LSAS, HAM-A, Y-BOCS) and the SSI: ranges, noise, cohort baselines,
chunk independence, endpoints and suicidal-ideation rows; the depression scales unchanged."""

import numpy as np
import pytest
import xarray as xr
from scipy.special import ndtr, ndtri

from ketasim.clinical import endpoints as ep
from ketasim.clinical import scales as sc
from ketasim.clinical.outcomes import ArmOutcomes, arm_outcomes, rated_scales
from ketasim.clinical.visits import Visits, visit_times
from ketasim.dosing import Dose, Regimen
from ketasim.errors import ScenarioError
from ketasim.population.cohorts import COHORTS
from ketasim.population.sampling import Population
from ketasim.scenario.definition import Criteria

PRIMARY = {"ptsd": "pcl5", "social_anxiety": "lsas", "anxiety": "hama", "ocd": "ybocs",
           "suicidal_ideation": "ssi"}
RANGES = {"pcl5": 80, "lsas": 144, "hama": 56, "ybocs": 40, "ssi": 38}
#: Baseline mean and SD (points) the cohorts must reproduce, as cited in scales.RATINGS:
#: PCL-5, LSAS and the suicidal cohort's SSI are assumptions; HAM-A mean 23.7 (Matza 2010) and
#: Y-BOCS mean 25.9 (Farris 2013) with assumed SDs; SSI of TRD 6.1 (6.7), Price 2014 pooled.
CITED = {("ptsd", "pcl5"): (50.0, 10.0), ("social_anxiety", "lsas"): (85.0, 16.0),
         ("anxiety", "hama"): (23.7, 5.0), ("ocd", "ybocs"): (25.9, 4.5),
         ("suicidal_ideation", "ssi"): (15.0, 6.0), ("trd", "ssi"): (6.14, 6.70)}


# --- scales --------------------------------------------------------------------------------------

def test_every_population_cohort_has_a_rating_and_its_indication_scale():
    assert set(sc.RATINGS) == set(COHORTS)
    for cohort, r in sc.RATINGS.items():
        assert r.primary == PRIMARY.get(cohort)
        assert set(r.own) == {"ssi"} | ({r.primary} - {None})
        assert r.madrs is sc.BASELINES["trd"]  # no trial MADRS baselines in the shared data
        if cohort != "suicidal_ideation":
            assert r.own["ssi"] is sc.RATINGS["trd"].own["ssi"]


def test_new_scales_have_range_noise_response_and_sources():
    assert sc.OWN_SCALE_NAMES == tuple(RANGES)
    for name, top in RANGES.items():
        s = sc.SCALES[name]
        assert s.max_score == top and s.noise_sd > 0 and 0 < s.response_fraction < 1
        assert s.noise_source and s.response_source and s.remission_source
        assert s.remission_max is None or 0 < s.remission_max < top
    assert (sc.SCALES["ybocs"].response_fraction, sc.SCALES["lsas"].response_fraction,
            sc.SCALES["ssi"].response_fraction) == (0.35, 0.35, 0.5)
    assert sc.SCALES["pcl5"].remission_max is None


def test_scores_are_integers_clipped_to_each_range():
    sev = np.tile(np.linspace(0.0, 3.0, 13), (300, 1))  # beyond baseline too: must clip at max
    for cohort, name in PRIMARY.items():
        out = sc.measure(sev, np.arange(300), seed=3, cohort=cohort, scales=(name,))
        s, top = out[name], RANGES[name]
        assert s.dtype == np.int16 and s.shape == sev.shape
        assert s.min() >= 0 and s.max() <= top
        assert (s[:, 0] <= 5 * sc.SCALES[name].noise_sd).all()  # severity 0: noise only
        assert (s[:, 0] == 0).mean() > 0.3  # ... and clipped at 0 from below
        above = out[f"{name}_baseline_true"] * 3.0 > top + 5 * sc.SCALES[name].noise_sd
        assert above.sum() > 10 and (s[above, -1] == top).all()  # 3 x baseline: at the max
    got = sc.score(np.array([50.4, 50.6, -7.0, 200.0]), np.zeros(4), "lsas")
    assert got.tolist() == [50, 51, 0, 144]


@pytest.mark.slow
def test_noise_sd_recovered():
    n = 100_000
    z = np.random.default_rng(1).standard_normal(n)
    for name in sc.OWN_SCALE_NAMES:
        raw = sc.score(np.full(n, 20.0), z, name)
        # rounding adds variance 1/12; SE of an SD estimate ~ sd / sqrt(2n) (0.2% here): 1% is 4 SE
        assert raw.std() == pytest.approx(np.sqrt(sc.SCALES[name].noise_sd ** 2 + 1 / 12),
                                          rel=0.01)
    # the noise measure() applies: residuals around each patient's true baseline at severity 1
    sev = np.ones((20_000, 8))
    for cohort, name in PRIMARY.items():
        out = sc.measure(sev, np.arange(20_000), seed=4, cohort=cohort, scales=(name,))
        base, noise = out[f"{name}_baseline_true"], sc.SCALES[name].noise_sd
        inside = (base > 4 * noise) & (base < RANGES[name] - 4 * noise)  # no clipping
        resid = out[name][inside] - base[inside, None]
        assert inside.sum() > 10_000
        assert abs(resid.mean()) < 0.02 * noise  # SE ~ 0.004 noise SD
        assert resid.std() == pytest.approx(np.sqrt(noise ** 2 + 1 / 12), rel=0.015)
    u, z = sc.draw_own(np.arange(20_000), 5, seed=9)
    assert u.shape == (20_000, 5) and z.shape == (20_000, 5, 5)
    assert z.std() == pytest.approx(1.0, abs=0.005) and u.mean() == pytest.approx(0.5, abs=0.005)
    assert abs(np.corrcoef(z[:, 0, 0], z[:, 4, 0])[0, 1]) < 0.03  # scales independent
    assert abs(np.corrcoef(u[:, 1], u[:, 4])[0, 1]) < 0.03
    madrs_u, _ = sc.draw(np.arange(20_000), 0, seed=9)
    assert abs(np.corrcoef(madrs_u, u[:, 0])[0, 1]) < 0.03  # own stream independent of MADRS
    assert not np.isin(madrs_u, u).any()  # ... and not the same stream


@pytest.mark.slow
def test_cohort_baselines_reproduce_the_cited_numbers():
    u = np.random.default_rng(0).random(400_000)
    for (cohort, name), (mean, sd) in CITED.items():
        d = sc.RATINGS[cohort].own[name]
        b = sc.baseline(u, d)
        assert d.floor <= b.min() and b.max() <= d.ceiling
        # SE of the mean 0.0016 SD; latent parameters rounded to 0.01: within 2% of the SD
        assert b.mean() == pytest.approx(mean, abs=0.02 * sd)
        assert b.std() == pytest.approx(sd, rel=0.02)
    trd_ssi = sc.baseline(u, sc.RATINGS["trd"].own["ssi"])
    assert (trd_ssi == 0).mean() == pytest.approx(0.32, abs=0.01)  # no ideation at baseline
    floors = {"ptsd": 33, "social_anxiety": 60, "anxiety": 15, "ocd": 16, "suicidal_ideation": 4}
    for cohort, floor in floors.items():  # trial inclusion thresholds (sources in scales.py)
        assert sc.RATINGS[cohort].own[PRIMARY[cohort]].floor == floor
    # the same through the per-subject random streams (wiring of each scale to its uniform)
    for cohort in (*PRIMARY, "trd"):
        r = sc.RATINGS[cohort]
        b = sc.baselines(np.arange(20_000), seed=2, cohort=cohort)
        assert set(b) == {*sc.SCALE_NAMES, *r.own}
        name = r.primary or "ssi"
        mean, sd = CITED[(cohort, name)]
        assert b[name].mean() == pytest.approx(mean, abs=5 * sd / np.sqrt(20_000))
        assert b[name].std() == pytest.approx(sd, rel=0.03)
    trd = sc.baselines(np.arange(1000), seed=2)
    ocd = sc.baselines(np.arange(1000), seed=2, cohort="ocd")
    assert np.array_equal(trd["madrs"], ocd["madrs"]) and np.array_equal(trd["ssi"], ocd["ssi"])


def test_scores_do_not_depend_on_chunking_or_on_the_scales_asked_for():
    sev = np.random.default_rng(0).uniform(0.2, 1.0, (10, 4))
    names = (*sc.SCALE_NAMES, "ybocs", "ssi")
    whole = sc.measure(sev, np.arange(10), seed=5, cohort="ocd", scales=names)
    parts = [sc.measure(sev[a:b], np.arange(a, b), seed=5, cohort="ocd", scales=names)
             for a, b in ((0, 3), (3, 10))]
    for name in names:
        assert np.array_equal(whole[name], np.vstack([p[name] for p in parts]))
    single = sc.measure(sev[7:8], [7], seed=5, cohort="ocd", scales=("ybocs",))["ybocs"]
    assert np.array_equal(single[0], whole["ybocs"][7])  # subject 7 alone = in a crowd
    alone = sc.measure(sev, np.arange(10), seed=5, cohort="ocd", scales=("ssi",))["ssi"]
    assert np.array_equal(alone, whole["ssi"])
    other = sc.measure(sev, np.arange(10), seed=6, cohort="ocd", scales=("ybocs",))["ybocs"]
    assert not np.array_equal(other, whole["ybocs"])


# --- the depression scales are unchanged ------------------------------------------------------

SEV = np.round(np.linspace(0.05, 1.3, 15).reshape(5, 3), 3)
IDS = [0, 3, 7, 1000, 123456]
#: measure(SEV, IDS, seed=20240) before the indication scales were added (commit 21cd1a4).
BEFORE = {
    "madrs": [[0, 4, 7], [7, 12, 14], [16, 21, 27], [21, 24, 27], [28, 28, 28]],
    "hamd17": [[1, 3, 5], [9, 9, 14], [12, 15, 17], [13, 15, 15], [22, 20, 25]],
    "qids_sr16": [[2, 1, 3], [3, 5, 9], [11, 10, 12], [10, 14, 15], [14, 15, 17]],
}
MADRS_BASELINE_BEFORE = [24.952564, 28.482569, 31.440068, 23.868753, 23.222518]


def test_depression_scores_are_bit_identical_to_before():
    for cohort in ("trd", "ptsd", "suicidal_ideation"):
        r = sc.RATINGS[cohort]
        out = sc.measure(SEV, IDS, seed=20240, cohort=cohort, scales=(*sc.SCALE_NAMES, *r.own))
        for name, before in BEFORE.items():
            assert out[name].tolist() == before
        assert out["madrs_baseline_true"] == pytest.approx(MADRS_BASELINE_BEFORE, abs=1e-6)
    # independently of the package: numpy's generator and the published formula, TRD MADRS
    # (stream 7001, normal(31.9, 6.7) truncated to 20-60, noise SD 1.8)
    a, b = ndtr((20 - 31.9) / 6.7), ndtr((60 - 31.9) / 6.7)
    for row, i in enumerate(IDS):
        rng = np.random.default_rng([20240, 7001, i])
        base = 31.9 + 6.7 * ndtri(a + rng.random() * (b - a))
        noise = rng.standard_normal((3, 3))[0]
        expected = np.clip(np.rint(base * SEV[row] + 1.8 * noise), 0, 60)
        assert expected.tolist() == BEFORE["madrs"][row]


# --- endpoints and suicidal ideation --------------------------------------------------------------

def test_endpoints_use_the_scale_own_response_and_remission_by_hand():
    times = np.array([0.0, 24.0])
    lsas = np.array([[100, 65], [100, 66], [40, 30], [40, 31]])  # -35%, -34%, -25%, -22.5%
    row = ep.endpoints(lsas, lsas[:, 0], times, [24], scale="lsas")[0]
    assert row.scale == "lsas"
    assert row.response_rate == 0.25  # >= 35%: the first only
    assert row.remission_rate == 0.25  # <= 30: the third only
    pcl = np.array([[60, 42], [60, 43]])  # -30%, -28%
    row = ep.endpoints(pcl, pcl[:, 0], times, [24], scale="pcl5")[0]
    assert row.scale == "pcl5" and row.response_rate == 0.5
    assert row.remission_rate is None  # no conventional cut-off
    ssi = np.array([[10, 5], [10, 6], [8, 3]])
    row = ep.endpoints(ssi, ssi[:, 0], times, [24], scale="ssi")[0]
    assert row.response_rate == pytest.approx(2 / 3) and row.remission_rate == pytest.approx(
        1 / 3)


def summarise(cohort: str, response_fraction: float = 0.5, remission_max: float = 10.0,
              n: int = 200) -> tuple[ArmOutcomes, dict, np.ndarray]:
    """A two-dose arm whose severity dips and recovers, rated by Visits in two chunks from the
    population's baseline attribute; also the scores measure() gives the same subjects drawing
    the baselines itself, and the visit times."""
    regimen = Regimen.repeated(Dose("racemic", "iv_bolus", 10.0), [0.0, 84.0])
    times = visit_times(regimen, (4.0, 24.0), 240.0)
    depth = np.random.default_rng(5).uniform(0.2, 1.0, (n, 1))
    sev = 1.0 - depth * np.exp(-(((times[None, :] - 30.0) / 80.0) ** 2))
    sev[:, 0] = 1.0
    data = xr.Dataset({"depression_severity": (("subject", "time"), sev),
                       "madrs_baseline": ("subject", sc.baseline_madrs(np.arange(n), 11, cohort))},
                      coords={"subject": np.arange(n), "time": times})
    visits = Visits(times, 11, cohort, rated_scales(cohort))
    visits.add(data.isel(subject=slice(0, n // 3)))
    visits.add(data.isel(subject=slice(n // 3, n)))
    summary = arm_outcomes(visits.ratings(), regimen, (4.0, 24.0),
                           cohort, Criteria(response_fraction, remission_max))
    r = sc.RATINGS[cohort]
    scores = sc.measure(sev, np.arange(n), 11, cohort, (*sc.SCALE_NAMES, *r.own))
    return summary, scores, times


def test_indication_rows_use_their_own_definitions_and_scenario_criteria_stay_on_madrs():
    summary, scores, times = summarise("social_anxiety")
    assert {e.scale for e in summary.endpoints} == {"madrs", "hamd17", "qids_sr16", "lsas"}
    lsas = [e for e in summary.endpoints if e.scale == "lsas"]
    assert [e.timepoint_h for e in lsas] == [4.0, 24.0]
    s = scores["lsas"].astype(float)
    j = int(np.flatnonzero(times == 24.0)[0])
    assert lsas[1].mean_score == pytest.approx(s[:, j].mean())
    assert lsas[1].response_rate == pytest.approx(((s[:, 0] - s[:, j]) >= 0.35 * s[:, 0]).mean())
    assert lsas[1].remission_rate == pytest.approx((s[:, j] <= 30).mean())
    assert 0 < lsas[1].response_rate < 1
    tight, _, _ = summarise("social_anxiety", response_fraction=0.9, remission_max=2.0)
    assert [e for e in tight.endpoints if e.scale == "lsas"] == lsas
    madrs = [e for e in summary.endpoints if e.scale == "madrs"]
    madrs_tight = [e for e in tight.endpoints if e.scale == "madrs"]
    assert madrs_tight[1].response_rate < madrs[1].response_rate
    assert madrs_tight[1].remission_rate < madrs[1].remission_rate
    ptsd, _, _ = summarise("ptsd")
    pcl = [e for e in ptsd.endpoints if e.scale == "pcl5"]
    assert len(pcl) == 2 and all(e.remission_rate is None for e in pcl)
    trd, _, _ = summarise("trd")
    assert {e.scale for e in trd.endpoints} == {"madrs", "hamd17", "qids_sr16"}


def test_ssi_rows_sit_next_to_madrs_item_10_for_every_cohort():
    for cohort in ("trd", "ocd", "suicidal_ideation"):
        summary, scores, times = summarise(cohort)
        rows = summary.suicidal_ideation
        assert [(e.scale, e.timepoint_h) for e in rows] == [
            ("MADRS item 10", 4.0), ("MADRS item 10", 24.0), ("SSI", 4.0), ("SSI", 24.0)]
        s = scores["ssi"].astype(float)
        j = int(np.flatnonzero(times == 24.0)[0])
        assert rows[3].mean_score == pytest.approx(s[:, j].mean())
        assert rows[3].mean_change == pytest.approx((s[:, j] - s[:, 0]).mean()) and \
            rows[3].mean_change < 0
    si = [e for e in summary.endpoints if e.scale == "ssi"]  # the suicidal cohort's primary
    assert len(si) == 2
    assert si[1].response_rate == pytest.approx(((s[:, 0] - s[:, j]) >= 0.5 * s[:, 0]).mean())
    assert si[1].remission_rate == pytest.approx((s[:, j] <= 3).mean())


# --- names a user can give --------------------------------------------------------------------

def test_unknown_or_unusable_names_are_one_line_errors_listing_the_allowed_values():
    cases = [
        (lambda: sc.get_scale("bdi"), "allowed: madrs, hamd17, qids_sr16, pcl5, lsas, hama"),
        (lambda: ep.endpoints(np.ones((1, 2)), [1.0], [0.0, 24.0], [24], scale="gad7"),
         "unknown scale 'gad7'; allowed: madrs"),
        (lambda: sc.measure(np.ones((1, 2)), [0], 1, scales=("madrs", "cgi")), "unknown scale"),
        (lambda: sc.measure(np.ones((1, 2)), [0], 1, cohort="kids"),
         "unknown cohort 'kids'; allowed: trd, healthy, ptsd, social_anxiety, anxiety, ocd, "
         "suicidal_ideation"),
        (lambda: sc.measure(np.ones((1, 2)), [0], 1, scales=("pcl5",)),
         "no baseline in this cohort; its scales: madrs, hamd17, qids_sr16, ssi"),
        (lambda: sc.to_madrs(10, "lsas"), "not linked to the MADRS; linked: madrs, hamd17"),
    ]
    for call, text in cases:
        with pytest.raises(ValueError) as err:
            call()
        assert text in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ScenarioError, match=r"allowed: trd, healthy, ptsd, .*suicidal_ideation"):
        Population(10, cohort="PTSD")  # names are lower-case


def test_indication_cohorts_draw_their_covariates():
    for cohort in PRIMARY:
        c = COHORTS[cohort]
        cov = Population(20_000, cohort=cohort, seed=1).draw_covariates(
            np.random.default_rng(1))
        lo, hi = c.age_range_y
        assert cov["age_y"].between(lo, hi).all()
        assert cov["female"].mean() == pytest.approx(c.p_female, abs=0.015)  # 4.3 SE
        assert c.source
