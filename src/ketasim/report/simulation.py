"""Write a run to disk: time courses (Parquet), summary (JSON) and figures (PNG)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import xarray as xr

from ketasim.errors import KetasimError
from ketasim.modeling.spec import Model
from ketasim.models.mechanism.mood import SEVERITY
from ketasim.models.pk.analytes import plasma_analytes
from ketasim.population.sampling import Population
from ketasim.report.figures import (
    Drawn,
    cascade_figure,
    concentration_figure,
    outcome_figure,
    relapse_figure,
)
from ketasim.report.outdir import atomic, claim, write_text
from ketasim.report.summary import summary
from ketasim.scenario.definition import Criteria, Scenario
from ketasim.simulation.engine import simulate
from ketasim.simulation.runner import KEEP_SUBJECTS, ArmResult, check_memory, run_scenario


class TimecourseWriter:
    """Appends simulated chunks to a Parquet file: one row per arm x subject x time, columns
    ``arm, subject, time_h`` and one per output (unit in its name), stored as float32."""

    def __init__(self, path: Path, labels: list[str], outputs: tuple[str, ...]) -> None:
        self.labels, self.outputs = labels, outputs
        fields = [pa.field("arm", pa.dictionary(pa.int32(), pa.string())),
                  pa.field("subject", pa.int64()), pa.field("time_h", pa.float64())]
        self.schema = pa.schema(fields + [pa.field(o, pa.float32()) for o in outputs])
        self.writer = pq.ParquetWriter(path, self.schema)

    def __call__(self, label: str, chunk: xr.Dataset) -> None:
        n, t = chunk.sizes["subject"], chunk.sizes["time"]
        arm = pa.DictionaryArray.from_arrays(
            pa.array(np.full(n * t, self.labels.index(label), np.int32)), pa.array(self.labels))
        columns = [arm, pa.array(np.repeat(chunk["subject"].to_numpy(), t)),
                   pa.array(np.tile(chunk["time"].to_numpy(), n))]
        columns += [pa.array(chunk[o].to_numpy().ravel().astype(np.float32))
                    for o in self.outputs]
        self.writer.write_table(pa.Table.from_arrays(columns, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def typical_cascade(model, regimen, end_h: float, path: Path, label: str) -> Path:
    """The cascade figure of a typical patient (70 kg, 40 y, no variability) on a fine,
    log-spaced grid from 1 min to ``end_h``."""
    times = np.concatenate([[0.0], np.geomspace(1 / 60, end_h, 400)])
    data = simulate(model.typical(), regimen, Population(1, fixed={"weight_kg": 70.0,
                                                                   "age_y": 40.0}), times)
    return cascade_figure(data, path, title=f"{label}: the cascade in a typical patient "
                          "(70 kg, 40 y)")


#: Output times written to timecourse.parquet unless every subject's full time course is asked
#: for: assumption: ~400 evenly spaced times (with the reported timepoints) keep a 28-day run of
#: the default subjects to tens of MB on a laptop.
WRITTEN_TIMES = 400


def written_times(times: np.ndarray, timepoints_h, most: int = WRITTEN_TIMES) -> np.ndarray:
    """Indices of ``times`` written by default: at most ``most`` evenly spaced ones, the first
    and last, and every reported timepoint."""
    even = np.linspace(0, times.size - 1, min(most, times.size)).round().astype(int)
    visits = np.searchsorted(times, np.asarray(timepoints_h, dtype=float))
    return np.union1d(even, visits[visits < times.size])


def write_ratings(path: Path, arms: Sequence[Drawn]) -> Path:
    """The rated visits of every rated arm: one row per arm x subject x visit, columns ``arm,
    subject, time_h`` and one per scale (points)."""
    tables = []
    for arm in arms:
        r = arm.ratings
        if r is None:
            continue
        visits = r.times_h.size
        tables.append(pd.DataFrame({
            "arm": arm.label, "subject": np.repeat(r.subjects, visits),
            "time_h": np.tile(r.times_h, r.subjects.size),
            **{scale: scores.ravel() for scale, scores in r.scores.items()}}))
    with atomic(path) as partial:
        pd.concat(tables).astype({"arm": "category"}).to_parquet(partial, index=False)
    return path


def draw(arms: Sequence[Drawn], model: Model, name: str, n: int, criteria: Criteria,
         out: Path) -> list[Path]:
    """The figures of a run in ``out``: each plasma analyte that an arm receives, and for rated
    arms the outcomes and relapse; the PNG paths."""
    paths = []
    for analyte, (output, _) in plasma_analytes(model).items():
        given = any(output in arm.data and float(arm.data[output].max()) > 0 for arm in arms)
        if not analyte.startswith(("s_", "r_")) and given:
            paths.append(concentration_figure(
                arms, output, out / f"{analyte}_plasma.png",
                f"{analyte} in plasma ({model.output_units[output]})",
                title=f"{name} (model {model.name})"))
    if any(arm.ratings is not None for arm in arms):
        title = f"{name} (model {model.name}, n = {n:,} per arm)"
        paths += [outcome_figure(arms, criteria, out / "outcomes.png", title),
                  relapse_figure(arms, criteria, out / "relapse.png", title)]
    return paths


def _write(scenario: Scenario, model: Model, out: Path, full_timecourse: bool,
           keep_subjects: int, progress: Callable[[int], None] | None
           ) -> tuple[list[ArmResult], list[Path], list[str]]:
    """The body of :func:`run_and_write` in a claimed folder: every file written whole,
    ``summary.json`` last."""
    paths = [out / "timecourse.parquet", out / "summary.json"]
    # uM outputs are ng/mL outputs divided by a molar mass: left out of the file to halve it
    columns = tuple(o for o in model.output_names if model.output_units[o] != "uM")
    with atomic(paths[0]) as partial:
        writer = TimecourseWriter(partial, [a.label for a in scenario.arms], columns)
        try:
            arms = run_scenario(scenario, progress=progress,
                                sink=writer if full_timecourse else None,
                                keep_subjects=keep_subjects)
            grid = arms[0].data["time"].to_numpy()  # every arm's output grid
            keep = written_times(grid, scenario.output.timepoints_h)
            if not full_timecourse:
                for arm in arms:
                    writer(arm.label, arm.data.isel(time=keep))
        finally:
            writer.close()
    notes = []
    kept = arms[0].data.sizes["subject"]
    if kept < scenario.population.n:
        notes.append(f"timecourse.parquet and the figure bands hold the first {kept:,} of "
                     f"{scenario.population.n:,} subjects per arm (--keep-subjects, or "
                     "--full-timecourse for all); summary metrics use every subject")
    if not full_timecourse and grid.size > WRITTEN_TIMES:
        notes.append(f"timecourse.parquet holds {keep.size} of the {grid.size:,} output times "
                     "(evenly spaced, with every reported timepoint; --full-timecourse for "
                     "all)")
    if any(arm.ratings is not None for arm in arms):
        paths.append(write_ratings(out / "ratings.parquet", arms))
    paths += draw(arms, model, scenario.name, scenario.population.n, scenario.criteria, out)
    if SEVERITY in model.outputs:
        paths.append(typical_cascade(model, scenario.arms[0].regimen, scenario.output.end_h,
                                     out / "cascade.png", scenario.arms[0].label))
    write_text(paths[1], json.dumps(summary(scenario, arms, notes), indent=2, allow_nan=False)
               + "\n")  # last: marks a complete run
    return arms, paths, notes


def run_and_write(scenario: Scenario, out: Path, *, full_timecourse: bool = False,
                  keep_subjects: int = KEEP_SUBJECTS,
                  progress: Callable[[int], None] | None = None
                  ) -> tuple[list[ArmResult], list[Path], list[str]]:
    """Run ``scenario`` and write ``timecourse.parquet``, ``summary.json`` and one PNG per
    plasma analyte that any arm receives to ``out``; return the arms, the paths and notes on
    what was written.

    The time courses of the first ``keep_subjects`` subjects of each arm are kept (figures,
    bands, the Parquet file at :func:`written_times`) and every subject is summarised;
    ``full_timecourse`` streams every subject's whole time course to the Parquet file instead.
    """
    if not (isinstance(keep_subjects, int) and keep_subjects >= 1):
        raise KetasimError(f"keep_subjects: need a whole number >= 1, got {keep_subjects!r}")
    model = scenario.resolved_model()
    check_memory(scenario, model, keep_subjects)
    with claim(out):
        arms, paths, notes = _write(scenario, model, out, full_timecourse, keep_subjects,
                                    progress)
    return arms, paths, notes
