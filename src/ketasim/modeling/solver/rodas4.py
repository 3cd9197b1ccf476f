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


def plan(pattern: np.ndarray) -> tuple[np.ndarray, ...]:
    """The elimination plan of an LU factorisation without pivoting of matrices whose nonzeros
    lie in ``pattern`` (n x n, bool): the pattern closed under fill-in, as CSR index lists of
    its strictly lower part by columns and by rows and of its strictly upper part by rows.

    Without pivoting, as in the Rosenbrock solvers of atmospheric chemistry (Sandu A et al. 1997,
    Atmos Environ 31:3459, KPP): the matrix I/(h*GAMMA) - J has a dominant diagonal for small
    steps, and a near-zero pivot gives a large error estimate, so a smaller step.
    """
    n = pattern.shape[0]
    fill = np.asarray(pattern, bool) | np.eye(n, dtype=bool)
    for k in range(n):
        rows = np.flatnonzero(fill[k + 1:, k]) + k + 1
        cols = np.flatnonzero(fill[k, k + 1:]) + k + 1
        fill[np.ix_(rows, cols)] = True

    def csr(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
        return ptr, np.ascontiguousarray(np.nonzero(mask)[1], dtype=np.int64)

    lower = np.tril(fill, -1)
    return (*csr(lower.T), *csr(lower), *csr(np.triu(fill, 1)))


@njit(cache=True)
def factor(a, shift, plan):
    """a <- the LU factors (unit lower L below the diagonal, U on and above) of shift * I - a,
    in place, touching only the entries of ``plan``; entries of a outside the model's pattern
    (fill-in) must be zero on entry."""
    lc_ptr, lc_idx, lr_ptr, lr_idx, ur_ptr, ur_idx = plan
    n = a.shape[0]
    for i in range(n):
        a[i, i] = shift - a[i, i]
        for q in range(lr_ptr[i], lr_ptr[i + 1]):
            a[i, lr_idx[q]] = -a[i, lr_idx[q]]
        for q in range(ur_ptr[i], ur_ptr[i + 1]):
            a[i, ur_idx[q]] = -a[i, ur_idx[q]]
    for k in range(n):
        for q in range(lc_ptr[k], lc_ptr[k + 1]):
            i = lc_idx[q]
            a[i, k] /= a[k, k]
            for r in range(ur_ptr[k], ur_ptr[k + 1]):
                a[i, ur_idx[r]] -= a[i, k] * a[k, ur_idx[r]]


@njit(cache=True)
def solve(a, plan, b):
    """Solve (LU) x = b in place in b, with a from :func:`factor` and the same plan."""
    _, _, lr_ptr, lr_idx, ur_ptr, ur_idx = plan
    n = a.shape[0]
    for i in range(n):
        for q in range(lr_ptr[i], lr_ptr[i + 1]):
            b[i] -= a[i, lr_idx[q]] * b[lr_idx[q]]
    for i in range(n - 1, -1, -1):
        for q in range(ur_ptr[i], ur_ptr[i + 1]):
            b[i] -= a[i, ur_idx[q]] * b[ur_idx[q]]
        b[i] /= a[i, i]


@njit(cache=True)
def step(rhs, jac, dfdt, t, h, y, p, rate, f0, u, ynew, err, jac_lu, lu_plan):
    """One step from (t, y), given f0 = f(t, y): writes ynew and the error estimate to err.
    Work space: u (8 x n: stages U1..U6, df/dt, a stage's f) and jac_lu (n x n, the sparse LU
    of I/(h*GAMMA) - J by ``lu_plan``, :func:`plan` of the Jacobian's pattern)."""
    dfdt_, f = u[6], u[7]
    jac(t, y, p, rate, jac_lu)
    dfdt(t, y, p, rate, dfdt_)
    factor(jac_lu, 1.0 / (h * GAMMA), lu_plan)
    n = y.shape[0]
    f[:] = f0
    for i in range(6):  # explicit loops: array expressions would allocate on every stage
        if i > 0:  # stage argument; the 6th stage starts from the 5th stage's solution
            a = min(i, 4)
            for q in range(n):
                acc = y[q] + (u[4, q] if i == 5 else 0.0)
                for j in range(min(i, 4)):
                    acc += RA[a, j] * u[j, q]
                ynew[q] = acc
            rhs(t + RC_T[i] * h, ynew, p, rate, f)
        for q in range(n):
            acc = f[q] + RD[i] * h * dfdt_[q]
            for j in range(i):
                acc += RC[i, j] / h * u[j, q]
            u[i, q] = acc
        solve(jac_lu, lu_plan, u[i])
    for q in range(n):
        acc = y[q] + u[4, q] + u[5, q]
        for j in range(4):
            acc += RA[4, j] * u[j, q]
        ynew[q] = acc
        err[q] = u[5, q]


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
