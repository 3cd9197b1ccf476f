"""Sweeps on Dask: the grid and its one-line errors, the same numbers on any number of
workers, and runs that survive a killed worker or a killed client without recomputing or
duplicating anything."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from ketasim.cli import app
from ketasim.errors import KetasimError, ScenarioError
from ketasim.sweep import definition
from ketasim.sweep.definition import parse_sweep
from ketasim.sweep.run import read_subjects, run_sweep, tasks

BASE = {"name": "sweep base", "substance": "racemic", "model": "racemic_sr+mechanism",
        "doses": [{"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min"}],
        "population": {"n": 24, "seed": 3, "cohort": "trd"},
        "output": {"end": "3 d", "step": "1 d", "timepoints": ["24 h"]}}
AXES = {"doses.0.amount": ["0.25 mg/kg", "0.5 mg/kg"], "population.cohort": ["trd", "elderly"]}


def sweep(**changes):
    return parse_sweep({"name": "test", "scenario": BASE, "chunk": 10, "axes": AXES, **changes})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The sweep run in this process, without Dask."""
    out = tmp_path_factory.mktemp("reference")
    summary = run_sweep(sweep(), out, scheduler="synchronous")
    return read_subjects(out / "parts"), summary


def test_the_grid_is_every_combination_in_blocks_of_chunk():
    s = sweep()
    assert [p.values for p in s.points] == [
        {"doses.0.amount": a, "population.cohort": c}
        for a in AXES["doses.0.amount"] for c in AXES["population.cohort"]]
    assert s.points[3].scenario().population.cohort == "elderly"
    assert [t.n for t in tasks(s)] == [10, 10, 4] * 4
    assert sweep().fingerprint == s.fingerprint != sweep(chunk=12).fingerprint


@pytest.mark.parametrize(("changes", "message"), [
    ({"axes": {"doses.0.amount": ["0.5 mg/kg", "-1 mg"]}}, r"^axes\.doses\.0\.amount\[1\]: doses"),
    ({"axes": {"doses.3.amount": ["1 mg"]}}, r"^axes\.doses\.3\.amount: doses\.3 is not an item"),
    ({"axes": {"population.cohort": "trd"}}, r"^axes\.population\.cohort: expected a non-empty"),
    ({"axes": {"population.n": [10, 0]}}, r"^axes\.population\.n\[1\]: population\.n"),
    ({"axes": {}}, r"^axes: expected a table"),
    ({"chunk": 0}, r"^chunk: "),
    ({"chunks": 5}, r"^chunks: unknown key"),
    ({"scenario": "missing.toml"}, r"^scenario: cannot read"),
])
def test_a_bad_sweep_gets_one_line_naming_the_axis(changes, message):
    with pytest.raises(ScenarioError, match=message) as caught:
        sweep(**changes)
    assert "\n" not in str(caught.value)


def test_mechanism_rows_hold_exposure_and_madrs_and_the_summary_rates(reference):
    subjects, summary = reference
    assert len(subjects) == 4 * 24 and not subjects.duplicated(["point", "arm", "subject"]).any()
    assert {"ketamine_cmax_ng_ml", "madrs_baseline", "madrs_24h"} <= set(subjects)
    row = summary.iloc[0]
    first = subjects[subjects["point"] == 0]
    assert row["n"] == 24 and row["madrs_24h_change_mean"] == pytest.approx(
        (first["madrs_24h"] - first["madrs_baseline"]).mean())
    low, high = summary["ketamine_cmax_ng_ml_median"].iloc[[0, 2]]
    assert high == pytest.approx(2 * low, rel=0.15)  # linear PK: twice the dose, ~twice Cmax


@pytest.mark.slow
def test_two_workers_and_a_killed_worker_give_the_same_numbers(reference, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        run_sweep(sweep(), tmp_path / "two", scheduler=cluster.scheduler_address)
        parts = tmp_path / "killed" / "parts"
        runner = threading.Thread(target=run_sweep, args=(sweep(), tmp_path / "killed"),
                                  kwargs={"scheduler": cluster.scheduler_address})
        runner.start()
        while not (parts.exists() and any(parts.glob("task-*.parquet"))):
            time.sleep(0.05)
        victim = next(iter(cluster.workers.values())).process.pid
        os.kill(victim, signal.SIGKILL)  # Dask reruns the killed worker's task elsewhere
        runner.join(timeout=300)
    for run in ("two", "killed"):
        pd.testing.assert_frame_equal(read_subjects(tmp_path / run / "parts"), reference[0])


@pytest.mark.slow
def test_a_killed_client_resumes_without_recomputing_or_duplicating(reference, tmp_path):
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(
        'name = "test"\nchunk = 10\nscenario = "base.toml"\n[axes]\n'
        + "".join(f'"{k}" = {v!r}\n'.replace("'", '"') for k, v in AXES.items()))
    (tmp_path / "base.toml").write_text(_toml(BASE))
    out, parts = tmp_path / "out", tmp_path / "out" / "parts"
    cli = [str(Path(sys.executable).with_name("ketasim")), "sweep", str(sweep_file),
           "--out", str(out), "--scheduler", "synchronous", "--quiet"]
    proc = subprocess.Popen(cli, start_new_session=True)
    while not (parts.exists() and len(list(parts.glob("task-*.parquet"))) >= 2):
        assert proc.poll() is None, "the sweep finished before it could be killed"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("task-*.parquet")}
    assert 2 <= len(before) < len(tasks(sweep()))
    refused = subprocess.run(cli, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    subprocess.run([*cli, "--resume"], check=True)
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("task-*.parquet")}
    assert all(after[name] == stamp for name, stamp in before.items())  # not recomputed
    assert len(after) == len(tasks(sweep())) and not list(parts.glob(".*"))
    pd.testing.assert_frame_equal(read_subjects(parts), reference[0])
    summary = pd.read_csv(out / "summary.csv")
    pd.testing.assert_series_equal(summary["n"], reference[1]["n"])


def test_resume_refuses_another_sweep_and_a_big_grid_asks_for_yes(tmp_path, monkeypatch):
    run_sweep(sweep(axes={"population.n": [5]}), tmp_path, scheduler="synchronous")
    with pytest.raises(KetasimError, match=r"^--resume: .* holds another sweep"):
        run_sweep(sweep(), tmp_path, scheduler="synchronous", resume=True)
    sweep_file = tmp_path / "big.toml"
    (tmp_path / "base.toml").write_text(_toml(BASE))
    sweep_file.write_text('scenario = "base.toml"\n[axes]\n"population.seed" = [1, 2, 3]\n')
    monkeypatch.setattr(definition, "MAX_POINTS", 2)
    result = CliRunner().invoke(app, ["sweep", str(sweep_file), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "pass --yes" in result.output


def _toml(doc: dict) -> str:
    """A small TOML writer for the test's scenario documents."""
    import json

    lines, tables = [], []
    for key, value in doc.items():
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            tables.extend((f"[{key}]", item) for item in value)
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    for key, value in tables:  # "[doses]" becomes an array of tables, [[doses]]
        lines.append(f"[{key}]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def test_the_example_sweep_reads():
    from ketasim.sweep.definition import load_sweep

    example = load_sweep(Path(__file__).parents[1] / "examples" / "sweep_dose_by_cohort.toml")
    assert len(example.points) == 9 and len(tasks(example)) == 9 * 2
