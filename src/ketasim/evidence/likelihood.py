"""Aggregate-data likelihood with a between-study random effect, as a model-based meta-analysis
(MBMA) has it.

Each published study (all its rows, of every arm and time) carries its own effect z ~ N(0, 1),
shared by its rows: z > 0 is a trial whose patients did better than the model's typical trial,
in every arm alike, so that the contrast between a trial's arms keeps its weight. Given z,

- a mean (MADRS change in points, or a change as a fraction of the arm's baseline) is normal
  around the simulated value shifted by ``-tau_change * z`` points (divided by the arm's baseline
  for a fraction), with its SE = SD / sqrt(n);
- a rate (response, remission) is binomial(n, p) with logit(p) the simulated rate's logit
  shifted by ``+tau_logit * z``.

The study's likelihood integrates z out by the trapezoidal rule on :data:`Z` (a Gauss-Hermite rule
of a few dozen nodes misses the narrow peak of an arm whose SE is far below tau); with both taus 0
it is the product of its rows' independent terms. The hyper-parameters ``tau_change``
(MADRS points) and ``tau_logit`` are integrated over their uniform priors on :data:`TAU_CHANGE`
and :data:`TAU_LOGIT` (a grid) by :func:`HeterogeneityLikelihood.marginal`, so a sampler of the
structural parameters sees the likelihood with the heterogeneity integrated out and
:func:`HeterogeneityLikelihood.draw_tau` samples it back from its conditional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, logsumexp
from scipy.stats import norm

#: Nodes of the random effect's integral (z ~ N(0, 1)): assumption: a step of 0.02 over +/- 7
#: integrates the normal-normal case to 1e-9 of its closed form for tau up to 20 SE and the
#: logit-normal binomial to 1e-8 of adaptive quadrature (tests/test_likelihood.py).
Z = np.linspace(-7.0, 7.0, 701)
#: Grid (and uniform prior) of tau_change, MADRS points: assumption: 0-8 points covers the SD
#: of arm means between trials of one treatment (ketamine arms at 24 h range about -9 to -20,
#: Coyle & Laws 2015; Han 2016) with room above.
TAU_CHANGE = np.linspace(0.0, 8.0, 17)
#: Grid (and uniform prior) of tau_logit: assumption: 0-1.5 on the logit scale (a rate of 40%
#: between ~13% and ~75% at +/- 1 tau at the top).
TAU_LOGIT = np.linspace(0.0, 1.5, 16)
_MEANS = ("change", "relative_change")
_RATES = ("response", "remission")


@dataclass(frozen=True)
class Row:
    """What the likelihood needs of one published value: ``kind`` (change, relative_change,
    response, remission), ``observed`` (points, fraction or rate 0-1), ``se`` (means), ``n``,
    ``points`` (MADRS points per unit of the value: 1 for a change, the arm's baseline for a
    fraction) and ``group`` (the study sharing one random effect)."""

    kind: str
    observed: float
    n: int
    se: float | None
    points: float
    group: str


class HeterogeneityLikelihood:
    """Negative log-likelihood of ``rows`` given their simulated values (same order), with the
    between-study random effect (module docstring)."""

    def __init__(self, rows: list[Row], n_sim: int | None = None) -> None:
        bad = [r for r in rows if r.kind not in _MEANS + _RATES
               or (r.kind in _MEANS and (r.se is None or not r.se > 0))]
        if bad:
            raise ValueError(f"rows without a likelihood: {bad[:3]}")
        self.rows = rows
        self.groups = sorted({r.group for r in rows})
        index = {g: k for k, g in enumerate(self.groups)}
        self._members = np.zeros((len(rows), len(self.groups)))  # row -> its group, one-hot
        self._members[np.arange(len(rows)), [index[r.group] for r in rows]] = 1.0
        self._mean = np.array([r.kind in _MEANS for r in rows])
        self._obs = np.array([r.observed for r in rows], dtype=float)
        self._se = np.array([r.se if r.kind in _MEANS else 1.0 for r in rows], dtype=float)
        self._points = np.array([r.points for r in rows], dtype=float)
        n = np.array([r.n for r in rows], dtype=float)
        self._n, self._k = n, self._obs * n
        self._log_choose = gammaln(n + 1) - gammaln(self._k + 1) - gammaln(n - self._k + 1)
        self._eps = 0.5 / n_sim if n_sim else 1e-6
        self._z = Z
        self._log_w = norm.logpdf(Z) + math.log(Z[1] - Z[0])

    def _parts(self, simulated, tau_change: np.ndarray, tau_logit: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """Per (tau, node, group): the NLL of the group's means at each ``tau_change`` and of
        its rates at each ``tau_logit`` (1-d arrays), given the node's z."""
        sim = np.asarray(simulated, dtype=float)
        z = self._z[None, :, None]
        m, r = self._mean, ~self._mean
        mu = sim[m] - tau_change[:, None, None] * z / self._points[m]
        normal = 0.5 * ((self._obs[m] - mu) / self._se[m]) ** 2 + np.log(self._se[m]) \
            + 0.5 * math.log(2 * math.pi)
        p = np.clip(sim[r], self._eps, 1 - self._eps)
        logit = np.log(p) - np.log1p(-p) + tau_logit[:, None, None] * z
        # log p = -log(1 + e^-x), log(1 - p) = -log(1 + e^x)
        binomial = -(self._log_choose[r] - self._k[r] * np.logaddexp(0, -logit)
                     - (self._n[r] - self._k[r]) * np.logaddexp(0, logit))
        return normal @ self._members[m], binomial @ self._members[r]

    def _group_nll(self, simulated, tau_change, tau_logit) -> np.ndarray:
        """Per (tau_change, tau_logit, group) NLL with the random effect integrated out."""
        means, rates = self._parts(simulated, np.atleast_1d(tau_change),
                                   np.atleast_1d(tau_logit))
        per_node = means[:, None] + rates[None, :]       # (tc, tl, node, group)
        return -logsumexp(self._log_w[:, None] - per_node, axis=-2)

    def nll(self, simulated, tau_change: float, tau_logit: float) -> float:
        """Summed NLL at given taus."""
        return float(self.study_nll(simulated, tau_change, tau_logit).sum())

    def study_nll(self, simulated, tau_change: float, tau_logit: float) -> np.ndarray:
        """NLL of each group of :attr:`groups` at given taus."""
        return self._group_nll(simulated, tau_change, tau_logit)[0, 0]

    def _grid(self, simulated) -> np.ndarray:
        return self._group_nll(simulated, TAU_CHANGE, TAU_LOGIT).sum(axis=-1)

    def marginal(self, simulated) -> float:
        """NLL with both taus integrated over their uniform grid priors."""
        grid = self._grid(simulated)
        return float(-logsumexp(-grid) + math.log(grid.size))

    def draw_tau(self, simulated, rng: np.random.Generator) -> tuple[float, float]:
        """(tau_change, tau_logit) drawn from their grid posterior given the simulated values."""
        grid = self._grid(simulated)
        p = np.exp(-(grid - grid.min())).ravel()
        k = rng.choice(p.size, p=p / p.sum())
        i, j = np.unravel_index(k, grid.shape)
        return float(TAU_CHANGE[i]), float(TAU_LOGIT[j])
