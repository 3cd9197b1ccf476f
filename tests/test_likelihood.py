"""The MBMA likelihood: independent terms without heterogeneity, the closed-form normal-normal
marginal, a numerically integrated logit-normal binomial, and the grid-marginal over the taus."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit, logsumexp
from scipy.stats import binom, norm

from ketasim.evidence import likelihood as lk
from ketasim.evidence.calibrate import Target, nll_term

ROWS = [lk.Row("change", -16.0, 47, 1.6, 1.0, "a/ketamine"),
        lk.Row("response", 0.6, 47, None, 1.0, "a/ketamine"),
        lk.Row("relative_change", -0.3, 25, 0.05, 30.0, "b/saline"),
        lk.Row("remission", 0.2, 100, None, 1.0, "c/ketamine")]
SIM = np.array([-13.0, 0.45, -0.25, 0.3])


def test_without_heterogeneity_the_rows_are_independent():
    like = lk.HeterogeneityLikelihood(ROWS)
    by_row = sum(nll_term(Target("t", r.kind, 24.0, r.observed, r.n,
                                 sd=None if r.se is None else r.se * math.sqrt(r.n)), s)
                 for r, s in zip(ROWS, SIM, strict=True))
    assert like.nll(SIM, 0.0, 0.0) == pytest.approx(by_row, rel=1e-10)
    assert like.study_nll(SIM, 0.0, 0.0).shape == (3,)


@pytest.mark.parametrize("tau", [0.5, 2.0, 5.0, 30.0])
def test_a_mean_integrates_to_the_normal_with_tau_added_to_its_variance(tau):
    """Normal-normal: the arm effect adds (tau / points)^2 to the variance (tolerance 1e-9)."""
    for row in (ROWS[0], ROWS[2]):
        like = lk.HeterogeneityLikelihood([row])
        sim = SIM[ROWS.index(row)]
        sd = math.hypot(row.se, tau / row.points)
        assert like.nll([sim], tau, 0.0) == pytest.approx(-norm.logpdf(row.observed, sim, sd),
                                                          rel=1e-9)


@pytest.mark.parametrize("tau", [0.3, 1.0, 1.5])
def test_a_rate_integrates_the_binomial_over_a_logit_normal(tau):
    row = ROWS[1]
    k = round(row.observed * 400)
    row = lk.Row("response", k / 400, 400, None, 1.0, "a/ketamine")  # narrow: n 400
    like = lk.HeterogeneityLikelihood([row])
    logit = math.log(0.45 / 0.55)
    exact, _ = integrate.quad(lambda z: norm.pdf(z) * binom.pmf(k, 400, expit(logit + tau * z)),
                              -12, 12, points=[0.0], limit=200, epsabs=0, epsrel=1e-12)
    assert like.nll([0.45], 0.0, tau) == pytest.approx(-math.log(exact), rel=1e-8)


def test_rows_of_one_arm_share_their_effect():
    """Two identical means in one arm are correlated (covariance tau^2), in two arms not."""
    tau, se = 3.0, 2.0
    one = lk.HeterogeneityLikelihood([lk.Row("change", -15.0, 4, se, 1.0, "a/x")] * 2)
    two = lk.HeterogeneityLikelihood([lk.Row("change", -15.0, 4, se, 1.0, g)
                                      for g in ("a/x", "b/x")])
    cov = np.array([[se**2 + tau**2, tau**2], [tau**2, se**2 + tau**2]])
    d = np.array([-15.0 + 10.0] * 2)
    exact = 0.5 * d @ np.linalg.solve(cov, d) + 0.5 * math.log(np.linalg.det(2 * math.pi * cov))
    assert one.nll([-10.0, -10.0], tau, 0.0) == pytest.approx(exact, rel=1e-9)
    assert two.nll([-10.0, -10.0], tau, 0.0) == pytest.approx(
        -2 * norm.logpdf(-15.0, -10.0, math.hypot(se, tau)), rel=1e-9)


def test_marginal_averages_the_likelihood_over_the_tau_grid_and_draws_from_it():
    like = lk.HeterogeneityLikelihood(ROWS)
    grid = np.array([[like.nll(SIM, a, b) for b in lk.TAU_LOGIT] for a in lk.TAU_CHANGE])
    assert like.marginal(SIM) == pytest.approx(-logsumexp(-grid) + math.log(grid.size),
                                               rel=1e-12)
    rng = np.random.default_rng(0)
    draws = np.array([like.draw_tau(SIM, rng) for _ in range(300)])
    assert set(draws[:, 0]) <= set(lk.TAU_CHANGE) and set(draws[:, 1]) <= set(lk.TAU_LOGIT)
    p = np.exp(-(grid - grid.min()))
    p /= p.sum()
    expected = (p.sum(axis=1) * lk.TAU_CHANGE).sum()
    assert draws[:, 0].mean() == pytest.approx(expected, abs=4 * draws[:, 0].std() / 17)


def test_rows_without_a_likelihood_are_refused():
    with pytest.raises(ValueError, match="without a likelihood"):
        lk.HeterogeneityLikelihood([lk.Row("change", -1.0, 10, None, 1.0, "a/x")])
    with pytest.raises(ValueError, match="without a likelihood"):
        lk.HeterogeneityLikelihood([lk.Row("relapse_days", 18.0, 10, None, 1.0, "a/x")])
