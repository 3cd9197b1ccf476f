"""The whole chain (``racemic_sr+mechanism``) over a six-infusion course, against peers.

Workload (issue 10): TRD cohort, 0.5 mg/kg racemic ketamine over 40 min on days 0, 2, 4, 7,
9 and 11, follow-up to day 95, rtol 1e-6 and atol 1e-9 for every method; two output grids:
hourly, and the visits a trial measures. The peers solve the same subjects (ketasim's drawn
parameters and dose events, every state's initial value) with the same tolerances:

- libRoadRunner (CVODE) on the model's SBML (:func:`ketasim.modeling.sbml.to_sbml`), loaded
  once; each dose event's value is a parameter set per subject;
- SciPy ``solve_ivp`` LSODA, one subject at a time, piecewise between dose events, with the
  model's compiled right-hand side and Jacobian.

Every output is compared with a reference (ketasim at rtol 1e-10, atol 1e-13) at the output
times that are not dose times (at a dose time SBML's event semantics give the pre- or post-dose
value), as the largest difference relative to the output's peak in that subject. Asserted:
ketasim's error is below :data:`AGREEMENT`, and ketasim and each peer differ by no more than
the peer's own error plus :data:`AGREEMENT` (the same tolerances give each solver its own
accuracy: libRoadRunner's CVODE drifts by up to ~2e-4 of the peak over 95 days at rtol 1e-6).
"""

from __future__ import annotations

import itertools

import common
import numba
import numpy as np
import roadrunner
from common import best_of
from scipy.integrate import solve_ivp

from ketasim.clinical.visits import rate_arm
from ketasim.dosing import Dose, Regimen
from ketasim.modeling import kernel
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.simulation.engine import dose_events, simulate

MODEL = get_model("racemic_sr+mechanism")
RTOL, ATOL, SEED = 1e-6, 1e-9, 1
COURSE_DAYS = (0, 2, 4, 7, 9, 11)
REGIMEN = Regimen.repeated(Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=40 / 60),
                           [24.0 * d for d in COURSE_DAYS])
HOURLY = np.arange(95 * 24 + 1, dtype=float)
#: The visits of a trial of this course (days): baseline, 24 h, each week, follow-up.
VISITS = 24.0 * np.array([0, 1, 7, 12, 14, 21, 28, 42, 56, 70, 95], dtype=float)
GRIDS = {"visits": VISITS, "hourly": HOURLY}
#: Largest accepted difference between ketasim and a peer, relative to the output's peak.
AGREEMENT = 1e-4
#: One calibration evaluation: 10 arms of 300 patients, rated at the visits (MADRS).
CALIBRATION_ARMS, CALIBRATION_N = 10, 300


def run_ketasim(n: int, times: np.ndarray, threads: int):
    """simulate() of n patients, with ``threads`` Numba threads (population, solve, Dataset)."""
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        return simulate(MODEL, REGIMEN, Population(n, cohort="trd", seed=SEED), times,
                        rtol=RTOL, atol=ATOL)
    finally:
        numba.set_num_threads(before)


def calibration_evaluation() -> None:
    """What one evaluation of a calibration costs: 10 arms x 300 patients rated at visits."""
    for arm in range(CALIBRATION_ARMS):
        rate_arm(MODEL, REGIMEN, Population(CALIBRATION_N, cohort="trd", seed=arm), VISITS,
                 ("madrs",))


class Problem:
    """The ``n`` subjects of the workload (as ketasim draws them) as plain arrays, for the
    peers."""

    def __init__(self, n: int) -> None:
        k = kernel.load(MODEL)
        subjects = Population(n, cohort="trd", seed=SEED).sample(MODEL)
        self.params = np.ascontiguousarray(subjects.params)
        ev_t, ev_state, ev_kind, ev_val, n_ev = dose_events(MODEL, [REGIMEN], subjects, 0, n,
                                                           k)
        if not (np.all(n_ev == n_ev[0]) and np.all(ev_t == ev_t[0])
                and np.all(ev_state == ev_state[0])):
            raise AssertionError("the peers assume the same event times and states for all")
        self.events = (ev_t, ev_state, ev_kind, ev_val, n_ev)
        self.ev_t, self.ev_state, self.ev_kind = ev_t[0], ev_state[0], ev_kind[0]
        self.ev_val = ev_val
        self.y0 = np.array([s.initial for s in MODEL.states])
        self.kernel = k


def load_roadrunner(problem: Problem) -> roadrunner.RoadRunner:
    """The SBML of the model with one event per dose event, its value a parameter."""
    events = [(float(t), MODEL.state_names[s], "bolus" if kind == 0 else "rate")
              for t, s, kind in zip(problem.ev_t, problem.ev_state, problem.ev_kind,
                                    strict=True)]
    return common.load_roadrunner(MODEL, events, RTOL, ATOL)


def run_roadrunner(rr, problem: Problem, count: int, times: np.ndarray) -> np.ndarray:
    """Outputs (subject, time, output) for the first ``count`` subjects."""
    names = (*MODEL.parameter_names, *MODEL.covariate_names)
    out = np.empty((count, times.size, len(MODEL.outputs)))
    for i in range(count):
        for name, value in zip(names, problem.params[i], strict=True):
            rr[name] = value
        for j, value in enumerate(problem.ev_val[i]):
            rr[f"dose_value_{j}"] = value
        rr.reset()
        out[i] = rr.simulate(times=times, selections=list(MODEL.output_names))
    return out


def run_lsoda(problem: Problem, count: int, times: np.ndarray) -> np.ndarray:
    """Outputs (subject, time, output) for the first ``count`` subjects, piecewise between
    dose events, with the model's compiled right-hand side and Jacobian."""
    k, n_s = problem.kernel, len(MODEL.states)
    out = np.empty((count, times.size, len(MODEL.outputs)))
    o = np.empty(len(MODEL.outputs))
    bounds = np.unique(np.concatenate([[0.0], problem.ev_t, [times[-1]]]))
    for i in range(count):
        p, y, rate = problem.params[i], problem.y0.copy(), np.zeros(n_s)

        def f(t, y, p=p, rate=rate):
            dydt = np.empty(n_s)
            k.rhs(t, y, p, rate, dydt)
            return dydt

        def jac(t, y, p=p, rate=rate):
            j = np.zeros((n_s, n_s))
            k.jac(t, y, p, rate, j)
            return j

        for t0, t1 in itertools.pairwise(bounds):
            for e in np.flatnonzero(problem.ev_t == t0):
                if problem.ev_kind[e] == 0:
                    y[problem.ev_state[e]] += problem.ev_val[i, e]
                else:
                    rate[problem.ev_state[e]] += problem.ev_val[i, e]
            at = np.flatnonzero((times >= t0) & (times <= t1) if t0 == 0.0
                                else (times > t0) & (times <= t1))
            t_eval = np.union1d(times[at], [t1])
            sol = solve_ivp(f, (t0, t1), y, method="LSODA", t_eval=t_eval, rtol=RTOL,
                            atol=ATOL, jac=jac)
            if not sol.success:
                raise AssertionError(f"LSODA failed for subject {i}: {sol.message}")
            for j in at:
                col = int(np.searchsorted(t_eval, times[j]))
                k.outputs(times[j], np.ascontiguousarray(sol.y[:, col]), p, o)
                out[i, j] = o
            y = sol.y[:, -1].copy()
    return out


def max_difference(a: np.ndarray, b: np.ndarray, times: np.ndarray,
                   problem: Problem) -> float:
    """Largest |a - b| over the subjects both hold, relative to each output's peak in b per
    subject, away from dose times."""
    away, m = ~np.isin(times, problem.ev_t), min(len(a), len(b))
    a, b = a[:m, away], b[:m, away]
    peak = np.abs(b).max(axis=1, keepdims=True)
    return float(np.max(np.abs(a - b) / np.maximum(peak, 1e-12)))


def outputs_of(result) -> np.ndarray:
    """(subject, time, output) array of a simulate() Dataset."""
    return np.stack([result[o].to_numpy() for o in MODEL.output_names], axis=-1)


def reference(problem: Problem, count: int, times: np.ndarray) -> np.ndarray:
    """Outputs (subject, time, output) of the first ``count`` subjects at a 10^4 times tighter
    tolerance: the accuracy reference."""
    y = np.empty((count, times.size, len(MODEL.states)))
    out = np.empty((count, times.size, len(MODEL.outputs)))
    status = np.zeros(count, np.int64)
    events = tuple(np.ascontiguousarray(e[:count]) for e in problem.events)
    problem.kernel.solve_batch(np.tile(problem.y0, (count, 1)), problem.params[:count], *events,
                               times, 1e-10, 1e-13, 10**7, y, out, status)
    if status.any():
        raise AssertionError("the reference run failed")
    return out


def measure(n: int, peers: dict[str, int], repeat: int) -> dict:
    """Times (s per 1000 subjects), ratios and agreements for both grids; ``peers`` gives the
    number of subjects each peer is timed on (scaled linearly to 1000)."""
    threads = numba.config.NUMBA_NUM_THREADS
    problem = Problem(n)
    t_load, rr = best_of(1, load_roadrunner, problem)
    result: dict = {"n": n, "threads": threads, "roadrunner_load_s": round(t_load, 3)}
    for grid, times in GRIDS.items():
        t_all, res = best_of(repeat, run_ketasim, n, times, threads)
        t_one, _ = best_of(repeat, run_ketasim, n, times, 1)
        ks = outputs_of(res)
        t_rr, rr_out = best_of(1, run_roadrunner, rr, problem, peers["roadrunner"], times)
        t_ls, ls_out = best_of(1, run_lsoda, problem, peers["lsoda"], times)
        per_1000 = {"ketasim": t_all * 1000 / n, "ketasim_1_thread": t_one * 1000 / n,
                    "roadrunner": t_rr * 1000 / peers["roadrunner"],
                    "lsoda": t_ls * 1000 / peers["lsoda"]}
        exact = reference(problem, max(peers.values()), times)
        error = {"ketasim": max_difference(ks, exact, times, problem),
                 "roadrunner": max_difference(rr_out, exact, times, problem),
                 "lsoda": max_difference(ls_out, exact, times, problem)}
        if not error["ketasim"] < AGREEMENT:
            raise AssertionError(f"{grid}: ketasim's error is {error['ketasim']:.1e} of the "
                                 f"peak (limit {AGREEMENT:g})")
        for peer, out in (("roadrunner", rr_out), ("lsoda", ls_out)):
            diff = max_difference(ks, out, times, problem)
            if not diff <= error[peer] + AGREEMENT:
                raise AssertionError(f"{grid}: ketasim and {peer} differ by {diff:.1e} of the "
                                     f"peak, more than {peer}'s error {error[peer]:.1e} + "
                                     f"{AGREEMENT:g}")
        result[grid] = {
            "s_per_1000": {k: round(v, 4) for k, v in per_1000.items()},
            "ratio_roadrunner_all_cores": round(per_1000["roadrunner"] / per_1000["ketasim"], 1),
            "ratio_lsoda_all_cores": round(per_1000["lsoda"] / per_1000["ketasim"], 1),
            "ratio_roadrunner_1_thread": round(per_1000["roadrunner"]
                                               / per_1000["ketasim_1_thread"], 1),
            "ratio_lsoda_1_thread": round(per_1000["lsoda"] / per_1000["ketasim_1_thread"], 1),
            "thread_speedup": round(t_one / t_all, 2),
            "max_rel_error": {k: float(f"{v:.2e}") for k, v in error.items()},
            "peer_subjects": peers}
    t_cal, _ = best_of(repeat, calibration_evaluation)
    result["calibration_evaluation_s"] = round(t_cal, 2)
    return result
