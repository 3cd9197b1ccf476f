"""The linear Domino 1982 model: ketasim's batch engine against a closed form and peers.

Every method solves the same problem: the Domino 1982 three-compartment model, a 0.5 mg/kg
racemic ketamine IV infusion over 40 min at t = 0, the same 1000 subjects (parameters taken
from ketasim's result), the same output times (15-min grid) and the same tolerances (rtol 1e-6,
atol 1e-9 mg). Slow peers are timed on the first few subjects and scaled to 1000. Accuracy is
the largest relative error against the closed form (matrix exponentials) at the times where a
subject's concentration exceeds 1e-3 of its peak. See benchmarks/README.md.
"""

from __future__ import annotations

import sys

import common
import numba
import numpy as np
import roadrunner
from common import best_of
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from ketasim.dosing import Dose, Regimen
from ketasim.modeling import kernel
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.simulation.engine import simulate

RTOL, ATOL = 1e-6, 1e-9
N, SEED = 1000, 1
DOSE_MG_PER_KG, T_INF = 0.5, 40 / 60
MODEL = get_model("domino1982")
REGIMEN = Regimen((Dose("racemic", "iv_infusion", DOSE_MG_PER_KG, per_kg=True,
                        duration_h=T_INF),))
OUTPUT = "ketamine_plasma_ng_ml"
#: (label, horizon h, subjects timed per peer); chosen to keep the run under ~3 min on 2 cores.
SCENARIOS = (
    ("24 h", 24.0, {"roadrunner": 1000, "LSODA": 1000, "RK45": 200}),
    ("28 d", 28 * 24.0, {"roadrunner": 1000, "LSODA": 1000, "RK45": 20}),
)
#: A 10x tighter ketasim run (extra row): the cost of more accuracy.
RTOL_MATCHED = 1e-7
THREADS = numba.config.NUMBA_NUM_THREADS


def run_ketasim(times, threads, rtol=RTOL):
    numba.set_num_threads(threads)
    try:
        return simulate(MODEL, REGIMEN, Population(N, seed=SEED), times, rtol=rtol, atol=ATOL)
    finally:
        numba.set_num_threads(THREADS)


def subjects_of(res) -> dict[str, np.ndarray]:
    """Each subject's rate constants (1/h), V1 (L) and infusion rate (mg/h), from the result."""
    p = {k: res[k].to_numpy() for k in ("k10", "k12", "k13", "k21", "k31", "weight_kg")}
    p["V1"] = res["V1_per_kg"].to_numpy() * p["weight_kg"]
    p["rate"] = DOSE_MG_PER_KG * p["weight_kg"] / T_INF  # computed here, not by ketasim
    return p


def system_matrix(p, i=slice(None)) -> np.ndarray:
    """d(central, peripheral1, peripheral2)/dt = A @ amounts; shape (n, 3, 3) or (3, 3)."""
    k10, k12, k13, k21, k31 = (np.asarray(p[k][i]) for k in ("k10", "k12", "k13", "k21", "k31"))
    z = np.zeros_like(k10)
    return np.moveaxis(np.array([[-(k10 + k12 + k13), k21, k31],
                                 [k12, -k21, z],
                                 [k13, z, -k31]]), (0, 1), (-2, -1))


def closed_form(p, times) -> np.ndarray:
    """Exact concentrations (n, time), all subjects at once.

    The state [amounts, 1] evolves by the augmented matrix [[A, rate e1], [0, 0]] (Van Loan),
    so each interval between consecutive output times (and the infusion end) is one matrix
    exponential, the same for all intervals of equal length: exact to rounding (the
    propagators are non-negative, so no cancellation builds up).
    """
    n = p["V1"].size
    aug = np.zeros((n, 4, 4))
    aug[:, :3, :3] = system_matrix(p)
    cache = {}

    def propagator(dt, on):
        if (dt, on) not in cache:
            aug[:, 0, 3] = p["rate"] if on else 0.0
            cache[dt, on] = expm(aug * dt)
        return cache[dt, on]

    x = np.zeros((n, 4))
    x[:, 3] = 1.0
    out = np.empty((n, times.size))
    t, j = 0.0, 0
    for tb in np.union1d(times, [T_INF]):
        if tb > t:
            x = np.einsum("nij,nj->ni", propagator(tb - t, t < T_INF), x)
            t = tb
        if j < times.size and times[j] == tb:
            out[:, j] = x[:, 0]
            j += 1
    return out / p["V1"][:, None] * 1000.0


def run_scipy(p, count, times, method) -> np.ndarray:
    """One subject at a time, piecewise: infusion on over [0, T], off after."""
    out = np.empty((count, times.size))
    on = times < T_INF
    for i in range(count):
        a = system_matrix(p, i)
        u = np.array([p["rate"][i], 0.0, 0.0])
        s1 = solve_ivp(lambda t, y, a=a, u=u: a @ y + u, (0.0, T_INF), np.zeros(3), method=method,
                       t_eval=np.r_[times[on], T_INF], rtol=RTOL, atol=ATOL)
        s2 = solve_ivp(lambda t, y, a=a: a @ y, (T_INF, times[-1]), s1.y[:, -1],
                       method=method, t_eval=times[~on], rtol=RTOL, atol=ATOL)
        assert s1.success and s2.success, (s1.message, s2.message)
        out[i] = np.r_[s1.y[0, :-1], s2.y[0]] / p["V1"][i] * 1000.0
    return out


def load_roadrunner() -> roadrunner.RoadRunner:
    """The model's SBML with the infusion switched on at 0 and off at T_INF; the rate
    (it depends on weight) is set per subject as dose_value_0 = +rate, dose_value_1 = -rate."""
    return common.load_roadrunner(MODEL, [(0.0, "central", "rate"), (T_INF, "central", "rate")],
                                  RTOL, ATOL)


def run_roadrunner(rr, p, count, times) -> np.ndarray:
    out = np.empty((count, times.size))
    for i in range(count):
        for name in ("k10", "weight_kg"):
            rr[name] = p[name][i]
        rr["dose_value_0"], rr["dose_value_1"] = p["rate"][i], -p["rate"][i]
        rr["V1_per_kg"] = p["V1"][i] / p["weight_kg"][i]
        rr.reset()  # after setting: the t = 0 event reads the rate when reset fires it
        out[i] = rr.simulate(times=times, selections=[OUTPUT])[:, 0]
    return out


def max_rel_error(c, exact) -> float:
    """Over the first len(c) subjects, where the exact value is above 1e-3 of its peak."""
    exact = exact[:len(c)]
    mask = exact > 1e-3 * exact.max(axis=1, keepdims=True)
    return float(np.max(np.abs(c[mask] - exact[mask]) / exact[mask]))


def kernel_cache_files() -> int:
    return len(list((kernel.cache_dir() / "__pycache__").glob("*.nb*")))


def measure() -> tuple[list, list[str]]:
    """The table's rows and notes of both scenarios."""
    before = kernel_cache_files()
    t_first, _ = best_of(1, run_ketasim, np.arange(5) * 0.25, THREADS)
    compiled = kernel_cache_files() > before
    t_rr_load, rr = best_of(1, load_roadrunner)
    notes = [f"ketasim first call (warm-up): {t_first:.2f} s "
             f"({'Numba compile, cache was cold' if compiled else 'kernel loaded from disk cache'})"
             "; not included below",
             f"libRoadRunner model load (SBML to LLVM): {t_rr_load:.2f} s; not included below"]
    rows = []
    for label, horizon, subset in SCENARIOS:
        times = np.arange(round(horizon * 4) + 1) * 0.25
        print(f"domino1982, {label}: {times.size} output times ...", file=sys.stderr,
              flush=True)
        repeat = 5 if horizon <= 24 else 3
        t_ks, res = best_of(repeat, run_ketasim, times, THREADS)
        t_ks1, _ = best_of(repeat, run_ketasim, times, 1)
        t_tight, tight = best_of(repeat, run_ketasim, times, THREADS, RTOL_MATCHED)
        p = subjects_of(res)
        t_exact, exact = best_of(1, closed_form, p, times)
        ks = res[OUTPUT].to_numpy()
        found = [(f"ketasim, {THREADS} threads", N, t_ks, ks),
                 ("ketasim, 1 thread", N, t_ks1, ks),
                 (f"ketasim, {THREADS} threads, rtol {RTOL_MATCHED:g}", N, t_tight,
                  tight[OUTPUT].to_numpy()),
                 ("closed form (scipy expm, vectorised)", N, t_exact, None)]
        n_rr = subset["roadrunner"]
        found.append(("libRoadRunner CVODE, loop", n_rr,
                      *best_of(1, run_roadrunner, rr, p, n_rr, times)))
        for method in ("LSODA", "RK45"):
            found.append((f"SciPy solve_ivp {method}, loop", subset[method],
                          *best_of(1, run_scipy, p, subset[method], times, method)))
        for name, n, seconds, c in found:
            per_1000 = seconds * 1000 / n
            e = None if c is None else max_rel_error(c, exact)
            rows.append((label, name, n, per_1000, per_1000 / t_ks, e))
    return rows, notes


def render(rows, notes) -> list[str]:
    """The section of results.md."""
    lines = [
        "## Linear model: domino1982", "",
        f"Problem: domino1982, {DOSE_MG_PER_KG} mg/kg IV infusion over 40 min, {N} subjects "
        f"(seed {SEED}), 15-min output grid, rtol {RTOL:g}, atol {ATOL:g} mg. "
        "Time per 1000 subjects; peers timed on a subset are scaled linearly. "
        "Ratio = method time / ketasim time with all threads (above 1: slower than ketasim). "
        "Error = max relative error against the closed form where the concentration is above "
        f"1e-3 of the subject's peak. Only the row marked rtol {RTOL_MATCHED:g} uses another "
        "tolerance: ketasim at a 10x tighter tolerance, the cost of more accuracy.", "",
        "| scenario | method | subjects timed | s per 1000 subjects | ratio vs ketasim "
        "| max rel. error |",
        "|---|---|---:|---:|---:|---:|"]
    for label, name, n, per_1000, ratio, e in rows:
        lines.append(f"| {label} | {name} | {n} | {per_1000:.3g} | {ratio:.3g} | "
                     f"{'reference' if e is None else f'{e:.1e}'} |")
    return lines + [""] + [f"- {note}" for note in notes] + [""]
