"""Many patients through the CLI: time and peak memory of ``ketasim simulate`` as n grows.

The workload of :mod:`full_model` (six infusions, follow-up to day 95) as a scenario with
visit-only outputs (``step`` = ``end``, the visits as timepoints), run by ``ketasim simulate``
in a child process for each n under ``/usr/bin/time`` (its "maximum resident set size"; the
child of a small process, because a child forked from this large one would count this one's
pages). Time and memory are fitted as a + b n and extrapolated to 10^6
patients when the largest n measured is smaller.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from full_model import COURSE_DAYS, VISITS

TARGET_N, TARGET_S, TARGET_GB = 1_000_000, 60.0, 4.0
KETASIM = str(Path(sys.executable).with_name("ketasim"))
TIME = "/usr/bin/time"  # Debian package "time"


def scenario_text(n: int) -> str:
    at = ", ".join(f'"{d} d"' for d in COURSE_DAYS)
    visits = ", ".join(f'"{v / 24:g} d"' for v in VISITS if v > 0)
    return (f'name = "six infusions, {n} TRD patients"\nsubstance = "racemic"\n'
            'model = "racemic_sr+mechanism"\n'
            f'[[doses]]\nroute = "iv_infusion"\namount = "0.5 mg/kg"\nduration = "40 min"\n'
            f'at = [{at}]\n[population]\nn = {n}\ncohort = "trd"\nseed = 1\n'
            f'[output]\nend = "95 d"\nstep = "95 d"\ntimepoints = [{visits}]\n')


def run(n: int) -> tuple[float, float]:
    """(wall time s, peak resident memory GB) of one ``ketasim simulate`` of n patients."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.toml"
        path.write_text(scenario_text(n))
        start = time.perf_counter()
        done = subprocess.run([TIME, "-f", "%M", KETASIM, "simulate", str(path), "--out",
                               f"{tmp}/out", "--quiet"], capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0 or not (Path(tmp) / "out" / "summary.json").exists():
            raise AssertionError(f"ketasim simulate of {n} patients failed: {done.stderr}")
    return seconds, int(done.stderr.split()[-1]) / 2**20  # kB -> GB


def measure(sizes: tuple[int, ...]) -> dict:
    """Time and memory per n, their linear fits and the extrapolation to 10^6 patients."""
    found = {n: run(n) for n in sizes}
    n = np.array(sizes, float)
    seconds, memory = (np.array([found[k][i] for k in sizes]) for i in (0, 1))
    t_fit, m_fit = np.polyfit(n, seconds, 1), np.polyfit(n, memory, 1)
    return {"runs": [{"n": k, "s": round(found[k][0], 1), "peak_gb": round(found[k][1], 2)}
                     for k in sizes],
            "s_per_1000": round(1000 * t_fit[0], 2),
            "mb_per_1000": round(1000 * 1024 * m_fit[0], 1),
            "million_s": round(float(np.polyval(t_fit, TARGET_N)), 0),
            "million_peak_gb": round(float(np.polyval(m_fit, TARGET_N)), 2),
            "extrapolated": max(sizes) < TARGET_N}
