"""The ``ketasim`` command line: a thin shell over the Python API."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from ketasim import __version__
from ketasim.errors import KetasimError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Simulate ketamine from dose to depression scores.")
_err = Console(stderr=True)


def _fail(exc: Exception) -> None:
    _say(f"error: {exc}")
    raise typer.Exit(2)


def _say(text: str) -> None:
    """One line to stderr, printed as is (user text is never read as rich markup)."""
    _err.print(text, highlight=False, soft_wrap=True, markup=False, emoji=False)


class Interrupted(BaseException):
    """SIGINT or SIGTERM: unwinds the run (partial files are removed) to :func:`main`."""


def _interrupt(signum, frame) -> None:
    raise Interrupted(signal.Signals(signum).name)


def main() -> None:
    """The ``ketasim`` entry point: :data:`app`, with SIGINT and SIGTERM ending a run with one
    line and exit code 130 (a run's outputs stay incomplete: no summary.json)."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        app()
    except Interrupted as exc:
        _say(f"error: interrupted ({exc}); the outputs of this run are incomplete")
        sys.exit(130)


def _version(value: bool) -> None:
    if value:
        print(f"ketasim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version,
                                               is_eager=True, help="Show the version.")] = False
         ) -> None:
    """ketasim: simulate ketamine's antidepressant action, dose to depression scores."""


@app.command()
def simulate(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
             out: Annotated[Path, typer.Option(help="output directory")] = Path("results"),
             quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False,
             full_timecourse: Annotated[bool, typer.Option(
                 "--full-timecourse", help="write every subject's time course")] = False,
             keep_subjects: Annotated[int, typer.Option(
                 help="subjects per arm whose time courses are kept for figures and the "
                      "Parquet file (all are summarised)")] = 200  # KEEP_SUBJECTS
             ) -> None:
    """Simulate a scenario; write timecourse.parquet, summary.json and figures to OUT."""
    from ketasim.report.simulation import run_and_write
    from ketasim.scenario.files import load_scenario

    try:
        sc = load_scenario(scenario)
        total = sc.population.n * len(sc.arms)
        with Progress(console=_err, disable=quiet, transient=True) as bar:
            task = bar.add_task("simulating", total=total)
            done = [0]

            def advance(finished_in_arm: int) -> None:
                bar.update(task, completed=done[0] + finished_in_arm)
                if finished_in_arm == sc.population.n:
                    done[0] += finished_in_arm

            arms, paths, notes = run_and_write(sc, out, full_timecourse=full_timecourse,
                                               keep_subjects=keep_subjects,
                                               progress=advance)
    except KetasimError as exc:
        _fail(exc)
    for arm in arms:
        for w in arm.warnings:
            _say(f"warning [{arm.label}]: {w}")
    for note in notes:
        _say(f"note: {note}")
    if not quiet:
        _print_outcomes(json.loads(paths[1].read_text()))
        print("wrote:")
    for p in paths:
        print(f"  {p}")


def _print_outcomes(summary: dict) -> None:
    """The short outcome table of a whole-chain run (:func:`ketasim.report.summary.
    outcome_rows`)."""
    from ketasim.report.summary import outcome_rows

    rows = outcome_rows(summary)
    if not rows:
        return
    table = Table(title=f"{escape(summary['scenario'])}: model {escape(summary['model'])}, "
                        f"n = {summary['n']:,} per arm", title_justify="left")
    for col in rows[0]:
        table.add_column(col, justify="left" if col in ("arm", "visit") else "right")
    last = None
    for row in rows:
        cells = ["" if v is None else f"{v:+.1f}" if k == "MADRS change (points)" else str(v)
                 for k, v in row.items()]
        cells[0] = "" if row["arm"] == last else escape(row["arm"])
        last = row["arm"]
        table.add_row(*cells)
    Console(width=120).print(table)


@app.command()
def params(model: Annotated[str | None, typer.Argument(help="model name")] = None,
           markdown: Annotated[bool, typer.Option("--markdown",
                                                  help="print the model's Markdown page")] = False
           ) -> None:
    """Print every parameter of MODEL (default model if omitted): value, unit and source."""
    from ketasim.modeling.docs import model_page, parameter_rows
    from ketasim.models import DEFAULT_MODEL, MODEL_NAMES, get_model

    try:
        m = get_model(model or DEFAULT_MODEL)
    except KetasimError as exc:
        _fail(exc)
    if markdown:
        print(model_page(m), end="")
        return
    table = Table(title=escape(f"{m.name}: {m.title}"), show_lines=False)
    for col in ("parameter", "value", "unit", "IIV (CV)", "source"):
        table.add_column(col, overflow="fold")
    for row in parameter_rows(m):
        table.add_row(*map(escape, row))
    console = Console(width=160)
    console.print(table)
    console.print(f"models: {', '.join(MODEL_NAMES)}", highlight=False)


@app.command("export-sbml")
def export_sbml(model: Annotated[str, typer.Argument(help="model name")],
                file: Annotated[Path, typer.Argument(help="SBML file to write")],
                weight_kg: Annotated[float, typer.Option(help="body weight of the subject")] = 70.0
                ) -> None:
    """Write MODEL as SBML Level 3 (typical parameter values, one subject of WEIGHT_KG)."""
    from ketasim.modeling.sbml import to_sbml
    from ketasim.models import get_model
    from ketasim.population.cohorts import COVARIATE_RANGES

    try:
        m = get_model(model)
        lo, hi = COVARIATE_RANGES["weight_kg"]
        if not lo <= weight_kg <= hi:
            raise KetasimError(f"--weight-kg: must be from {lo:g} to {hi:g}, got {weight_kg:g}")
        values = {"weight_kg": weight_kg} if "weight_kg" in m.covariate_names else {}
        _write_file(file, "FILE", lambda path: path.write_text(to_sbml(m, values)))
    except KetasimError as exc:
        _fail(exc)
    print(f"wrote {file}")


def _write_file(path: Path, option: str, write) -> None:
    """``write(partial_path)``, then the file renamed into place; one-line errors naming
    ``option`` (a folder, a missing or unwritable parent, a full disk)."""
    from ketasim.report.outdir import atomic

    if path.is_dir():
        raise KetasimError(f"{option}: {path} is a folder; give a file name")
    if not path.parent.is_dir():
        raise KetasimError(f"{option}: the folder {path.parent} does not exist")
    with atomic(path, option) as partial:
        write(partial)


def _cell(value) -> str:
    """A table cell: 4 significant digits, "-" for a value that is not estimable."""
    from math import isnan

    if isinstance(value, float):
        return "-" if isnan(value) else f"{value:.4g}"
    return str(value)


@app.command()
def nca(file: Annotated[Path, typer.Argument(
            help="CSV with columns ID, TIME (h), CONC (ng/mL) and optional ANALYTE")],
        out: Annotated[Path | None, typer.Option(help="also write the table to this CSV")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON, not a table")] = False
        ) -> None:
    """Non-compartmental analysis of measured concentrations: one row per ID (x ANALYTE)."""
    import json

    from rich.text import Text

    from ketasim.analysis.nca import nca_table, read_concentrations

    try:
        table = nca_table(read_concentrations(file))
        if out is not None and out.resolve() == file.resolve():
            raise KetasimError("--out: is the input FILE; choose another path")
        if out is not None:
            _write_file(out, "--out", lambda path: table.to_csv(path, index=False))
    except KetasimError as exc:
        _fail(exc)
    if as_json:
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
        print(json.dumps(rows, indent=2, allow_nan=False))
    else:
        grid = Table(title=escape(f"NCA: {file.name}"), show_lines=False)
        for col in table.columns:
            grid.add_column(col, overflow="fold")
        for row in table.itertuples(index=False):
            grid.add_row(*(Text(_cell(v)) for v in row))
        Console(width=200).print(grid)
    if out is not None:
        _say(f"wrote {out}")


@app.command()
def trial(scenario: Annotated[Path, typer.Argument(help="scenario TOML file with a [trial] table")],
          replicates: Annotated[int, typer.Option(help="simulated trials")] = 200,
          out: Annotated[Path, typer.Option(help="output directory")] = Path("results/trial"),
          target_power: Annotated[float | None, typer.Option(
              help="also search the sample size per arm for this power, e.g. 0.8")] = None,
          pool: Annotated[int | None, typer.Option(
              help="virtual patients simulated per arm (default 4 x n, 2,000-50,000)")] = None,
          scheduler: Annotated[str | None, typer.Option(
              help="Dask scheduler address (tcp://host:8786) to run the pools and replicates "
                   "on; default: this process")] = None,
          quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False
          ) -> None:
    """Simulate REPLICATES trials of SCENARIO; write trial.json and figures to OUT."""
    from ketasim.report.trial import run_trial
    from ketasim.scenario.files import load_scenario

    try:
        with Progress(console=_err, disable=quiet, transient=True) as bar:
            task = bar.add_task("trial", total=None)
            result = run_trial(load_scenario(scenario), replicates, out, target_power, pool,
                               scheduler, lambda stage, done, total: bar.update(
                                   task, description=stage, completed=done, total=total))
    except KetasimError as exc:
        _fail(exc)
    effect = result["effect"]
    print(f"{result['design']} trial, {result['n_per_arm']} per arm, {replicates} replicates: "
          f"power {result['power']:.2f}; effect median {effect['median']:.3g} "
          f"(5-95%: {effect['p5']:.3g} to {effect['p95']:.3g}), {result['effect_measure']}")
    if "sample_size" in result:
        size = result["sample_size"]
        print(f"sample size for power {size['target_power']:g}: "
              f"{size['n_per_arm'] or 'not reached'} per arm")
    print(f"wrote {out / 'trial.json'} and figures")


@app.command("claims")
def claims_command(n: Annotated[int, typer.Option(help="virtual patients per design")] = 400,
                   markdown: Annotated[bool, typer.Option("--markdown",
                                                          help="print Markdown")] = False
                   ) -> None:
    """What published data and the model say of the public claims about ketamine."""
    from ketasim.evidence.claims import claims

    if not 20 <= n <= 100_000:
        _fail(KetasimError(f"--n: must be from 20 to 100000, got {n}"))
    found = claims(n)
    if markdown:
        print("# The claims, with data and model\n")
        print(f"Generated by `ketasim claims --n {n} --markdown` (model racemic_sr+mechanism, "
              "seed 1); do not edit.\n")
        for c in found:
            print(f"## {c.claim}\n\n- **Data:** {c.data}\n- **Model:** {c.model}\n"
                  f"- **Verdict:** {c.verdict}\n")
        return
    table = Table(title="claims", show_lines=True)
    for col in ("claim", "data", "model", "verdict"):
        table.add_column(col, overflow="fold")
    for c in found:
        table.add_row(c.claim, c.data, c.model, c.verdict)
    Console(width=180).print(table)


@app.command("validate")
def validate_command(
        out: Annotated[Path, typer.Option(help="output directory")] = Path("results/validation"),
        draws: Annotated[int, typer.Option(
            help="parameter sets drawn from the calibration's uncertainty")] = 20,
        n: Annotated[int, typer.Option(help="virtual patients per arm and parameter set "
                                            "(raised to 4x the arm's largest trial n)")] = 500,
        quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False
        ) -> None:
    """Every published result the model can simulate against its 90% prediction interval;
    write validation.json, report.html and figures to OUT."""
    from ketasim.evidence.claims import claims
    from ketasim.evidence.validate import validate
    from ketasim.report.validation import write

    if not 2 <= draws <= 1000:
        _fail(KetasimError(f"--draws: must be from 2 to 1000, got {draws}"))
    if not 50 <= n <= 100_000:
        _fail(KetasimError(f"--n: must be from 50 to 100000, got {n}"))
    try:
        with Progress(console=_err, disable=quiet, transient=True) as bar:
            task = bar.add_task("parameter sets", total=draws)
            result = validate(draws, n, progress=lambda done, _: bar.update(task, completed=done))
            bar.update(task, description="claims")
            found = claims()
        paths = write(result, found, out)
    except (KetasimError, OSError) as exc:
        _fail(exc)
    for note in result["notes"]:
        _say(f"note: {note}")
    print(f"{result['n_inside']} of {result['n_endpoints']} published values inside the "
          f"model's 90% prediction interval ({result['fraction_inside']:.0%})")
    for p in paths[:2]:
        print(f"wrote {p}")


@app.command("plot")
def plot_command(result_dir: Annotated[Path, typer.Argument(
        help="output folder of ketasim simulate")]) -> None:
    """Redraw a run's figures (PNG, SVG and PDF) from its saved results."""
    from ketasim.report.saved import redraw

    try:
        paths = redraw(result_dir)
    except KetasimError as exc:
        _fail(exc)
    for p in paths:
        print(f"wrote {p}")


@app.command("app")
def app_command(
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on")] = 8000) -> None:
    """Serve the web app (Shiny): build or upload a scenario, run it, see and download the
    results."""
    from shiny._main import run_app  # shiny/__init__ types it Optional (pyodide builds)

    from ketasim.app.page import app as web_app

    if not 1 <= port <= 65535:
        _fail(KetasimError(f"--port: must be from 1 to 65535, got {port}"))
    print(f"ketasim app on http://{host}:{port} (Ctrl+C to stop)")
    run_app(web_app, host=host, port=port, launch_browser=False)


@app.command("sweep")
def sweep_command(
        sweep_file: Annotated[Path, typer.Argument(help="sweep TOML file")],
        out: Annotated[Path, typer.Option(help="output directory")] = Path("results/sweep"),
        scheduler: Annotated[str | None, typer.Option(
            help="Dask scheduler address (tcp://host:8786), or 'synchronous' to run here; "
                 "default: a local cluster")] = None,
        workers: Annotated[int | None, typer.Option(
            help="processes of the local cluster (default: one per core)")] = None,
        resume: Annotated[bool, typer.Option(
            "--resume", help="finish a sweep interrupted in OUT; recomputes nothing")] = False,
        yes: Annotated[bool, typer.Option(
            "--yes", help="run a grid larger than the limit without asking")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", help="no progress bar")] = False
        ) -> None:
    """Run a grid of scenarios (SWEEP_FILE) on Dask; write parts/, manifest.json and
    summary.csv to OUT."""
    from ketasim.sweep.definition import MAX_POINTS, load_sweep
    from ketasim.sweep.run import run_sweep

    if workers is not None and not 1 <= workers <= 1024:
        _fail(KetasimError(f"--workers: must be from 1 to 1024, got {workers}"))
    try:
        sweep = load_sweep(sweep_file)
        if len(sweep.points) > MAX_POINTS and not yes:
            raise KetasimError(f"axes: the grid has {len(sweep.points):,} scenarios, more than "
                               f"{MAX_POINTS:,}; pass --yes to run it")
        with Progress(console=_err, disable=quiet, transient=True) as bar:
            task = bar.add_task("tasks", total=None)
            table = run_sweep(sweep, out, scheduler=scheduler, workers=workers, resume=resume,
                              progress=lambda done, total: bar.update(task, completed=done,
                                                                      total=total))
    except (KetasimError, OSError) as exc:
        _fail(exc)
    print(f"{len(sweep.points)} scenarios x {table['arm'].nunique()} arms; wrote "
          f"{out / 'summary.csv'} and {out / 'parts'}")


if __name__ == "__main__":
    main()
