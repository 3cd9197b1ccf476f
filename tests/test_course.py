"""A six-infusion course (Murrough 2013 Biol Psychiatry, n = 24; not used in the calibration):
response at its end and time to relapse, compared with the published figures."""

import numpy as np
import pytest

import ketasim as ks

pytestmark = pytest.mark.slow  # statistical: courses and relapse against published values

COURSE = {"name": "six", "substance": "racemic", "model": "racemic_sr+mechanism",
          "doses": [{"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min",
                     "at": ["0 d", "2 d", "4 d", "7 d", "9 d", "11 d"]}],
          "population": {"n": 500, "seed": 3, "age_y": 40},
          "output": {"end": "95 d", "step": "6 h", "timepoints": ["24 h", "12 d"]}}


@pytest.fixture(scope="module")
def clinic():
    return ks.run_scenario(ks.parse_scenario(COURSE))[0].outcomes


def test_response_after_six_infusions_within_the_published_interval(clinic):
    """70.8% responders at the end (n = 24): inside its binomial 95% interval (about +/-18
    points); the course also raises response above a single infusion's (cumulative gain)."""
    observed, n = 0.708, 24
    half_width = 1.96 * np.sqrt(observed * (1 - observed) / n)
    end = clinic.on("madrs")[1].response_rate
    assert abs(end - observed) <= half_width
    assert end > clinic.on("madrs")[0].response_rate


@pytest.mark.xfail(strict=True, reason="median relapse after the course is about 34 days in the "
                   "model vs 18 published (Murrough 2013, n = 17): spines and expectancy "
                   "(half-life 21 d, an assumption) keep responders well too long; course and "
                   "relapse targets are not in the calibration yet "
                   "(docs/validation/calibration.md)")
def test_median_time_to_relapse_near_18_days(clinic):
    assert clinic.relapse.median_days_to_relapse_among_responders == \
        pytest.approx(18.0, abs=3.0)


@pytest.mark.xfail(strict=True, reason=(
    "84 mg esketamine gives about -55% of baseline at 24 h in the TRD cohort against -41% in "
    "ASPIRE II: esketamine's effect through brain exposure is not revised yet (issue 11); in "
    "ASPIRE II's own baseline with its standard of care the validation row lies inside its "
    "interval (docs/validation/report.md)"))
def test_esketamine_nasal_through_the_mechanism_matches_aspire_ii():
    """No separate effect model for esketamine: its PK (Perez-Ruixo 2021) feeds the same
    mechanism. The published arm's relative change at 24 h (placebo arm -12.4 plus difference
    -3.9 of baseline 39.9, ASPIRE II, n = 227), within 10 points: the model gives about -50%
    (before the placebo model and its refit: -61%, a strict expected failure)."""
    doc = {"name": "esk", "substance": "esketamine", "model": "perez_ruixo2021+mechanism",
           "doses": [{"route": "intranasal", "amount": "84 mg"}],
           "population": {"n": 400, "seed": 2, "age_y": 45},
           "output": {"end": "3 d", "step": "1 h", "timepoints": ["24 h"]}}
    arm = ks.run_scenario(ks.parse_scenario(doc))[0].outcomes.on("madrs")[0]
    relative = arm.mean_change / arm.mean_baseline
    assert relative == pytest.approx((-12.4 - 3.9) / 39.9, abs=0.10)
