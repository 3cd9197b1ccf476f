"""Write a run to disk: time courses (Parquet), summary (JSON) and figures (PNG)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ketasim.models import get_model
from ketasim.plots import concentration_figure
from ketasim.runner import ArmResult
from ketasim.scenario import Scenario
from ketasim.summary import summary


def timecourse_table(arms: list[ArmResult], outputs: tuple[str, ...]) -> pd.DataFrame:
    """One row per arm x subject x time: ``arm, subject, time_h`` and one column per output."""
    labels = [arm.label for arm in arms]
    frames = []
    for k, arm in enumerate(arms):
        n, t = arm.data.sizes["subject"], arm.data.sizes["time"]
        frame = {"arm": pd.Categorical.from_codes(np.full(n * t, k), categories=labels),
                 "subject": np.repeat(arm.data["subject"].to_numpy(), t),
                 "time_h": np.tile(arm.data["time"].to_numpy(), n)}
        frame |= {o: arm.data[o].to_numpy().ravel() for o in outputs}
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def write_outputs(scenario: Scenario, arms: list[ArmResult], out: Path) -> list[Path]:
    """Write ``timecourse.parquet``, ``summary.json`` and one PNG per plasma analyte."""
    out.mkdir(parents=True, exist_ok=True)
    model = get_model(scenario.model)
    paths = [out / "timecourse.parquet", out / "summary.json"]
    timecourse_table(arms, model.output_names).to_parquet(paths[0], index=False)
    paths[1].write_text(json.dumps(summary(scenario, arms), indent=2) + "\n")
    for output in model.output_names:
        if output.endswith("_plasma_ng_ml"):
            analyte = output.removesuffix("_plasma_ng_ml")
            paths.append(concentration_figure(arms, output, out / f"{analyte}_plasma.png",
                                              title=f"{scenario.name} ({model.title})"))
    return paths
