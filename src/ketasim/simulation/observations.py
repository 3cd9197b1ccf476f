"""Simulated observations: model outputs with the model's published measurement error."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ketasim.errors import KetasimError
from ketasim.modeling.spec import Model


def observe(data: xr.Dataset, model: Model, seed: int = 0) -> xr.Dataset:
    """``data`` with ``<output>_obs`` for every output of ``model`` that has a residual error.

    Draws are per subject from ``numpy.random.default_rng([seed, subject])``, so they do not
    depend on chunking; a model without residual errors raises a one-line error.
    """
    if not model.errors:
        raise KetasimError(f"observations: model {model.name} has no published residual error")
    subjects = data["subject"].to_numpy()
    shape = (len(model.errors), data.sizes["time"])
    eps = np.stack([np.random.default_rng([seed, int(s)]).standard_normal(shape)
                    for s in subjects], axis=1)
    added = {}
    for e, noise in zip(model.errors, eps, strict=True):
        conc = data[e.output]
        factor = np.exp(e.sd * noise) if e.kind == "exponential" else 1 + e.sd * noise
        added[f"{e.output}_obs"] = conc * factor
    return data.assign(added)
