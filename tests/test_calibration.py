"""Calibration: the aggregate-data likelihood, and the fitted mechanism against its targets."""

import math

import pytest
from scipy.stats import binom, norm

from ketasim.evidence.calibrate import (
    ARMS,
    Target,
    nll_term,
    select_targets,
    simulate,
)
from ketasim.evidence.targets import load_targets

pytestmark = pytest.mark.slow  # statistical: fitted arms against published rows


def test_likelihood_matches_a_hand_computed_value():
    mean = Target("m", "change", 24.0, observed=-16.0, n=25, sd=10.0)  # SE = 2
    rate = Target("r", "response", 24.0, observed=0.6, n=10)  # k = 6
    # normal: 0.5 * ((-16 - -13) / 2)^2 + ln 2 + 0.5 ln(2 pi)
    by_hand_mean = 0.5 * 1.5**2 + math.log(2.0) + 0.5 * math.log(2 * math.pi)
    # binomial: -ln(C(10, 6) 0.5^6 0.5^4) = -ln(210 / 1024)
    by_hand_rate = -math.log(210 / 1024)
    assert abs(nll_term(mean, -13.0) - by_hand_mean) < 1e-12
    assert abs(nll_term(rate, 0.5) - by_hand_rate) < 1e-12
    assert abs(nll_term(mean, -13.0) + norm.logpdf(-16.0, -13.0, 2.0)) < 1e-12
    assert abs(nll_term(rate, 0.5) + binom.logpmf(6, 10, 0.5)) < 1e-12


def test_selection_covers_every_row_and_classifies_arms():
    targets, skipped = select_targets()
    table = load_targets()
    rows = {r for t in targets for r in t.rows}
    assert rows | {i for i, *_ in skipped} == set(range(len(table)))
    assert {t.arm for t in targets} == set(ARMS)
    for t in targets:
        arm, drug = table.loc[t.rows[0], "arm"].lower(), table.loc[t.rows[0], "drug"]
        if t.arm == "ketamine":
            assert "racemic" in drug and "placebo" not in arm and "midazolam" not in arm
        elif t.arm == "midazolam":
            assert "midazolam" in arm
        else:
            assert "placebo" in arm or "saline" in arm or "placebo" in drug
    assert {t.time_h for t in targets if t.fitted} == {24.0, 72.0, 168.0, 336.0, 672.0}


def _pooled_interval(rows, n_sim):
    """Pooled observed response (n-weighted) and its 95% interval, widened by the simulated
    arm's own binomial error."""
    n = rows["n"].sum()
    p = float((rows["value"].astype(float) / 100 * rows["n"]).sum() / n)
    half = 1.96 * math.sqrt(p * (1 - p) * (1 / n + 1 / n_sim))
    return p - half, p + half


_MIDAZOLAM_CHANGE_MISS = pytest.mark.xfail(strict=True, reason=(
    "midazolam's 24-h MADRS change is about -14.7 at the posterior MAP against -8.8 (Murrough "
    "2013 AJP, n 25): one belief for midazolam and ketamine sessions and the masked saline arm "
    "of Lii 2023 make expectancy large; inside its validation interval only through the study "
    "effect and the arm's small n (docs/validation/report.md)"))


_COMPARATOR_RESPONSE_MISS = pytest.mark.xfail(strict=True, reason=(
    "at the MAP of the fit with the literature's trials (2026-12-04) the comparators respond "
    "too often at 24 h (midazolam ~42% against 26-28%, saline ~25% against 8.8%): the larger "
    "expectancy (w_expectancy 1.49, belief_placebo 0.67) that the literature's placebo and "
    "new-antidepressant arms pulled the fit to; inside their validation intervals through the "
    "between-study effect (docs/validation/report.md)"))


@pytest.mark.parametrize("arm", ["ketamine", pytest.param("midazolam",
                                                          marks=_COMPARATOR_RESPONSE_MISS),
                                 pytest.param("saline", marks=_COMPARATOR_RESPONSE_MISS)])
def test_fitted_arms_hit_their_pooled_24_h_response(arm):
    n_sim = 400
    sim = simulate({}, arm, [24.0], n_sim, seed=11)[24.0]
    table = load_targets()
    targets, _ = select_targets(table)
    rows = table.loc[[t.rows[0] for t in targets
                      if t.fitted and t.arm == arm and t.kind == "response" and t.time_h == 24.0]]
    assert len(rows) >= 1
    lo, hi = _pooled_interval(rows, n_sim)
    assert lo <= sim.response_rate <= hi, (lo, sim.response_rate, hi)


@pytest.mark.parametrize("arm", ["ketamine", pytest.param("midazolam",
                                                          marks=_MIDAZOLAM_CHANGE_MISS)])
def test_fitted_arms_hit_the_24_h_mean_change(arm):
    """Murrough 2013 AJP arm-level MADRS change at 24 h (the only arm-level means at 24 h)."""
    n_sim = 400
    sim = simulate({}, arm, [24.0], n_sim, seed=11)[24.0]
    targets, _ = select_targets()
    change = next(t for t in targets if t.arm == arm and t.kind == "change" and t.time_h == 24)
    se = math.sqrt(change.se**2 + sim.sd_change**2 / n_sim)
    assert abs(sim.mean_change - change.observed) <= 1.96 * se, (sim, change)
