"""Numba signatures of the functions a model's generated kernel gives the solver.

The solver is compiled once (and cached) for these function types; each model compiles only
its own functions, with exactly these signatures, and passes them in.
"""

from numba import types

_VEC = types.float64[::1]
_MAT = types.float64[:, ::1]

#: rhs(t, y, p, rate, dydt): dydt = f(t, y) + rate (state units per h).
RHS = types.void(types.float64, _VEC, _VEC, _VEC, _VEC)
#: jac(t, y, p, rate, J): J = df/dy.
JAC = types.void(types.float64, _VEC, _VEC, _VEC, _MAT)
#: dfdt(t, y, p, rate, out): out = df/dt.
DFDT = types.void(types.float64, _VEC, _VEC, _VEC, _VEC)
#: outputs(t, y, p, out): the model's algebraic outputs.
OUTPUTS = types.void(types.float64, _VEC, _VEC, _VEC)
#: deposit_terms(p, dose_mg, out): out[k] = (fraction, lag h, duration h) of deposit k.
DEPOSIT_TERMS = types.void(_VEC, types.float64, _MAT)

RHS_T, JAC_T, DFDT_T, OUTPUTS_T, DEPOSIT_TERMS_T = (
    types.FunctionType(s) for s in (RHS, JAC, DFDT, OUTPUTS, DEPOSIT_TERMS))
