"""A result folder read back (``ketasim plot``): its summary, kept time courses
(``timecourse.parquet``) and rated visits (``ratings.parquet``), redrawn with the figures of
the run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ketasim.clinical.visits import Ratings
from ketasim.errors import KetasimError
from ketasim.models import get_model
from ketasim.report.simulation import draw
from ketasim.scenario.definition import Criteria


@dataclass(frozen=True)
class SavedArm:
    """One arm of a saved run (see :class:`ketasim.report.figures.Drawn`)."""

    label: str
    n: int
    data: xr.Dataset
    ratings: Ratings | None
    last_dose_h: float


def _read(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise KetasimError(f"{path}: cannot read the results ({exc})") from None


def load(folder: Path) -> tuple[dict, list[SavedArm]]:
    """The summary and arms of the run written to ``folder`` by ``ketasim simulate``."""
    path = folder / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        labels = [a["label"] for a in summary["arms"]]
    except FileNotFoundError:
        raise KetasimError(f"RESULT_DIR: {folder} holds no summary.json (not a ketasim "
                           "simulate output folder)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KetasimError(f"{path}: not a ketasim summary ({exc})") from None
    courses = _read(folder / "timecourse.parquet")
    visits = _read(folder / "ratings.parquet") if (folder / "ratings.parquet").exists() else None
    arms = []
    for label, arm in zip(labels, summary["arms"], strict=True):
        mine = courses[courses["arm"] == label].drop(columns="arm")
        data = mine.set_index(["subject", "time_h"]).to_xarray().rename(time_h="time")
        ratings = None
        if visits is not None and (visits["arm"] == label).any():
            rated = visits[visits["arm"] == label].drop(columns="arm")
            times = np.sort(rated["time_h"].unique())
            subjects = np.sort(rated["subject"].unique())
            rated = rated.sort_values(["subject", "time_h"])
            scores = {c: rated[c].to_numpy().reshape(subjects.size, times.size)
                      for c in rated.columns if c not in ("subject", "time_h")}
            ratings = Ratings(times, subjects, scores, {})
        arms.append(SavedArm(label, int(summary["n"]), data, ratings,
                             float(arm.get("last_dose_h", 0.0))))
    return summary, arms


def redraw(folder: Path) -> list[Path]:
    """Draw the figures of the run in ``folder`` again (PNG, SVG, PDF); the PNG paths."""
    summary, arms = load(folder)
    model = get_model(summary["model"])
    criteria = Criteria(**summary.get("criteria", {}))
    return draw(arms, model, summary["scenario"], int(summary["n"]), criteria, folder)
