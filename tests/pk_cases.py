"""Test models with known closed-form solutions, and those solutions.

Micro-constants are in 1/h, volumes in L, amounts in mg; concentrations in mg/L * 1000 = ng/mL.
"""

import numpy as np
from scipy.linalg import expm

from ketasim.modeling.spec import Deposit, Input, Parameter
from ketasim.models.pk.compartmental import mammillary

SRC = "test value"
IV = Input(("racemic",), ("iv_bolus", "iv_infusion"), (Deposit("central"),))
ORAL = Input(("racemic",), ("oral",), (Deposit("depot", fraction="F_oral", lag_h="lag"),))

RATES = {"k10": 0.35, "k12": 0.9, "k21": 0.4, "k13": 0.15, "k31": 0.02}
V1 = 12.0
KA, F_ORAL = 1.3, 0.6


def model(compartments: int, depot: bool = False, lag: float = 0.0):
    names = ["k10", "k12", "k21", "k13", "k31"][: 1 + 2 * (compartments - 1)]
    params = [Parameter("V1", V1, "L", SRC)] + [Parameter(k, RATES[k], "1/h", SRC) for k in names]
    inputs = (IV,)
    if depot:
        params += [Parameter("ka", KA, "1/h", SRC), Parameter("F_oral", F_ORAL, "1", SRC),
                   Parameter("lag", lag, "h", SRC)]
        inputs = (IV, ORAL)
    return mammillary(f"test{compartments}{'d' if depot else ''}", "test", SRC, tuple(params),
                      compartments=compartments, inputs=inputs, depot=depot, covariates=())


def system_matrix(compartments: int, depot: bool = False) -> np.ndarray:
    """d(amounts)/dt = A @ amounts; order [depot], central, peripheral1, peripheral2."""
    k = RATES
    n = compartments
    a = np.zeros((n, n))
    a[0, 0] = -k["k10"]
    for i, (kout, kin) in enumerate([("k12", "k21"), ("k13", "k31")][: n - 1], start=1):
        a[0, 0] -= k[kout]
        a[0, i] = k[kin]
        a[i, 0] = k[kout]
        a[i, i] = -k[kin]
    if depot:
        full = np.zeros((n + 1, n + 1))
        full[1:, 1:] = a
        full[0, 0] = -KA
        full[1, 0] = KA
        return full
    return a


def exact_amounts(a: np.ndarray, events, times) -> np.ndarray:
    """Exact solution of x' = A x + u(t) for boluses and piecewise-constant rates.

    ``events`` are (time h, state index, kind "bolus"|"rate", value). Uses the augmented matrix
    exponential [[A, r], [0, 0]] for constant inputs (Van Loan 1978), exact to rounding.
    """
    n = a.shape[0]
    out = np.zeros((len(times), n))
    for (t_e, s, kind, val) in events:
        for j, t in enumerate(times):
            if t < t_e:
                continue
            if kind == "bolus":
                x0 = np.zeros(n)
                x0[s] = val
                out[j] += expm(a * (t - t_e)) @ x0
            else:  # a constant rate val starting at t_e (negative val switches it off)
                aug = np.zeros((n + 1, n + 1))
                aug[:n, :n] = a
                aug[s, n] = val
                out[j] += (expm(aug * (t - t_e)) @ np.r_[np.zeros(n), 1.0])[:n]
    return out
