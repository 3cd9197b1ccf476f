"""The batch ODE solver: Dormand-Prince 5(4), RODAS4 for stiff subjects, and the event loop.

Ordinary Python modules compiled once by Numba (and cached); a model's generated functions
(:mod:`.signatures`) are passed in as first-class functions, so a new model compiles only its
own right-hand side, Jacobian and outputs.
"""
