"""The batch engine: every subject of a population, integrated at once in compiled code.

:func:`simulate` turns a regimen into per-subject dose events (amounts in mg, scaled by weight
and bioavailability, shifted by lag), then runs the model's Numba kernel over all subjects in
parallel. The Dormand-Prince 5(4) integrator stops exactly at every dose event and output time:
a bolus is an instant jump in a state and an infusion switches an input rate on and off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

import numpy as np
import xarray as xr

from ketasim.dosing import Regimen
from ketasim.errors import KetasimError
from ketasim.modeling import kernel
from ketasim.modeling.spec import Model
from ketasim.population.sampling import Population, Subjects

#: Memory for one chunk of recorded values, bytes; chunks hold at most MAX_CHUNK subjects.
#: Results do not depend on the chunking (subjects are independent).
CHUNK_BYTES, MAX_CHUNK = 256 * 2**20, 20_000
#: Largest result that :func:`simulate` holds in memory, bytes; larger runs use iter_simulate.
MEMORY_BYTES = 8 * 2**30

_STATUS = {1: "too many steps (the system may be stiff; try a looser rtol)",
           2: "step size too small", 3: "a non-finite value appeared"}


def simulate(model: Model, regimen: Regimen | Sequence[Regimen], population: Population,
             times: Sequence[float] | np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-9,
             max_steps: int = 1_000_000,
             progress: Callable[[int], None] | None = None) -> xr.Dataset:
    """Simulate ``population`` under ``regimen`` and record every state and output.

    Parameters
    ----------
    model : the model declaration.
    regimen : one regimen for everyone, or one per subject (e.g. from an event table).
    population : who is simulated (``n``, cohort, seed, fixed covariates).
    times : output times in h, >= 0, increasing. Outputs at the time of a dose show the
        post-dose value.
    rtol, atol : relative and absolute (state units, mg) local error tolerances.
    progress : called with the number of subjects finished after each chunk.

    Returns
    -------
    xarray.Dataset with dimensions ``subject`` x ``time`` (coordinate ``time`` in h), one
    variable per state and output, each subject's parameters (model units) and covariates,
    and attributes ``model``, ``seed`` and ``cohort``.
    """
    _check_types(model, population)
    size = population.n * np.size(times) * (len(model.states) + len(model.outputs)) * 8
    if size > MEMORY_BYTES:
        raise KetasimError(f"population.n: {population.n:,} subjects x {np.size(times):,} times "
                           f"need {size / 2**30:.0f} GiB; use iter_simulate (chunks) or fewer "
                           "subjects or output times")
    # one chunk: the result is held whole anyway, and joining chunks would copy it
    (data,) = iter_simulate(model, regimen, population, times, rtol=rtol, atol=atol,
                            max_steps=max_steps, progress=progress, chunk=population.n)
    return data


def iter_simulate(model: Model, regimen: Regimen | Sequence[Regimen], population: Population,
                  times: Sequence[float] | np.ndarray, *, rtol: float = 1e-6,
                  atol: float = 1e-9, max_steps: int = 1_000_000,
                  progress: Callable[[int], None] | None = None,
                  chunk: int | None = None) -> Iterator[xr.Dataset]:
    """:func:`simulate` in chunks of ``chunk`` subjects (default: as many as fit in
    :data:`CHUNK_BYTES`, at most :data:`MAX_CHUNK`), for populations too large to hold at once.

    Yields one Dataset per chunk, in subject order, identical to the matching slice of
    :func:`simulate`. ``subject`` holds global ids: 0..n-1, or with a screening each kept
    patient's candidate index (increasing, with gaps), which the clinic layer draws from.
    """
    _check_types(model, population)
    t_out = _check_times(times)
    if not (0 < rtol < 1 and 0 < atol < math.inf):
        raise KetasimError(f"tolerances: need 0 < rtol < 1 and a finite atol > 0, got {rtol}, "
                           f"{atol}")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise KetasimError(f"max_steps: need a whole number >= 1, got {max_steps!r}")
    regimens = _per_subject(regimen, population.n)
    subjects = population.sample(model)
    k = kernel.load(model)
    n, n_s, n_o = population.n, len(model.states), len(model.outputs)
    if chunk is None:
        chunk = int(np.clip(CHUNK_BYTES // (t_out.size * (n_s + n_o) * 8), 1, MAX_CHUNK))
    y0 = np.array([s.initial for s in model.states], dtype=float)
    for lo in range(0, n, chunk):
        hi = min(lo + chunk, n)
        y_out = np.empty((hi - lo, t_out.size, n_s))
        o_out = np.empty((hi - lo, t_out.size, n_o))
        status = np.zeros(hi - lo, dtype=np.int64)
        events = dose_events(model, regimens[lo:hi] if len(regimens) > 1 else regimens,
                             subjects, lo, hi, k)
        try:
            k.solve_batch(np.tile(y0, (hi - lo, 1)),
                          np.ascontiguousarray(subjects.params[lo:hi]), *events, t_out, rtol,
                          atol, max_steps, y_out, o_out, status)
        except (SystemError, ArithmeticError) as exc:  # raised inside the compiled kernel
            cause = exc.__cause__ or exc.__context__ or exc
            raise KetasimError(f"model {model.name}: a math error in its equations "
                               f"({type(cause).__name__}: {cause}); a parameter of 0 that is "
                               "divided by, or an expression that overflows?") from None
        if status.any():
            i = int(np.flatnonzero(status)[0])
            raise KetasimError(f"integration failed for subject {subjects.ids[lo + i]}: "
                               f"{_STATUS[int(status[i])]}")
        _check_outputs(model, subjects.ids[lo:hi], t_out, o_out)
        yield _dataset(model, population, subjects, lo, hi, t_out, y_out, o_out)
        if progress:
            progress(hi)


class Accumulator(Protocol):
    """Anything that summarises simulated chunks of subjects as they come."""

    def add(self, chunk: xr.Dataset) -> None: ...


def accumulate(model: Model, regimen: Regimen | Sequence[Regimen], population: Population,
               times: Sequence[float] | np.ndarray, accumulators: Sequence[Accumulator], *,
               progress: Callable[[int], None] | None = None) -> None:
    """Simulate chunk by chunk (:func:`iter_simulate`), giving each chunk to every accumulator
    in order; memory stays that of one chunk."""
    for chunk in iter_simulate(model, regimen, population, times, progress=progress):
        for accumulator in accumulators:
            accumulator.add(chunk)


def dose_events(model: Model, regimens: Sequence[Regimen], subjects: Subjects, lo: int, hi: int,
                k) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Padded per-subject event arrays (time h, state, kind, value, count) for the kernel.

    Each dose goes to the deposits of its route: a share (bioavailability) of the amount,
    after a lag, as a bolus or, over a duration (the infusion's own, or a zero-order input
    of the model), as a rate; a per-dose deposit adds its fraction at once. kind 0 is a bolus
    (value mg added to the state); kind 1 changes the state's input rate (value mg/h: +rate at
    the start, -rate at the end).
    """
    n = hi - lo
    params = subjects.params[lo:hi]
    weight = subjects.covariates["weight_kg"].to_numpy()[lo:hi]
    width = max(sum(2 * len(model.deposits_for(d.substance, d.route)) for d in r.doses)
                for r in regimens)
    ev = [np.zeros((n, width)), np.zeros((n, width), np.int64), np.zeros((n, width), np.int64),
          np.zeros((n, width))]
    rows = np.arange(n)
    count = np.zeros(n, np.int64)
    for r_index, regimen in enumerate(regimens):
        sel = rows if len(regimens) == 1 else rows[r_index:r_index + 1]
        for d in regimen.doses:
            amount = np.asarray(d.amount_mg(weight[sel]), dtype=float).reshape(-1)
            terms = np.empty((sel.size, len(model.deposits), 3))
            # a dose without an amount (placebo) has per-dose deposits only; its terms are
            # evaluated at 1 mg so that expressions dividing by the dose stay finite
            k.deposit_terms_batch(params[sel], np.where(amount > 0, amount, 1.0), terms)
            for j in model.deposits_for(d.substance, d.route):
                fraction, lag, duration = (terms[:, j, c] for c in range(3))
                if not (np.all((fraction >= 0) & (fraction <= 1)) and np.all(lag >= 0)
                        and np.all(duration >= 0)):
                    raise KetasimError(f"model {model.name}: deposit {j} of {d.route} gives a "
                                       "fraction outside [0, 1] or a negative lag or duration")
                deposit = model.deposits[j]
                state = model.state_names.index(deposit.state)
                start = d.time_h + lag
                given = fraction if deposit.per_dose else amount * fraction
                if deposit.per_dose:
                    duration = np.zeros(sel.size)
                elif d.duration_h:
                    duration = np.full(sel.size, d.duration_h)
                rate = duration > 0
                _put(ev, count, sel[~rate], start[~rate], state, 0, given[~rate])
                flow = given[rate] / duration[rate]
                _put(ev, count, sel[rate], start[rate], state, 1, flow)
                _put(ev, count, sel[rate], start[rate] + duration[rate], state, 1, -flow)
    order = np.argsort(np.where(np.arange(width) < count[:, None], ev[0], np.inf), axis=1,
                       kind="stable")
    ev_t, ev_state, ev_kind, ev_val = (np.take_along_axis(a, order, axis=1) for a in ev)
    return ev_t, ev_state, ev_kind, ev_val, count


def _put(ev, count, sel, time, state, kind, value) -> None:
    col = count[sel]
    ev[0][sel, col] = time
    ev[1][sel, col] = state
    ev[2][sel, col] = kind
    ev[3][sel, col] = value
    count[sel] += 1


def _check_times(times) -> np.ndarray:
    t = np.ascontiguousarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise KetasimError("times: need a non-empty 1-D sequence of output times in h")
    if not np.isfinite(t).all() or (t < 0).any():
        raise KetasimError("times: every output time must be finite and >= 0 h")
    if (np.diff(t) <= 0).any():
        raise KetasimError("times: output times must be strictly increasing")
    return t


def _check_types(model, population) -> None:
    """One-line errors for a wrong type where the API wants a Model or a Population."""
    if not isinstance(model, Model):
        raise KetasimError(f"model: expected a Model (ketasim.get_model), got "
                           f"{type(model).__name__}")
    if not isinstance(population, Population):
        raise KetasimError(f"population: expected a Population, got {type(population).__name__}")


def _per_subject(regimen, n: int) -> list[Regimen]:
    if isinstance(regimen, Regimen):
        return [regimen]
    if isinstance(regimen, (str, bytes)) or not isinstance(regimen, Iterable):
        raise KetasimError(f"regimen: expected a Regimen or one per subject, got "
                           f"{type(regimen).__name__}")
    regimens = list(regimen)
    if len(regimens) != n or not all(isinstance(r, Regimen) for r in regimens):
        raise KetasimError(f"regimen: need one Regimen or one per subject ({n}), "
                           f"got {len(regimens)}")
    return regimens


#: Units of outputs that cannot be negative (amounts, concentrations, exposures).
_NONNEGATIVE = frozenset({"ng/mL", "ug/mL", "mg/L", "ng*h/mL", "mg*h/L", "nM", "uM", "mM",
                          "mg", "ug", "ng"})
#: A negative value within this share of the output's largest magnitude in the chunk (or 1e-9)
#: is the solver's tolerance, not an error: assumption: 1e-6, a hundred times rtol.
NEGATIVE_TOLERANCE = 1e-6


def _check_outputs(model, ids, t_out, o_out) -> None:
    """One-line error naming the first output that is not finite, or negative beyond
    :data:`NEGATIVE_TOLERANCE` where its unit forbids it (a silent wrong answer otherwise)."""
    for k, name in enumerate(model.output_names):
        values = o_out[:, :, k]
        bad = ~np.isfinite(values)
        what = "is not a finite number"
        if not bad.any() and model.output_units.get(name) in _NONNEGATIVE:
            bad = values < -max(NEGATIVE_TOLERANCE * float(np.abs(values).max()), 1e-9)
            what = f"is negative, impossible in {model.output_units[name]}"
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise KetasimError(f"outputs.{name}: {what} ({values[i, j]:g}) for subject "
                               f"{ids[i]} at {t_out[j]:g} h; check the model's parameters "
                               "and expressions")


def _dataset(model, population, subjects, lo, hi, t_out, y_out, o_out) -> xr.Dataset:
    dims = ("subject", "time")
    data = {s.name: (dims, y_out[:, :, i], {"unit": s.unit}) for i, s in enumerate(model.states)}
    data |= {o: (dims, o_out[:, :, i]) for i, o in enumerate(model.output_names)}
    data |= {p.name: ("subject", subjects.params[lo:hi, i], {"unit": p.model_value[1]})
             for i, p in enumerate(model.parameters)}
    data |= {c: ("subject", subjects.covariates[c].to_numpy()[lo:hi])
             for c in subjects.covariates}
    return xr.Dataset(data, coords={"subject": subjects.ids[lo:hi], "time": t_out},
                      attrs={"model": model.name, "seed": population.seed,
                             "cohort": population.cohort, "time_unit": "h"})
