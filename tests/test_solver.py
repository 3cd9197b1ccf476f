"""The batch solver on a toy right-hand side (a linear system y' = A y + rate, A in p):
orders of convergence of both methods, events, the stiff switch and failure codes, against the
exact matrix-exponential solution."""

import numpy as np
import pytest
from numba import njit
from scipy.linalg import expm

from ketasim.modeling.solver import dopri5, integrate, rodas4, signatures


@njit(signatures.RHS)
def rhs(t, y, p, rate, dydt):
    n = y.shape[0]
    for i in range(n):
        dydt[i] = rate[i]
        for j in range(n):
            dydt[i] += p[i * n + j] * y[j]


@njit(signatures.JAC)
def jac(t, y, p, rate, out):
    n = y.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = p[i * n + j]


@njit(signatures.DFDT)
def dfdt(t, y, p, rate, out):
    out[:] = 0.0


@njit(signatures.OUTPUTS)
def total(t, y, p, out):
    out[0] = y.sum()


@njit(signatures.RHS)
def blows_up(t, y, p, rate, dydt):
    dydt[:] = np.inf if t > 1.0 else 0.0


A = np.array([[-1.25, 0.4], [0.9, -0.4]])  # a 2-compartment model's micro-constants (1/h)
STIFF = np.array([[-2000.0, 0.0], [2000.0, -0.05]])  # a fast absorption into a slow pool
DENSE = rodas4.plan(np.ones((2, 2), bool))  # the toy Jacobian is dense


def solve(a, y0, t_out, events=(), rtol=1e-9, atol=1e-12, max_steps=100_000, f=rhs):
    """One subject; events are (time h, state, kind 0 bolus | 1 rate, value)."""
    n = a.shape[0]
    ev = np.array(events, float).reshape(-1, 4)
    y_out = np.empty((1, t_out.size, n))
    o_out = np.empty((1, t_out.size, 1))
    status = np.zeros(1, np.int64)
    integrate.solve_batch(f, jac, dfdt, total, DENSE, np.array([y0], float),
                          a.reshape(1, -1).copy(),
                          ev[None, :, 0].copy(), ev[None, :, 1].astype(np.int64),
                          ev[None, :, 2].astype(np.int64), ev[None, :, 3].copy(),
                          np.array([len(ev)]), t_out, rtol, atol, max_steps, y_out, o_out,
                          status)
    return y_out[0], o_out[0, :, 0], int(status[0])


def observed_orders(step, counts):
    exact = expm(A * 8.0) @ np.array([100.0, 0.0])
    sizes, errors = [], []
    for n_steps in counts:
        h, y = 8.0 / n_steps, np.array([100.0, 0.0])
        for i in range(n_steps):
            y = step(i * h, h, y, A.ravel().copy())
        sizes.append(h)
        errors.append(np.max(np.abs(y - exact)) / 100.0)
    return np.diff(np.log(errors)) / np.diff(np.log(sizes))


def dp5(t, h, y, p):
    stages, ynew = np.empty((7, 2)), np.empty(2)
    rhs(t, y, p, np.zeros(2), stages[0])
    dopri5.step(rhs, t, h, y, p, np.zeros(2), stages, ynew, np.empty(2), np.empty(2))
    return ynew


def ros4(t, h, y, p):
    f0, ynew = np.empty(2), np.empty(2)
    rhs(t, y, p, np.zeros(2), f0)
    rodas4.step(rhs, jac, dfdt, t, h, y, p, np.zeros(2), f0, np.empty((8, 2)), ynew,
                np.empty(2), np.zeros((2, 2)), DENSE)
    return ynew


def test_dormand_prince_converges_at_order_five():
    orders = observed_orders(dp5, (16, 32, 64, 128))
    # pre-asymptotic orders fall towards 5 as h shrinks; the finest pair is within 0.3 of 5
    assert np.all(np.diff(orders) < 0) and 4.7 < orders[-1] < 5.3, orders


def test_rodas4_converges_at_order_four():
    orders = observed_orders(ros4, (8, 16, 32, 64))
    assert 3.7 < orders[-1] < 4.4, orders


def test_boluses_and_rates_match_the_exact_solution_between_and_at_events():
    t_out = np.linspace(0.0, 12.0, 49)
    events = [(0.0, 0, 0, 100.0), (2.0, 1, 1, 30.0), (5.0, 1, 1, -30.0), (6.0, 0, 0, 50.0)]
    y, out, status = solve(A, [0.0, 0.0], t_out, events)
    aug = np.zeros((3, 3))
    aug[:2, :2] = A
    expected = []
    for t in t_out:  # piecewise: integrate the augmented system event to event
        x, s = np.zeros(3), 0.0
        for te, state, kind, val in [*sorted(events), (t, 0, 0, 0.0)]:
            x = expm(aug * (min(te, t) - s)) @ x
            s = min(te, t)
            if te > t:
                break
            if kind == 0:
                x[state] += val
            else:
                aug[state, 2] += val
                x[2] = 1.0
        aug[:2, 2] = 0.0
        expected.append(x[:2])
    assert status == integrate.OK
    np.testing.assert_allclose(y, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(out, y.sum(axis=1), rtol=1e-15)
    assert y[t_out == 6.0, 0][0] > y[t_out == 5.75, 0][0] + 40  # post-dose value at 6 h


def test_stiff_subject_switches_to_rodas4_and_stays_accurate():
    t_out = np.linspace(0.0, 200.0, 401)
    y, _, status = solve(STIFF, [1.0, 0.0], t_out, rtol=1e-7, atol=1e-12, max_steps=2_000)
    exact = np.array([expm(STIFF * t) @ [1.0, 0.0] for t in t_out])
    assert status == integrate.OK  # 200 h at h ~ 1/2000 would need ~10^5 explicit steps
    np.testing.assert_allclose(y[:, 1], exact[:, 1], rtol=1e-5)


def test_failures_are_reported_as_status_codes():
    t_out = np.array([0.0, 10.0])
    assert solve(STIFF, [1.0, 0.0], t_out, max_steps=5)[2] == integrate.MAX_STEPS_EXCEEDED
    assert solve(A, [1.0, 0.0], t_out, f=blows_up)[2] == integrate.NOT_FINITE


@pytest.mark.parametrize("theta", [0.25, 0.5, 0.9])
def test_dense_outputs_agree_with_the_solution_inside_a_step(theta):
    """Both continuous extensions inside one step of 0.02 h (local errors O(h^5), O(h^4))."""
    y0, h, p, zero = np.array([100.0, 0.0]), 0.02, A.ravel().copy(), np.zeros(2)
    exact = expm(A * theta * h) @ y0
    k, ynew, out = np.empty((7, 2)), np.empty(2), np.empty(2)
    rhs(0.0, y0, p, zero, k[0])
    dopri5.step(rhs, 0.0, h, y0, p, zero, k, ynew, np.empty(2), np.empty(2))
    dopri5.interpolate(theta, h, y0, ynew, k, out)
    np.testing.assert_allclose(out, exact, rtol=1e-9)
    u = np.empty((8, 2))
    rodas4.step(rhs, jac, dfdt, 0.0, h, y0, p, zero, k[0], u, ynew, np.empty(2),
                np.zeros((2, 2)), DENSE)
    rodas4.interpolate(theta, y0, ynew, u, out)
    np.testing.assert_allclose(out, exact, rtol=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_sparse_lu_solves_like_a_dense_solver_with_fill_in(seed):
    """shift * I - J for a random sparse J (with an arrow row and column that fill in), solved
    by the plan of J's pattern, against numpy's dense LU with pivoting."""
    rng = np.random.default_rng(seed)
    n = 12
    j = np.where(rng.random((n, n)) < 0.2, rng.normal(size=(n, n)), 0.0)
    j[0, :], j[:, 0] = rng.normal(size=n), rng.normal(size=n)  # fill-in everywhere below
    lu, b = j.copy(), rng.normal(size=n)
    plan = rodas4.plan(j != 0)
    rodas4.factor(lu, 8.0, plan)
    x = b.copy()
    rodas4.solve(lu, plan, x)
    np.testing.assert_allclose(x, np.linalg.solve(8.0 * np.eye(n) - j, b), rtol=1e-10)
    assert plan[1].size > np.count_nonzero(np.tril(j, -1))  # the plan holds the fill-in
