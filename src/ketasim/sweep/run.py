"""Run a sweep on Dask: tasks of (scenario, block of subjects), each written atomically.

Each scenario's ``population.n`` patients are drawn in blocks of the sweep's ``chunk``: block
``b`` is a population of its own with the seed :func:`block_seed` (scenario seed, b), so a
task's numbers do not depend on which worker runs it or on how many there are. A finished task
writes its per-subject rows to ``parts/task-<id>.parquet`` through a temporary file and a
rename, so a part on disk is always complete; ``manifest.json`` lists the tasks. ``--resume``
runs only the tasks without a part. At the end the parts are summarised into
``summary.csv`` (one row per scenario and arm).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ketasim import streams
from ketasim.clinical.endpoints import responding, time_columns
from ketasim.distributed import dask_client
from ketasim.errors import KetasimError
from ketasim.simulation.runner import run_scenario
from ketasim.sweep.definition import Point, Sweep


@dataclass(frozen=True)
class Task:
    """``n`` subjects (block ``block``) of scenario ``point``."""

    id: int
    point: int
    block: int
    n: int

    @property
    def part(self) -> str:
        return f"task-{self.id:06d}.parquet"


def tasks(sweep: Sweep) -> list[Task]:
    """Every task of the sweep: each scenario's patients in blocks of ``sweep.chunk``."""
    found: list[Task] = []
    for point in sweep.points:
        n = point.scenario().population.n
        for block, lo in enumerate(range(0, n, sweep.chunk)):
            found.append(Task(len(found), point.index, block, min(sweep.chunk, n - lo)))
    return found


def block_seed(seed: int, block: int) -> int:
    """The population seed of a scenario's block of patients."""
    return int(streams.rng(seed, streams.SWEEP, block).integers(2**31 - 1))


def subject_rows(point: Point, task: Task, chunk: int) -> pd.DataFrame:
    """Simulate ``task`` and return one row per arm and subject: exposure metrics
    (``<analyte>_<metric>``) and, for a mechanism model, MADRS at baseline and at each
    timepoint (``madrs_<t>h``, points)."""
    scenario = point.scenario()
    population = replace(scenario.population, n=task.n,
                         seed=block_seed(scenario.population.seed, task.block))
    scenario = replace(scenario, population=population)
    frames = []
    for arm in run_scenario(scenario, keep_subjects=1):
        rows = {"point": task.point, "arm": arm.label,
                "subject": task.block * chunk + np.arange(task.n)}
        rows |= {f"{analyte}_{metric}": values for analyte, metrics in arm.exposure.items()
                 for metric, values in metrics.items()}
        if arm.ratings is not None:
            madrs = arm.ratings.scores["madrs"]
            timepoints = [t for t in scenario.output.timepoints_h if t > 0]
            rows["madrs_baseline"] = madrs[:, 0]
            for t, col in zip(timepoints, time_columns(arm.ratings.times_h, timepoints),
                              strict=True):
                rows[f"madrs_{t:.4g}h"] = madrs[:, col]
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


def run_task(point: Point, task: Task, chunk: int, parts: str) -> int:
    """Simulate ``task`` and write its rows atomically to ``parts``; the number of rows."""
    table = subject_rows(point, task, chunk)
    final = Path(parts) / task.part
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, final)
    return len(table)


def _prepare(sweep: Sweep, out: Path, resume: bool) -> tuple[list[Task], list[Task], Path]:
    """Every task and those still to run, after writing (or, resuming, checking) the
    manifest."""
    parts = out / "parts"
    manifest = out / "manifest.json"
    all_tasks = tasks(sweep)
    if manifest.exists():
        found = json.loads(manifest.read_text())
        if not resume:
            raise KetasimError(f"--out: {out} holds a sweep already; pass --resume to finish it "
                               "or choose another directory")
        if found.get("fingerprint") != sweep.fingerprint:
            raise KetasimError(f"--resume: {out} holds another sweep ({found.get('name')!r}, "
                               "other scenarios or chunk); choose another --out")
    elif resume:
        raise KetasimError(f"--resume: {out} holds no sweep to resume (no manifest.json)")
    else:
        parts.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"name": sweep.name, "fingerprint": sweep.fingerprint,
                           "chunk": sweep.chunk, "axes": sweep.axes,
                           "points": [{"index": p.index, "values": p.values}
                                      for p in sweep.points],
                           "tasks": [asdict(t) for t in all_tasks]}, indent=1, default=str)
        tmp = manifest.with_name(".manifest.json.tmp")
        tmp.write_text(text)
        os.replace(tmp, manifest)
    for stale in parts.glob(".*.tmp"):  # a task killed while writing
        stale.unlink()
    return all_tasks, [t for t in all_tasks if not (parts / t.part).exists()], parts


def run_sweep(sweep: Sweep, out: Path, *, scheduler: str | None = None,
              workers: int | None = None, resume: bool = False,
              progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Run every task of ``sweep`` not yet written under ``out`` and summarise all of them.

    ``scheduler``: a Dask scheduler address, ``"synchronous"`` to run in this process, or None
    for a LocalCluster of ``workers`` processes (default: one per core). ``progress(done,
    total)`` after each task. Returns the summary (also written to ``out/summary.csv``).
    """
    every, todo, parts = _prepare(sweep, out, resume)
    total = len(every)
    done = total - len(todo)
    if progress:
        progress(done, total)
    points = {p.index: p for p in sweep.points}
    if scheduler == "synchronous":
        for task in todo:
            run_task(points[task.point], task, sweep.chunk, str(parts))
            done += 1
            if progress:
                progress(done, total)
    elif todo:
        from dask.distributed import as_completed

        with dask_client(scheduler, workers) as client:
            futures = [client.submit(run_task, points[t.point], t, sweep.chunk, str(parts),
                                     key=f"ketasim-{sweep.fingerprint}-{t.id}", retries=2)
                       for t in todo]
            for future in as_completed(futures):
                future.result()
                done += 1
                if progress:
                    progress(done, total)
    table = summarise(sweep, parts)
    table.to_csv(out / ".summary.csv.tmp", index=False)
    os.replace(out / ".summary.csv.tmp", out / "summary.csv")
    return table


def read_subjects(parts: Path) -> pd.DataFrame:
    """Every subject row of a sweep's parts, in task order."""
    files = sorted(parts.glob("task-*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def summarise(sweep: Sweep, parts: Path) -> pd.DataFrame:
    """One row per scenario and arm: the axis values, n, the median of each exposure metric,
    and on MADRS at each timepoint the mean change, response and remission rates (the
    scenario's criteria)."""
    subjects = read_subjects(parts)
    rows = []
    for (index, arm), group in subjects.groupby(["point", "arm"], sort=False):
        point = sweep.points[int(index)]
        criteria = point.scenario().criteria
        row = {"point": index, **point.values, "arm": arm, "n": len(group)}
        metrics = [c for c in group if c not in ("point", "arm", "subject")
                   and not c.startswith("madrs_")]
        row |= {f"{c}_median": float(group[c].median()) for c in metrics}
        if "madrs_baseline" in group:
            base = group["madrs_baseline"].to_numpy(float)
            for c in (c for c in group if c.startswith("madrs_") and c != "madrs_baseline"):
                score = group[c].to_numpy(float)
                row[f"{c}_change_mean"] = float((score - base).mean())
                row[f"{c}_response"] = float(responding(score, base,
                                                        criteria.response_fraction).mean())
                row[f"{c}_remission"] = float((score <= criteria.remission_max).mean())
        rows.append(row)
    return pd.DataFrame(rows)
