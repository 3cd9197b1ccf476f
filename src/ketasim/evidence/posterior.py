"""Posterior of the mechanism's calibrated parameters: a global search, then MCMC.

The problem (:class:`Problem`): the fitted endpoints (:func:`fitted_endpoints`: the manifest's
calibration targets and the literature's rows from 24 h on), each arm simulated in its trial's
population of ``n_subjects`` virtual patients with common random numbers (``seed``;
:class:`~ketasim.evidence.endpoints.Simulator`), scored by the MBMA likelihood of
:mod:`ketasim.evidence.likelihood` with the between-study heterogeneity integrated out.
Priors: uniform on the log of each of :data:`PARAMETERS` within
:data:`~ketasim.evidence.calibrate.BOUNDS` (assumption: no external information on these
gains), uniform taus on their grids.

:func:`sample` runs scipy's differential evolution (global, on log-parameters) for the
maximum a posteriori point, then emcee's affine-invariant ensemble sampler started from the best
members of the final population; every kept sample gets its taus drawn from their conditional
posterior and the NLL of each study at them (for leave-one-study-out reweighting,
:mod:`ketasim.evidence.validate`). :func:`load_posterior` reads the shipped draws
(:data:`POSTERIOR_FILE`, written by ``scripts/calibrate.py``).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files

import emcee
import numpy as np
from scipy.optimize import differential_evolution

from ketasim.evidence.calibrate import BOUNDS, FITTED, MODEL_NAME
from ketasim.evidence.endpoints import (
    Endpoint,
    Simulator,
    literature_endpoints,
    select_endpoints,
)
from ketasim.evidence.likelihood import TAU_CHANGE, TAU_LOGIT, HeterogeneityLikelihood

#: Sampled parameters (declared units; ``cv`` as in calibrate.BOUNDS).
PARAMETERS = (*FITTED, "cv")
#: Package data file of the posterior draws.
POSTERIOR_FILE = "posterior.json"


def fitted_endpoints() -> list[Endpoint]:
    """The endpoints the calibration fits: the manifest's fitted targets, then the literature's
    fitted rows."""
    return [e for e in select_endpoints()[0] + literature_endpoints()[0] if e.target.fitted]


class Problem:
    """The calibration's negative log-posterior over log-parameters (see the module)."""

    def __init__(self, endpoints: list[Endpoint], n_subjects: int = 200, seed: int = 1) -> None:
        self.endpoints = [e for e in endpoints if e.target.fitted]
        self.n_subjects, self.seed = n_subjects, seed
        self.simulator = Simulator(self.endpoints, n_subjects, seed)
        self.likelihood = HeterogeneityLikelihood([e.likelihood_row() for e in self.endpoints],
                                                  n_subjects)
        self.bounds = [(math.log(BOUNDS[k][0]), math.log(BOUNDS[k][1])) for k in PARAMETERS]

    def values(self, x: np.ndarray) -> dict[str, float]:
        return {k: float(v) for k, v in zip(PARAMETERS, np.exp(x), strict=True)}

    def simulated(self, x: np.ndarray) -> np.ndarray:
        """Simulated value of each fitted endpoint at log-parameters ``x``."""
        return self.simulator(self.values(x))

    def inside(self, x: np.ndarray) -> bool:
        return all(lo <= v <= hi for v, (lo, hi) in zip(x, self.bounds, strict=True))

    def nll(self, x: np.ndarray) -> float:
        """Marginal NLL (taus integrated out); inf outside the bounds."""
        return -self.log_probability(x)[0]

    def log_probability(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """emcee's log-probability with the simulated values as blob."""
        if not self.inside(x):
            return -math.inf, np.full(len(self.endpoints), np.nan)
        sim = self.simulated(x)
        return -self.likelihood.marginal(sim), sim


@dataclass(frozen=True)
class Settings:
    """Search and sampler settings: DE ``popsize`` (x dimensions members) and ``maxiter``
    generations; emcee ``walkers`` x ``steps``, the first ``burn`` discarded; ``workers``
    processes evaluating parameter sets in parallel (the engine runs the patients of one
    evaluation on every core as well; on 2 cores, 2 workers gave 4.0 s per evaluation against
    5.0 s in one process). The defaults made the shipped posterior."""

    n_subjects: int = 200
    seed: int = 1
    popsize: int = 4
    maxiter: int = 12
    walkers: int = 10
    steps: int = 36
    burn: int = 12
    workers: int = 2


def sample(endpoints: list[Endpoint], settings: Settings = Settings(),
           log: Callable[[str], None] = print) -> dict:
    """Differential evolution then emcee (``settings.workers`` parameter sets at once in worker
    processes when above 1); the document of :data:`POSTERIOR_FILE`."""
    problem = Problem(endpoints, settings.n_subjects, settings.seed)
    t0 = time.time()
    pool = multiprocessing.get_context("spawn").Pool(settings.workers) \
        if settings.workers > 1 else None
    generations = iter(range(1, settings.maxiter + 1))

    def generation(xk, convergence) -> None:
        log(f"differential evolution: generation {next(generations)} of {settings.maxiter} "
            f"({time.time() - t0:.0f} s)")

    try:
        search = differential_evolution(problem.nll, problem.bounds, popsize=settings.popsize,
                                        maxiter=settings.maxiter, seed=settings.seed,
                                        polish=False, init="latinhypercube", tol=1e-3,
                                        workers=pool.map if pool else 1, updating="deferred",
                                        callback=generation)
        log(f"differential evolution: NLL {search.fun:.3f} at {problem.values(search.x)} "
            f"({search.nfev} evaluations, {time.time() - t0:.0f} s)")
        order = np.argsort(search.population_energies)
        start = search.population[order[:settings.walkers]]
        sampler = emcee.EnsembleSampler(settings.walkers, len(PARAMETERS),
                                        problem.log_probability, pool=pool)
        sampler.random_state = np.random.RandomState(settings.seed).get_state()
        for step, _ in enumerate(sampler.sample(start, iterations=settings.steps), 1):
            if step % 5 == 0 or step == settings.steps:
                log(f"emcee: step {step} of {settings.steps} ({time.time() - t0:.0f} s)")
    finally:
        if pool:
            pool.close()
    rng = np.random.default_rng(settings.seed)
    log(f"emcee: {settings.walkers} walkers x {settings.steps} steps, acceptance "
        f"{np.mean(sampler.acceptance_fraction):.2f} ({time.time() - t0:.0f} s in all)")
    chain = sampler.get_chain(discard=settings.burn, flat=True)
    blobs = sampler.get_blobs(discard=settings.burn, flat=True)
    log_p = sampler.get_log_prob(discard=settings.burn, flat=True)
    all_x = np.vstack([search.x[None, :], sampler.get_chain(flat=True)])
    all_nll = np.concatenate([[search.fun], -sampler.get_log_prob(flat=True)])
    best = all_x[int(np.argmin(all_nll))]
    draws = []
    for x, sim, lp in zip(chain, blobs, log_p, strict=True):
        tau_change, tau_logit = problem.likelihood.draw_tau(sim, rng)
        per_study = problem.likelihood.study_nll(sim, tau_change, tau_logit)
        draws.append({"values": problem.values(x), "tau_change": tau_change,
                      "tau_logit": tau_logit, "marginal_nll": -float(lp),
                      "study_nll": dict(zip(problem.likelihood.groups, per_study.tolist(),
                                          strict=True))})
    return {
        "model": MODEL_NAME, "names": list(PARAMETERS),
        "bounds": {k: list(BOUNDS[k]) for k in PARAMETERS},
        "tau_change_grid": TAU_CHANGE.tolist(), "tau_logit_grid": TAU_LOGIT.tolist(),
        "map": problem.values(best), "map_nll": float(np.min(all_nll)),
        "settings": settings.__dict__, "evaluations": int(search.nfev) + settings.walkers
        * settings.steps, "acceptance": float(np.mean(sampler.acceptance_fraction)),
        "elapsed_s": round(time.time() - t0, 1),
        "targets": [e.target.label for e in problem.endpoints],
        "studies": problem.likelihood.groups,
        "draws": draws,
    }


def load_posterior() -> dict:
    """The shipped posterior (:data:`POSTERIOR_FILE`)."""
    path = files("ketasim") / "evidence" / "data" / POSTERIOR_FILE
    return json.loads(path.read_text(encoding="utf-8"))
