"""Virtual trials: many simulated trials of a scenario, each analysed as a statistician would.

Each arm's patients come from a pool of virtual patients simulated once (MADRS at every visit:
daily, plus the scenario's timepoints); a trial draws ``n_per_arm`` patients per arm from the
pools, removes what dropouts would not have given, and is analysed (:mod:`analysis`). Power is
the share of trials whose primary test has p < alpha; a sample-size search re-draws trials from
the same pools for other sizes.

Primary analyses: parallel (and dose finding): ANCOVA of the MADRS change at the primary visit
with baseline as covariate, on the patients still in the trial then (completers); crossover:
the within-patient difference of period changes; randomized withdrawal: log-rank test of time
to relapse among responders randomized at ``randomize``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

import numpy as np

from ketasim import streams
from ketasim.analysis import statistics
from ketasim.clinical.endpoints import (
    REMISSION_MAX,
    RESPONSE_FRACTION,
    relapse_times,
    responding,
    time_columns,
)
from ketasim.clinical.visits import rate_arm
from ketasim.dosing import Regimen
from ketasim.errors import ScenarioError
from ketasim.models.mechanism.mood import SEVERITY
from ketasim.scenario.definition import Scenario
from ketasim.trials.design import TrialDesign

#: Patients simulated per pool: at least this many (assumption: enough that resampling a trial
#: of up to a few hundred patients per arm rarely repeats a patient), at most POOL_MAX.
POOL_MIN, POOL_MAX = 2_000, 50_000
#: Largest sample size per arm the search tries.
MAX_N_PER_ARM = 5_000
#: Trials per block (one Dask task when distributed).
REPLICATE_BLOCK = 50


@dataclass(frozen=True)
class Pool:
    """MADRS (patient x visit, points) at ``times`` (h) of one simulated regimen."""

    times: np.ndarray
    madrs: np.ndarray

    def at(self, t_h: float) -> np.ndarray:
        return self.madrs[:, time_columns(self.times, t_h)[0]]


def _visit_grid(scenario: Scenario, design: TrialDesign) -> np.ndarray:
    end = scenario.output.end_h
    extra = [design.primary_h, *scenario.output.timepoints_h]
    if design.washout_h is not None:
        extra += [design.washout_h, design.washout_h + design.primary_h]
        end = max(end, design.washout_h + design.primary_h)
    if design.randomize_h is not None:
        extra.append(design.randomize_h)
    return np.union1d(np.arange(0.0, end + 1e-9, 24.0), [t for t in extra if t <= end])


def _pool(scenario: Scenario, regimen: Regimen, n: int, seed: int, times: np.ndarray) -> Pool:
    population = replace(scenario.population, n=n, seed=seed)
    ratings = rate_arm(scenario.resolved_model(), regimen, population, times, ("madrs",))
    return Pool(times, ratings.points("madrs"))


def _shifted(regimen: Regimen, by_h: float) -> tuple:
    return tuple(replace(d, time_h=d.time_h + by_h) for d in regimen.doses)


def simulate_pools(scenario: Scenario, design: TrialDesign, pool_n: int,
                   client=None) -> dict[str, Pool]:
    """The pools a design draws from, by arm label (crossover: by sequence "AB", "BA"); with a
    Dask ``client``, each pool is simulated on a worker."""
    if SEVERITY not in scenario.resolved_model().outputs:
        raise ScenarioError(f"model: {scenario.model} has no depression severity; a trial "
                            "needs a '+mechanism' model")
    times = _visit_grid(scenario, design)
    seed = scenario.population.seed
    arms = {arm.label: arm.regimen for arm in scenario.arms}
    if design.design == "crossover":
        washout = cast(float, design.washout_h)  # trial_design gives every crossover one
        a, b = arms[design.control], arms[design.treated[0]]
        jobs = {"AB": (Regimen(a.doses + _shifted(b, washout)), seed),
                "BA": (Regimen(b.doses + _shifted(a, washout)), seed + 1)}
    else:  # withdrawal: the same patients in both arms (identical until randomization)
        same = design.design == "randomized_withdrawal"
        jobs = {label: (regimen, seed if same else seed + k)
                for k, (label, regimen) in enumerate(arms.items())}
    if client is None:
        return {label: _pool(scenario, regimen, pool_n, s, times)
                for label, (regimen, s) in jobs.items()}
    futures = {label: client.submit(_pool, scenario, regimen, pool_n, s, times)
               for label, (regimen, s) in jobs.items()}
    return {label: future.result() for label, future in futures.items()}


def _dropout_h(rng: np.random.Generator, n: int, per_week: float) -> np.ndarray:
    """Dropout times (h), exponential with a weekly leaving share ``per_week``."""
    if per_week == 0:
        return np.full(n, np.inf)
    return rng.exponential(168.0 / -np.log1p(-per_week), n)


def _pick(rng: np.random.Generator, candidates: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(candidates, n, replace=n > candidates.size)


def one_trial(pools: dict[str, Pool], design: TrialDesign, n: int, rng: np.random.Generator,
              response_fraction: float, remission_max: float) -> dict:
    """Estimates of one trial with ``n`` patients per arm (per sequence in a crossover)."""
    if design.design == "crossover":
        return _crossover(pools, design, n, rng)
    if design.design == "randomized_withdrawal":
        return _withdrawal(pools, design, n, rng, response_fraction)
    return _parallel(pools, design, n, rng, response_fraction, remission_max)


def _crossover(pools: dict[str, Pool], design: TrialDesign, n: int, rng: np.random.Generator
               ) -> dict:
    washout = cast(float, design.washout_h)  # trial_design gives every crossover a washout
    diffs = {}
    for seq, pool in pools.items():
        idx = _pick(rng, np.arange(pool.madrs.shape[0]), n)
        stay = _dropout_h(rng, n, design.dropout_per_week) > washout + design.primary_h
        p = Pool(pool.times, pool.madrs[idx[stay]])
        first = p.at(design.primary_h) - p.at(0.0)
        second = p.at(washout + design.primary_h) - p.at(washout)
        diffs[seq] = second - first if seq == "AB" else first - second
    return {design.treated[0]: {"primary": statistics.crossover(diffs["AB"], diffs["BA"])}}


def _withdrawal(pools: dict[str, Pool], design: TrialDesign, n: int, rng: np.random.Generator,
                response_fraction: float) -> dict:
    randomize = cast(float, design.randomize_h)  # trial_design gives every withdrawal one
    control = pools[design.control]
    base = control.at(0.0)
    responders = np.flatnonzero(responding(control.at(randomize), base, response_fraction))
    idx = _pick(rng, responders, 2 * n)
    times = {}
    for label, part in ((design.control, idx[:n]), (design.treated[0], idx[n:])):
        pool = pools[label]
        _, days, seen = relapse_times(pool.madrs[part], base[part], pool.times, randomize,
                                      response_fraction, assess_after_h=0.0)
        out = _dropout_h(rng, n, design.dropout_per_week) / 24.0
        times[label] = (np.minimum(days, out), seen & (days <= out))
    return {design.treated[0]: {"primary": statistics.logrank(*times[design.control],
                                                            *times[design.treated[0]])}}


def _parallel(pools: dict[str, Pool], design: TrialDesign, n: int, rng: np.random.Generator,
              response_fraction: float, remission_max: float) -> dict:
    arms = {}
    for label, pool in pools.items():
        idx = _pick(rng, np.arange(pool.madrs.shape[0]), n)
        stay = _dropout_h(rng, n, design.dropout_per_week) > design.primary_h
        arms[label] = (pool.at(0.0)[idx[stay]], pool.at(design.primary_h)[idx[stay]])
    base0, end0 = arms[design.control]
    result = {}
    for label in design.treated:
        base1, end1 = arms[label]
        response = statistics.binary(responding(end0, base0, response_fraction),
                                     responding(end1, base1, response_fraction))
        remission = statistics.binary(end0 <= remission_max, end1 <= remission_max)
        result[label] = {"primary": statistics.ancova(end0 - base0, end1 - base1, base0, base1),
                         "response_rd": response[0], "response_or": response[1],
                         "remission_rd": remission[0], "remission_or": remission[1]}
    return result


def replicate(pools: dict[str, Pool], design: TrialDesign, n: int, replicates: int,
              seed: int, response_fraction: float = RESPONSE_FRACTION,
              remission_max: float = REMISSION_MAX, client=None,
              progress: Callable[[int], None] | None = None) -> list[dict]:
    """``replicates`` trials of ``n`` per arm, each from its own random stream, so that blocks
    of :data:`REPLICATE_BLOCK` give the same trials wherever they run: here, or with a Dask
    ``client`` on its workers. ``progress`` gets the number of trials done."""
    blocks = [range(lo, min(lo + REPLICATE_BLOCK, replicates))
              for lo in range(0, replicates, REPLICATE_BLOCK)]
    args = (design, n, seed, response_fraction, remission_max)
    if client is None:
        results = (_replicates(pools, block, *args) for block in blocks)
    else:
        shared = client.scatter(pools, broadcast=True)
        results = (f.result() for f in [client.submit(_replicates, shared, block, *args)
                                        for block in blocks])
    trials: list[dict] = []
    for result in results:
        trials += result
        if progress:
            progress(len(trials))
    return trials


def _replicates(pools: dict[str, Pool], block: range, design: TrialDesign, n: int, seed: int,
                response_fraction: float, remission_max: float) -> list[dict]:
    return [one_trial(pools, design, n, streams.rng(seed, streams.TRIALS, n, r),
                      response_fraction, remission_max) for r in block]


def power(trials: list[dict], label: str, alpha: float) -> float:
    """Share of ``trials`` whose primary test of arm ``label`` has p < ``alpha``."""
    return float(np.mean([t[label]["primary"].p < alpha for t in trials]))


def sample_size(pools: dict[str, Pool], design: TrialDesign, target: float, replicates: int,
                seed: int, response_fraction: float, remission_max: float,
                client=None) -> dict:
    """Smallest ``n`` per arm whose power (first treated arm) reaches ``target``: doubling
    from 4, then bisection; ``None`` if not reached at :data:`MAX_N_PER_ARM`."""
    label = design.treated[0]

    def at(n: int) -> float:
        return power(replicate(pools, design, n, replicates, seed, response_fraction,
                               remission_max, client), label, design.alpha)

    tried: dict[int, float] = {}
    lo, hi = 2, 4
    while (tried.setdefault(hi, at(hi))) < target:
        lo, hi = hi, hi * 2
        if hi > MAX_N_PER_ARM:
            return {"target_power": target, "n_per_arm": None, "tried": _table(tried),
                    "note": f"not reached with up to {MAX_N_PER_ARM} per arm"}
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tried.setdefault(mid, at(mid)) >= target:
            hi = mid
        else:
            lo = mid
    return {"target_power": target, "n_per_arm": hi, "power": tried[hi],
            "tried": _table(tried)}


def _table(tried: dict[int, float]) -> list[dict]:
    return [{"n_per_arm": n, "power": p} for n, p in sorted(tried.items())]
