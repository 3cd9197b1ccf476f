"""RODAS4: an L-stable, stiffly accurate Rosenbrock method of order 4 (embedded 3), with the
model's exact Jacobian, and its 3rd-order dense output.

Reference: Hairer E, Wanner G. Solving Ordinary Differential Equations II, 2nd ed., Springer
1996, IV.7 (RODAS4: coefficients, dense output; code RODAS); coefficient values as tabulated in
SciML OrdinaryDiffEq.jl (Rodas4Tableau). Transformed form:
(I/(h*GAMMA) - J) U_i = f(t + c_i h, y + sum a_ij U_j) + sum c_ij U_j / h + d_i h df/dt;
y_new = y + sum a_5j U_j + U_5 + U_6; error U_6.
"""

import numpy as np
from numba import njit

GAMMA = 0.25
RA = np.array([[0.0, 0.0, 0.0, 0.0],
               [1.544, 0.0, 0.0, 0.0],
               [0.9466785280815826, 0.2557011698983284, 0.0, 0.0],
               [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0],
               [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950]])
RC = np.array([[0.0, 0.0, 0.0, 0.0, 0.0],
               [-5.6688, 0.0, 0.0, 0.0, 0.0],
               [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0],
               [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0],
               [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160,
                0.0],
               [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
                -6.058818238834054]])
RC_T = np.array([0.0, 0.386, 0.21, 0.63, 1.0, 1.0])
RD = np.array([0.25, -0.1043, 0.1035, -0.0362, 0.0, 0.0])
# dense output: y(t + s h) = (1 - s) y + s (y_new + (1 - s) (H1.U + s H2.U))
RH = np.array([[10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823,
                1.025137723295662],
               [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386,
                -6.594389125716872]])


@njit(cache=True)
def lu_factor(a, piv):
    """In-place LU factorisation with partial pivoting (row swaps recorded in piv)."""
    n = a.shape[0]
    for c in range(n):
        r = c
        for i in range(c + 1, n):
            if abs(a[i, c]) > abs(a[r, c]):
                r = i
        piv[c] = r
        if r != c:
            for j in range(n):
                a[c, j], a[r, j] = a[r, j], a[c, j]
        for i in range(c + 1, n):
            a[i, c] /= a[c, c]
            for j in range(c + 1, n):
                a[i, j] -= a[i, c] * a[c, j]


@njit(cache=True)
def lu_solve(a, piv, b):
    """Solve (LU) x = b in place in b, with a and piv from lu_factor."""
    n = a.shape[0]
    for c in range(n):
        if piv[c] != c:
            b[c], b[piv[c]] = b[piv[c]], b[c]
    for i in range(n):
        for j in range(i):
            b[i] -= a[i, j] * b[j]
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            b[i] -= a[i, j] * b[j]
        b[i] /= a[i, i]


@njit(cache=True)
def step(rhs, jac, dfdt, t, h, y, p, rate, f0, u, ynew, err, jac_lu, piv):
    """One step from (t, y), given f0 = f(t, y): writes ynew and the error estimate to err.
    Work space: u (8 x n: stages U1..U6, df/dt, a stage's f) and jac_lu/piv (n x n LU of
    I/(h*GAMMA) - J)."""
    n = y.shape[0]
    dfdt_, f = u[6], u[7]
    jac(t, y, p, rate, jac_lu)
    for i in range(n):
        for j in range(n):
            jac_lu[i, j] = -jac_lu[i, j]
        jac_lu[i, i] += 1.0 / (h * GAMMA)
    dfdt(t, y, p, rate, dfdt_)
    lu_factor(jac_lu, piv)
    f[:] = f0
    for i in range(6):
        if i > 0:  # stage argument; the 6th stage starts from the 5th stage's solution
            ynew[:] = y
            for j in range(min(i, 4)):
                ynew += RA[min(i, 4), j] * u[j]
            if i == 5:
                ynew += u[4]
            rhs(t + RC_T[i] * h, ynew, p, rate, f)
        u[i] = f + RD[i] * h * dfdt_
        for j in range(i):
            u[i] += RC[i, j] / h * u[j]
        lu_solve(jac_lu, piv, u[i])
    ynew[:] = y
    for j in range(4):
        ynew += RA[4, j] * u[j]
    ynew += u[4] + u[5]
    err[:] = u[5]


@njit(cache=True)
def interpolate(theta, y, ynew, u, out):
    """The solution at t + theta*h (0 < theta < 1) inside the step just taken from (t, y)."""
    s = 1.0 - theta
    for i in range(y.shape[0]):
        a = 0.0
        b = 0.0
        for j in range(5):
            a += RH[0, j] * u[j, i]
            b += RH[1, j] * u[j, i]
        out[i] = s * y[i] + theta * (ynew[i] + s * (a + theta * b))
