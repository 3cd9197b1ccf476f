"""The event loop: every subject from t = 0 to its last output, stopping exactly at each dose
event, with Dormand-Prince until a subject turns stiff and RODAS4 from then on.

``rhs``, ``jac``, ``dfdt`` and ``outputs`` are the model's compiled functions
(:mod:`.signatures`); :func:`solve_batch` is compiled once for those function types.
"""

import math
import warnings

import numpy as np
from numba import njit, prange, types
from numba.core.errors import NumbaExperimentalFeatureWarning

from ketasim.modeling.solver import dopri5, rodas4
from ketasim.modeling.solver.signatures import DEPOSIT_TERMS_T, DFDT_T, JAC_T, OUTPUTS_T, RHS_T

# passing the model's functions in is what lets the solver compile once for every model
warnings.filterwarnings("ignore", "First-class function type", NumbaExperimentalFeatureWarning)

OK, MAX_STEPS_EXCEEDED, STEP_TOO_SMALL, NOT_FINITE = 0, 1, 2, 3


@njit(cache=True)
def _record(outputs, io, t, y, p, y_out, o_out, o):
    y_out[io, :] = y
    outputs(t, y, p, o)
    o_out[io, :] = o


@njit(cache=True)
def _integrate(rhs, jac, dfdt, outputs, lu_plan, t, t_end, y, p, rate, rtol, atol, h, max_steps,
               t_out, io, y_out, o_out, k, u, ynew, err, y6, jac_lu, counts, yi, o):
    """Advance y from t to t_end in place, recording outputs at t_out[io:] < t_end by
    interpolation; return (status, last step size, next io).

    counts = [stiff steps, calm steps in a row] carries the stiffness test across calls; a
    subject is solved with RODAS4 for good once the test has held STIFF_STEPS times. lu_plan:
    the sparse LU plan of the Jacobian (rodas4.plan); k ... o are work arrays (see new_work).
    """
    n_out = t_out.shape[0]
    rhs(t, y, p, rate, k[0])
    if h <= 0.0:
        h = dopri5.initial_step(rhs, t, y, p, rate, k[0], rtol, atol, t_end - t)
    steps = 0
    stiff = counts[0] >= dopri5.STIFF_STEPS
    while t < t_end:
        if steps >= max_steps:
            return MAX_STEPS_EXCEEDED, h, io
        last = t + h >= t_end
        if last:
            h = t_end - t
        if stiff:
            rodas4.step(rhs, jac, dfdt, t, h, y, p, rate, k[0], u, ynew, err, jac_lu, lu_plan)
            rhs(t + h, ynew, p, rate, k[6])
            exponent = -0.25
        else:
            dopri5.step(rhs, t, h, y, p, rate, k, ynew, err, y6)
            exponent = -0.2
        en = dopri5.error_norm(y, ynew, err, rtol, atol)
        steps += 1
        if not math.isfinite(en):
            if h < 1e-13 * max(1.0, abs(t)):
                return NOT_FINITE, h, io
            h *= 0.1
        elif en <= 1.0:
            t_new = t_end if last else t + h
            while io < n_out and t_out[io] < t_end and t_out[io] <= t_new:
                if t_out[io] == t_new:
                    _record(outputs, io, t_new, ynew, p, y_out, o_out, o)
                else:
                    theta = (t_out[io] - t) / h
                    if stiff:
                        rodas4.interpolate(theta, y, ynew, u, yi)
                    else:
                        dopri5.interpolate(theta, h, y, ynew, k, yi)
                    _record(outputs, io, t_out[io], yi, p, y_out, o_out, o)
                io += 1
            if not stiff:
                if dopri5.looks_stiff(h, k, ynew, y6):
                    counts[0] += 1
                    counts[1] = 0
                else:
                    counts[1] += 1
                    if counts[1] == dopri5.CALM_STEPS:
                        counts[0] = 0
                stiff = counts[0] >= dopri5.STIFF_STEPS
            t = t_new
            y[:] = ynew
            k[0] = k[6]
            h *= 5.0 if en == 0.0 else min(5.0, max(0.2, 0.9 * en ** exponent))
        else:
            h *= max(0.2, 0.9 * en ** exponent)
            if h < 1e-13 * max(1.0, abs(t)):
                return STEP_TOO_SMALL, h, io
    return OK, h, io


@njit(cache=True)
def new_work(n, n_outputs):
    """Work arrays of _integrate: k (7 x n, Dormand-Prince stages), u (8 x n, RODAS4), ynew,
    err, y6, jac_lu (n x n), counts (stiffness test), yi (interpolated state), o
    (outputs)."""
    return (np.empty((7, n)), np.empty((8, n)), np.empty(n), np.empty(n), np.empty(n),
            np.zeros((n, n)), np.zeros(2, np.int64), np.empty(n), np.empty(n_outputs))


@njit(cache=True)
def solve_subject(rhs, jac, dfdt, outputs, lu_plan, y0, p, ev_t, ev_state, ev_kind, ev_val,
                  n_ev, t_out, rtol, atol, max_steps, y_out, o_out):
    """Integrate one subject from t=0 to the last output time, stopping exactly at every dose
    event; outputs between events come from the steps' continuous extensions.

    Events at a time are applied before that time's output is recorded, so an output at the
    time of a bolus is the post-dose value. ev_kind 0: add ev_val to the state (bolus, mg);
    ev_kind 1: add ev_val to the state's input rate (infusion on: +mg/h, off: -mg/h).
    """
    y = y0.copy()
    rate = np.zeros(y.shape[0])
    work = new_work(y.shape[0], o_out.shape[1])
    o = work[-1]
    t = 0.0
    h = 0.0
    ie = 0
    io = 0
    n_out = t_out.shape[0]
    while io < n_out:
        t_next = t_out[n_out - 1]
        if ie < n_ev and ev_t[ie] < t_next:
            t_next = ev_t[ie]
        if t_next > t:
            status, h, io = _integrate(rhs, jac, dfdt, outputs, lu_plan, t, t_next, y, p, rate,
                                       rtol, atol, h, max_steps, t_out, io, y_out, o_out,
                                       *work)
            if status != OK:
                return status
            t = t_next
        while ie < n_ev and ev_t[ie] <= t:
            s = ev_state[ie]
            if ev_kind[ie] == 0:
                y[s] += ev_val[ie]
            else:
                r = rate[s] + ev_val[ie]
                rate[s] = 0.0 if abs(r) <= 1e-12 * abs(ev_val[ie]) else r
            ie += 1
            h = 0.0  # restart: a fresh initial step after a discontinuity
        while io < n_out and t_out[io] <= t:
            _record(outputs, io, t, y, p, y_out, o_out, o)
            io += 1
    return OK


_F8, _I8 = types.float64, types.int64
_M8, _MI8 = types.float64[:, ::1], types.int64[:, ::1]
PLAN_T = types.UniTuple(types.int64[::1], 6)


@njit(types.void(RHS_T, JAC_T, DFDT_T, OUTPUTS_T, PLAN_T, _M8, _M8, _M8, _MI8, _MI8, _M8,
                 types.int64[::1], types.float64[::1], _F8, _F8, _I8, types.float64[:, :, ::1],
                 types.float64[:, :, ::1], types.int64[::1]),
      parallel=True, cache=True)
def solve_batch(rhs, jac, dfdt, outputs, lu_plan, y0, p, ev_t, ev_state, ev_kind, ev_val, n_ev,
                t_out, rtol, atol, max_steps, y_out, o_out, status):
    """solve_subject for every row of p (subjects), in parallel over cores; status per subject
    (OK, MAX_STEPS_EXCEEDED, STEP_TOO_SMALL, NOT_FINITE)."""
    for i in prange(p.shape[0]):
        status[i] = solve_subject(rhs, jac, dfdt, outputs, lu_plan, y0[i], p[i], ev_t[i],
                                  ev_state[i], ev_kind[i], ev_val[i], n_ev[i], t_out, rtol,
                                  atol, max_steps, y_out[i], o_out[i])


@njit(types.void(DEPOSIT_TERMS_T, _M8, types.float64[::1], types.float64[:, :, ::1]),
      cache=True)
def deposit_terms_batch(deposit_terms, p, dose_mg, out):
    """deposit_terms for every subject: out[i, k] = (fraction, lag h, duration h) of deposit k."""
    for i in range(p.shape[0]):
        deposit_terms(p[i], dose_mg[i], out[i])
