"""``ketasim trial``: run the replicates, summarise them in ``trial.json`` and draw the figures
(forest plot, Kaplan-Meier, score trajectories with bands)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import cast

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from ketasim import streams
from ketasim.analysis.statistics import spread
from ketasim.clinical.endpoints import kaplan_meier, relapse_times, responding
from ketasim.distributed import dask_client
from ketasim.errors import ScenarioError
from ketasim.report.outdir import prepare, write_text
from ketasim.report.style import save
from ketasim.scenario.definition import Scenario
from ketasim.scenario.files import TRIAL_DEFAULTS
from ketasim.trials.design import TrialDesign, trial_design
from ketasim.trials.run import (
    POOL_MAX,
    POOL_MIN,
    Pool,
    power,
    replicate,
    sample_size,
    simulate_pools,
)

_EFFECT = {"parallel": "difference in MADRS change vs control (points, ANCOVA)",
           "crossover": "within-patient difference in MADRS change (points)",
           "randomized_withdrawal": "hazard ratio of relapse vs control (log-rank, Peto)"}


def summarise(trials: list[dict], design: TrialDesign) -> list[dict]:
    """Per treated arm: power and the distribution of every estimate over the trials."""
    rows = []
    for label in design.treated:
        keys = trials[0][label]
        rows.append({"treated": label, "control": design.control,
                     "power": power(trials, label, design.alpha),
                     **{k: spread([t[label][k].effect for t in trials]) for k in keys}})
    return rows


def run_trial(scenario: Scenario, replicates: int, out: Path,
              target_power: float | None = None, pool_n: int | None = None,
              scheduler: str | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Simulate ``replicates`` trials of ``scenario`` (its ``[trial]`` table; population.n
    patients per arm), write ``trial.json`` and figures to ``out`` and return the summary.
    ``pool_n``: virtual patients simulated per arm (default 4 n within
    :data:`POOL_MIN`-:data:`POOL_MAX`); ``scheduler``: a Dask scheduler address to simulate
    the pools and the replicates on (same numbers as here); ``progress(stage, done, total)``.
    """
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(dask_client(scheduler)) if scheduler else None
        return _run_trial(scenario, replicates, out, target_power, pool_n, client,
                          progress or (lambda stage, done, total: None))


#: Most replicates of one ``ketasim trial``: assumption: 100,000 trials estimate a power of 0.8
#: to +/- 0.0025 (95%), far beyond any design question, in about an hour on 2 cores.
MAX_REPLICATES = 100_000


def _run_trial(scenario, replicates, out, target_power, pool_n, client, progress) -> dict:
    if isinstance(replicates, bool) or not isinstance(replicates, int) or \
            not 1 <= replicates <= MAX_REPLICATES:
        raise ScenarioError(f"replicates: must be a whole number from 1 to "
                            f"{MAX_REPLICATES:,}, got {replicates!r}")
    prepare(out)
    if target_power is not None and not 0 < target_power < 1:
        raise ScenarioError(f"target-power: must be between 0 and 1 (exclusive), got "
                            f"{target_power!r}")
    design = scenario.trial or trial_design(TRIAL_DEFAULTS, scenario.arms, scenario.output)
    n = scenario.population.n
    if pool_n is None:
        pool_n = int(np.clip(4 * n, POOL_MIN, POOL_MAX))
    elif isinstance(pool_n, bool) or not isinstance(pool_n, int) or pool_n < 2:
        raise ScenarioError(f"pool: must be a whole number >= 2, got {pool_n!r}")
    progress("virtual patients", 0, 1)
    pools = simulate_pools(scenario, design, pool_n, client)
    progress("trials", 0, replicates)
    criteria = scenario.criteria
    if design.design == "randomized_withdrawal":
        randomize = cast(float, design.randomize_h)  # trial_design gives every withdrawal one
        control = pools[design.control]
        if not responding(control.at(randomize), control.at(0.0),
                          criteria.response_fraction).any():
            raise ScenarioError(f"trial.randomize: no virtual patient responds at "
                                f"{randomize:g} h, so none can be randomized")
    seed = scenario.population.seed
    trials = replicate(pools, design, n, replicates, seed, criteria.response_fraction,
                       criteria.remission_max, client,
                       lambda done: progress("trials", done, replicates))
    comparisons = summarise(trials, design)
    first = comparisons[0]
    result = {"scenario": scenario.name, "design": design.design, "n_per_arm": n,
              "replicates": replicates, "pool_per_arm": pool_n, "alpha": design.alpha,
              "primary_h": design.primary_h,
              "dropout_per_week": design.dropout_per_week, "effect_measure":
              _EFFECT[design.design], "power": first["power"], "effect": first["primary"],
              "comparisons": comparisons,
              "notes": [f"power and effect refer to {first['treated']!r} vs "
                        f"{design.control!r}; every comparison is in 'comparisons'",
                        "ANCOVA and binary endpoints use the patients still in the trial at "
                        "the primary visit (completers)"]}
    if target_power is not None:
        progress("sample size", 0, 1)
        result["sample_size"] = sample_size(pools, design, target_power, replicates, seed,
                                            criteria.response_fraction, criteria.remission_max,
                                            client)
    write_text(out / "trial.json", json.dumps(result, indent=2, allow_nan=False) + "\n")
    forest(comparisons, design, out / "forest.png", scenario.name)
    trajectories(pools, design, n, replicates, seed, out / "trajectories.png", scenario.name)
    if design.design != "crossover":
        kaplan_meier_figure(pools, design, scenario, out / "kaplan_meier.png")
    return result


def forest(comparisons: list[dict], design: TrialDesign, path: Path, title: str) -> Path:
    """Median and 5-95% range over trials of each treated arm's estimates."""
    keys = [k for k in comparisons[0] if isinstance(comparisons[0][k], dict)]
    fig, axes = plt.subplots(len(keys), 1, figsize=(7.5, len(keys) * (0.9 + 0.3 *
                                                                   len(comparisons))),
                             squeeze=False, constrained_layout=True)
    names = {"primary": _EFFECT[design.design], "response_rd": "response: risk difference",
             "response_or": "response: odds ratio", "remission_rd": "remission: risk difference",
             "remission_or": "remission: odds ratio"}
    for ax, key in zip(axes[:, 0], keys, strict=True):
        for y, row in enumerate(comparisons):
            e = row[key]
            ax.plot([e["p5"], e["p95"]], [y, y], color="C0", lw=2)
            ax.plot(e["median"], y, "o", color="C0")
        ratio = key.endswith("_or") or (design.design == "randomized_withdrawal"
                                        and key == "primary")
        ax.axvline(1.0 if ratio else 0.0, color="grey", lw=1, ls="--")
        if ratio:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(range(len(comparisons)), [r["treated"] for r in comparisons])
        ax.set_ylim(-0.6, len(comparisons) - 0.4)
        ax.set_title(names[key], fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}\nestimates over trials (median, 5-95%) vs {design.control}",
                 fontsize=10)
    return save(fig, path)


def trajectories(pools: dict[str, Pool], design: TrialDesign, n: int, replicates: int,
                 seed: int, path: Path, title: str) -> Path:
    """Mean MADRS per arm at each visit: the pool's mean and the 5-95% range of trial means."""
    rng = streams.rng(seed, streams.TRIALS, 0)
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for k, (label, pool) in enumerate(pools.items()):
        days = pool.times / 24.0
        means = np.array([pool.madrs[rng.choice(pool.madrs.shape[0], n)].mean(axis=0)
                          for _ in range(min(replicates, 200))])
        p5, p95 = np.percentile(means, [5, 95], axis=0)
        ax.fill_between(days, p5, p95, color=f"C{k}", alpha=0.25, lw=0)
        ax.plot(days, pool.madrs.mean(axis=0), color=f"C{k}", lw=1.8,
                label=f"{label}: mean, 5-95% of trial means (n={n})")
    for t, name in ((design.primary_h, "primary"), (design.randomize_h, "randomization"),
                    (design.washout_h, "period 2")):
        if t is not None:
            ax.axvline(t / 24.0, color="grey", ls="--", lw=1)
            ax.text(t / 24.0, ax.get_ylim()[1], f" {name}", va="top", fontsize=8)
    ax.set_xlabel("day")
    ax.set_ylabel("MADRS (points)")
    ax.set_title(f"{title}: MADRS by arm")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def kaplan_meier_figure(pools: dict[str, Pool], design: TrialDesign, scenario: Scenario,
                        path: Path) -> Path:
    """Relapse-free share among responders per arm (the whole pools): from randomization in a
    withdrawal design, else from each arm's last dose."""
    fig, ax = plt.subplots(figsize=(7, 4.2), constrained_layout=True)
    fraction = scenario.criteria.response_fraction
    arms = {a.label: a.regimen for a in scenario.arms}
    for k, (label, pool) in enumerate(pools.items()):
        start = design.randomize_h if design.randomize_h is not None else \
            arms[label].last_dose_h + 24.0
        if start >= pool.times[-1]:
            continue
        responder, days, seen = relapse_times(pool.madrs, pool.at(0.0), pool.times, start,
                                              fraction, assess_after_h=0.0)
        if not responder.any():
            continue
        t, s = kaplan_meier(days[responder], seen[responder])
        ax.step(np.r_[0.0, t], np.r_[1.0, s], where="post", color=f"C{k}",
                label=f"{label} ({responder.sum()} responders of {responder.size})")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days from " + ("randomization" if design.randomize_h is not None
                                  else "24 h after the last dose"))
    ax.set_ylabel("share still responding")
    ax.set_title(f"{scenario.name}\ntime to relapse among responders (Kaplan-Meier, pool)",
                 fontsize=10)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return save(fig, path)
