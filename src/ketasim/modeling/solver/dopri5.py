"""Dormand-Prince 5(4): one step, its error norm, the initial step, the dense output and the
stiffness test.

References: Dormand JR, Prince PJ. A family of embedded Runge-Kutta formulae. J Comput Appl Math
1980;6:19-26. Hairer E, Norsett SP, Wanner G. Solving Ordinary Differential Equations I, 2nd
ed., Springer 1993: II.4 (step-size control, initial step), II.6 (dense output, code DOPRI5) and
II.10 (stiffness detection of DOPRI5).
"""

import math

import numpy as np
from numba import njit

C2, C3, C4, C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
A21 = 1.0 / 5.0
A31, A32 = 3.0 / 40.0, 9.0 / 40.0
A41, A42, A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
A51, A52, A53, A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
A61, A62, A63, A64, A65 = (9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0,
                           -5103.0 / 18656.0)
B1, B3, B4, B5, B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
# error coefficients: 5th-order weights minus 4th-order weights
E1, E3, E4, E5, E6, E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0,
                          22.0 / 525.0, -1.0 / 40.0)
# dense output: the 4th-order continuous extension of code DOPRI5
D1, D3, D4 = -12715105075.0 / 11282082432.0, 87487479700.0 / 32700410799.0, \
    -10690763975.0 / 1880347072.0
D5, D6, D7 = 701980252875.0 / 199316789632.0, -1453857185.0 / 822651844.0, \
    69997945.0 / 29380423.0
#: Stiffness test (II.10): h * |lambda| above STIFF_BOUND on STIFF_STEPS accepted steps makes a
#: subject stiff; a run of CALM_STEPS steps below it restarts the count.
STIFF_BOUND, STIFF_STEPS, CALM_STEPS = 3.25, 15, 6


@njit(cache=True)
def error_norm(y, ynew, err, rtol, atol):
    """Root mean square of the error estimate, scaled by atol + rtol * |y|."""
    acc = 0.0
    for i in range(y.shape[0]):
        sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        acc += (err[i] / sc) ** 2
    return math.sqrt(acc / y.shape[0])


@njit(cache=True)
def initial_step(rhs, t, y, p, rate, f0, rtol, atol, span):
    """A first step whose explicit Euler error is about the tolerance (II.4), at most span."""
    n = y.shape[0]
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(y[i])
        d0 += (y[i] / sc) ** 2
        d1 += (f0[i] / sc) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, span)
    y1 = y + h0 * f0
    f1 = np.empty(n)
    rhs(t + h0, y1, p, rate, f1)
    d2 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(y[i])
        d2 += ((f1[i] - f0[i]) / sc) ** 2
    d2 = math.sqrt(d2 / n) / h0
    big = max(d1, d2)
    h1 = max(1e-6, h0 * 1e-3) if big <= 1e-15 else (0.01 / big) ** 0.2
    return min(100.0 * h0, h1, span)


@njit(cache=True)
def step(rhs, t, h, y, p, rate, k, ynew, err, y6):
    """One step from (t, y), given k[0] = f(t, y).

    Writes the 5th-order solution to ynew, f(t + h, ynew) to k[6] (first stage of the next
    step), the embedded error estimate to err and the last stage's argument to y6.
    """
    n = y.shape[0]
    for i in range(n):  # explicit loops: array expressions would allocate on every stage
        err[i] = y[i] + h * A21 * k[0, i]
    rhs(t + C2 * h, err, p, rate, k[1])
    for i in range(n):
        err[i] = y[i] + h * (A31 * k[0, i] + A32 * k[1, i])
    rhs(t + C3 * h, err, p, rate, k[2])
    for i in range(n):
        err[i] = y[i] + h * (A41 * k[0, i] + A42 * k[1, i] + A43 * k[2, i])
    rhs(t + C4 * h, err, p, rate, k[3])
    for i in range(n):
        err[i] = y[i] + h * (A51 * k[0, i] + A52 * k[1, i] + A53 * k[2, i] + A54 * k[3, i])
    rhs(t + C5 * h, err, p, rate, k[4])
    for i in range(n):
        y6[i] = y[i] + h * (A61 * k[0, i] + A62 * k[1, i] + A63 * k[2, i] + A64 * k[3, i]
                            + A65 * k[4, i])
    rhs(t + h, y6, p, rate, k[5])
    for i in range(n):
        ynew[i] = y[i] + h * (B1 * k[0, i] + B3 * k[2, i] + B4 * k[3, i] + B5 * k[4, i]
                              + B6 * k[5, i])
    rhs(t + h, ynew, p, rate, k[6])
    for i in range(n):
        err[i] = h * (E1 * k[0, i] + E3 * k[2, i] + E4 * k[3, i] + E5 * k[4, i]
                      + E6 * k[5, i] + E7 * k[6, i])


@njit(cache=True)
def interpolate(theta, h, y, ynew, k, out):
    """The solution at t + theta*h (0 < theta < 1) inside the step just taken from (t, y)."""
    s = 1.0 - theta
    for i in range(y.shape[0]):
        ydiff = ynew[i] - y[i]
        bspl = h * k[0, i] - ydiff
        r4 = ydiff - h * k[6, i] - bspl
        r5 = h * (D1 * k[0, i] + D3 * k[2, i] + D4 * k[3, i] + D5 * k[4, i] + D6 * k[5, i]
                  + D7 * k[6, i])
        out[i] = y[i] + theta * (ydiff + s * (bspl + theta * (r4 + s * r5)))


@njit(cache=True)
def looks_stiff(h, k, ynew, y6):
    """The stiffness test of the step just taken: h * |lambda| > STIFF_BOUND, with lambda
    estimated from the last two stages."""
    num = 0.0
    den = 0.0
    for i in range(ynew.shape[0]):
        num += (k[6, i] - k[5, i]) ** 2
        den += (ynew[i] - y6[i]) ** 2
    return h * h * num > STIFF_BOUND ** 2 * den
