"""ketasim's benchmarks, ratios against peers measured in the same run (benchmarks/README.md).

    python benchmarks/run.py                 # everything; writes benchmarks/results.md
    python benchmarks/run.py --quick --json  # the full model only, one JSON line, < 60 s
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import domino
import full_model
import million

OUT = Path(__file__).with_name("results.md")
#: (ketasim subjects, subjects per peer, repeats) of a full and of a quick run.
FULL = (1000, {"roadrunner": 20, "lsoda": 10}, 3)
QUICK = (300, {"roadrunner": 4, "lsoda": 2}, 1)
#: Patients of the many-patient runs (the fit of time and memory in n).
MANY = (5_000, 20_000)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor()) \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    pkgs = ", ".join(f"{p} {version(p)}" for p in
                     ("ketasim", "numpy", "scipy", "numba", "libroadrunner", "dask"))
    return (f"Run {datetime.datetime.now().isoformat(timespec='seconds')} on {os.cpu_count()} "
            f"cores ({cpu}), {platform.system()}, Python {platform.python_version()}; {pkgs}.")


def full_model_section(result: dict) -> list[str]:
    lines = ["## Whole chain: racemic_sr+mechanism, six infusions, follow-up to day 95", "",
             f"{result['n']} TRD patients, rtol {full_model.RTOL:g}, atol {full_model.ATOL:g}; "
             "peers on the same patients' parameters and dose events, timed on the first "
             "subjects and scaled to 1000. Ratio = peer time / ketasim time. Error: largest "
             "difference from a tight-tolerance reference (rtol 1e-10), relative to each "
             "output's peak, away from dose times; asserted: ketasim's below "
             f"{full_model.AGREEMENT:g}, and ketasim within a peer's error + "
             f"{full_model.AGREEMENT:g} of the peer.", "",
             "| grid | ketasim, all threads | ketasim, 1 thread | thread speed-up | "
             "libRoadRunner | SciPy LSODA | ratio RR (all / 1 thread) | "
             "ratio LSODA (all / 1 thread) | error ketasim, RR, LSODA |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for grid in full_model.GRIDS:
        r = result[grid]
        s = r["s_per_1000"]
        lines.append(
            f"| {grid} | {s['ketasim']:.3g} s | {s['ketasim_1_thread']:.3g} s | "
            f"{r['thread_speedup']:.2f} | {s['roadrunner']:.3g} s | {s['lsoda']:.3g} s | "
            f"{r['ratio_roadrunner_all_cores']:.3g} / {r['ratio_roadrunner_1_thread']:.3g} | "
            f"{r['ratio_lsoda_all_cores']:.3g} / {r['ratio_lsoda_1_thread']:.3g} | "
            f"{r['max_rel_error']['ketasim']:.1e}, {r['max_rel_error']['roadrunner']:.1e}, "
            f"{r['max_rel_error']['lsoda']:.1e} |")
    lines += ["", f"- one calibration evaluation ({full_model.CALIBRATION_ARMS} arms x "
              f"{full_model.CALIBRATION_N} patients rated at the visits): "
              f"{result['calibration_evaluation_s']:.2f} s (target < 1 s)",
              f"- libRoadRunner model load: {result['roadrunner_load_s']:.2f} s; not included",
              ""]
    return lines


def million_section(result: dict) -> list[str]:
    runs = "; ".join(f"n = {r['n']:,}: {r['s']:.1f} s, {r['peak_gb']:.2f} GB" for r in
                     result["runs"])
    return ["## Many patients: `ketasim simulate`, visit-only outputs", "",
            f"Runs: {runs}. Linear fit: {result['s_per_1000']:.2f} s and "
            f"{result['mb_per_1000']:.0f} MB per 1000 patients. "
            f"{'Extrapolated' if result['extrapolated'] else 'Measured'} for 10^6 patients: "
            f"{result['million_s']:.0f} s (target {million.TARGET_S:.0f} s) and "
            f"{result['million_peak_gb']:.2f} GB peak (target {million.TARGET_GB:.0f} GB).", ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the full model only, small n")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    started, load0 = time.perf_counter(), os.getloadavg()[0]
    n, peers, repeat = QUICK if args.quick else FULL
    print("whole chain ...", file=sys.stderr, flush=True)
    result = full_model.measure(n, peers, repeat)
    sections = full_model_section(result)
    if not args.quick:
        rows, notes = domino.measure()
        print("many patients ...", file=sys.stderr, flush=True)
        result["many"] = million.measure(MANY)
        sections = sections + million_section(result["many"]) + domino.render(rows, notes)
    result["load_average"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    result["seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(result))
        return
    busy = " - WARNING: the machine was busy, ratios are skewed" if load0 > 0.5 else ""
    report = "\n".join(["# ketasim benchmarks", "", machine(), "",
                        f"Load average {load0:.2f} at start, {result['load_average'][1]:.2f} "
                        f"at end{busy}; whole run {result['seconds']:.0f} s.", "", *sections])
    print(report)
    OUT.write_text(report)
    print(f"written to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
