"""Non-compartmental exposure metrics on a sampled concentration-time grid.

AUC uses the linear-up / log-down trapezoidal rule (linear where concentrations rise or touch
zero, logarithmic where they fall), the usual NCA convention (Gabrielsson & Weiner,
Pharmacokinetic and Pharmacodynamic Data Analysis, 5th ed., 2016, ch. 2).
"""

from __future__ import annotations

import numpy as np


def cmax_tmax(conc: np.ndarray, time_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak concentration and its (first) time along the last axis."""
    i = np.argmax(conc, axis=-1)
    return np.take_along_axis(conc, i[..., None], axis=-1)[..., 0], time_h[i]


def auc(conc: np.ndarray, time_h: np.ndarray) -> np.ndarray:
    """AUC from the first to the last time (concentration x h), linear-up / log-down."""
    c1, c2 = conc[..., :-1], conc[..., 1:]
    dt = np.diff(time_h)
    falling = (c2 < c1) & (c2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_part = (c1 - c2) / np.log(c1 / c2) * dt
    area = np.where(falling, log_part, (c1 + c2) / 2 * dt)
    return area.sum(axis=-1)


#: Suffix of plasma concentration outputs; the analyte is the output name before it.
PLASMA = "_plasma_ng_ml"


def exposures(data) -> dict[str, dict[str, np.ndarray]]:
    """Per-subject Cmax (ng/mL), Tmax (h) and AUC over the output window (ng*h/mL) of every
    plasma analyte in a simulated Dataset, keyed by analyte (e.g. ``ketamine``)."""
    time = data["time"].to_numpy()
    found = {}
    for name in data.data_vars:
        if name.endswith(PLASMA):
            conc = data[name].to_numpy()
            cmax, tmax = cmax_tmax(conc, time)
            found[name.removesuffix(PLASMA)] = {"cmax_ng_ml": cmax, "tmax_h": tmax,
                                                "auc_ng_h_ml": auc(conc, time)}
    return found
