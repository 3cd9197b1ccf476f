"""The page of ``ketasim app``: a form (or an uploaded scenario file), a run off the UI thread
through the same pipeline as ``ketasim simulate`` (:func:`ketasim.report.simulation.
run_and_write`, into a temporary folder), and its figures, tables and downloads."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from shiny import App, reactive, render, ui

from ketasim.app.form import N_MAX, SCHEDULES, VARIANTS, Regimen, from_toml, scenario_doc, to_toml
from ketasim.dosing import ROUTES, SUBSTANCES
from ketasim.errors import KetasimError, ScenarioError
from ketasim.population.cohorts import COHORTS
from ketasim.report.figures import concentration_figure
from ketasim.report.simulation import run_and_write
from ketasim.report.summary import outcome_rows
from ketasim.scenario.definition import Scenario
from ketasim.scenario.files import parse_scenario
from ketasim.simulation.runner import ArmResult


@dataclass(frozen=True)
class Run:
    """A finished run: its scenario document, arms, summary and output folder."""

    doc: dict[str, Any]
    arms: list[ArmResult]
    summary: dict[str, Any]
    folder: Path

    def figure(self, stem: str) -> Path | None:
        path = self.folder / f"{stem}.png"
        return path if path.exists() else None


def checked(doc: dict[str, Any]) -> Scenario:
    """The scenario of ``doc`` as the CLI parses it; model files are refused (the app reads no
    file of the server's that a user names)."""
    model = doc.get("model")
    if isinstance(model, str) and model.endswith(".toml"):
        raise ScenarioError("model: the app takes built-in models only (run a model file "
                            "with the CLI)")
    scenario = parse_scenario(doc, source=None)
    if scenario.population.n > N_MAX:
        raise ScenarioError(f"population.n: the app simulates at most {N_MAX} patients per "
                            f"arm (use the CLI for more), got {scenario.population.n}")
    return scenario


def simulate_doc(doc: dict[str, Any], scenario: Scenario) -> Run:
    """Run ``scenario`` (:func:`checked` ``doc``) into a new temporary folder (blocking; the
    page calls it in a thread)."""
    folder = Path(tempfile.mkdtemp(prefix="ketasim-app-"))
    arms, _, _ = run_and_write(scenario, folder)
    if any("nmda_occupancy" in a.data for a in arms):
        concentration_figure(arms, "nmda_occupancy", folder / "occupancy.png",
                             "NMDA receptor occupancy, interneurons (0-1)",
                             title=f"{scenario.name}: receptor occupancy")
    summary = json.loads((folder / "summary.json").read_text())
    return Run(doc, arms, summary, folder)


def claims_table_rows() -> pd.DataFrame:
    """``ketasim claims`` as a table (blocking)."""
    from ketasim.evidence.claims import claims

    return pd.DataFrame([{"claim": c.claim, "data": c.data, "model": c.model,
                          "verdict": c.verdict} for c in claims()])


def validation_report(draws: int = 4, n: int = 200) -> Path:
    """``ketasim validate`` with few draws into a new temporary folder; the report's path."""
    from ketasim.evidence.claims import claims
    from ketasim.evidence.validate import validate
    from ketasim.report.validation import write

    folder = Path(tempfile.mkdtemp(prefix="ketasim-validation-"))
    write(validate(draws, n), claims(n=100), folder)
    return folder / "report.html"


def safety_rows(summary: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame([{"arm": a["label"], "peak CADSS (points)": round(
        a["safety"]["cadss_peak_mean"], 1), "peak SBP rise (mmHg)": round(
        a["safety"]["sbp_rise_peak_mean_mmhg"], 1), "peak DBP rise (mmHg)": round(
        a["safety"]["dbp_rise_peak_mean_mmhg"], 1)} for a in summary["arms"] if "safety" in a])


def _regimen_inputs(tag: str, substance: str, amount: float) -> list:
    return [
        ui.input_select(f"{tag}_substance", "substance", list(SUBSTANCES), selected=substance),
        ui.input_select(f"{tag}_route", "route", list(ROUTES), selected="iv_infusion"),
        ui.layout_columns(ui.input_numeric(f"{tag}_amount", "dose", amount, min=0),
                          ui.input_select(f"{tag}_unit", "unit", ["mg/kg", "mg"])),
        ui.input_numeric(f"{tag}_duration", "infusion duration (min)", 40, min=1),
        ui.input_select(f"{tag}_schedule", "schedule", list(SCHEDULES)),
        ui.panel_conditional(f"input.{tag}_schedule === 'custom times'",
                             ui.input_text(f"{tag}_custom", "times", "0 h, 3 d")),
    ]


def _figure(stem: str):
    return ui.output_image(f"{stem}_plot", height="auto")


app_ui = ui.page_sidebar(
    ui.sidebar(
        ui.input_radio_buttons("source", None, ["form", "uploaded file"], inline=True),
        ui.h6("Regimen A"), *_regimen_inputs("a", "racemic", 0.5),
        ui.input_checkbox("compare", "compare with regimen B"),
        ui.panel_conditional("input.compare", ui.h6("Regimen B"),
                             *_regimen_inputs("b", "midazolam", 0.045)),
        ui.input_select("cohort", "cohort", list(COHORTS)),
        ui.layout_columns(
            ui.input_numeric("n", f"patients (max {N_MAX})", 100, min=1, max=N_MAX),
            ui.input_numeric("days", "days", 28, min=1, max=365)),
        ui.input_numeric("seed", "seed", 1, min=0),
        *(ui.input_select(f"variant_{k}", k, list(v)) for k, v in VARIANTS.items()),
        ui.input_file("upload", "scenario TOML", accept=[".toml"]),
        ui.input_task_button("run", "Simulate", label_busy="Simulating..."),
        width=330),
    ui.output_ui("message"),
    ui.navset_card_tab(
        ui.nav_panel("Outcomes", ui.output_table("outcomes"), _figure("outcomes"),
                     _figure("relapse")),
        ui.nav_panel("Drug and receptor", _figure("ketamine_plasma"), _figure("occupancy"),
                     _figure("cascade")),
        ui.nav_panel("Safety", ui.output_table("safety")),
        ui.nav_panel("Scenario and downloads",
                     ui.download_button("get_toml", "scenario.toml"),
                     ui.download_button("get_csv", "timecourse.csv"),
                     ui.download_button("get_parquet", "timecourse.parquet"),
                     ui.download_button("get_summary", "summary.json"),
                     ui.output_code("toml")),
        ui.nav_panel("Parameters", ui.output_data_frame("parameters")),
        ui.nav_panel("Evidence",
                     ui.p("The claims with published data and the model's numbers "
                          "(ketasim claims; about a minute)."),
                     ui.input_task_button("claims", "Compute the claims"),
                     ui.output_table("claims_table"),
                     ui.p("The validation report (ketasim validate with 4 parameter sets of "
                          "the posterior and 200 patients per arm; a few minutes; the CLI's "
                          "defaults are 20 and 500): every published value against its 90% "
                          "prediction interval, leave-one-study-out, visual predictive "
                          "checks."),
                     ui.input_task_button("validation", "Run the validation"),
                     ui.output_ui("validation_status"),
                     ui.download_button("get_report", "report.html")),
    ),
    title="ketasim: ketamine from dose to depression scores",
)


def server(input, output, session) -> None:
    uploaded: reactive.Value[dict | None] = reactive.value(None)
    problem = reactive.value("")
    result: reactive.Value[Run | None] = reactive.value(None)

    def regimen(tag: str) -> Regimen:
        return Regimen(input[f"{tag}_substance"](), input[f"{tag}_route"](),
                       input[f"{tag}_amount"](), input[f"{tag}_unit"](),
                       input[f"{tag}_duration"](), input[f"{tag}_schedule"](),
                       input[f"{tag}_custom"]())

    def current() -> dict[str, Any]:
        if input.source() == "uploaded file":
            doc = uploaded()
            if doc is None:
                raise ScenarioError("scenario file: upload one first")
            return doc
        return scenario_doc(regimen("a"), regimen("b") if input.compare() else None,
                            input.cohort(), input.n(), input.seed(), input.days(),
                            {k: input[f"variant_{k}"]() for k in VARIANTS})

    @reactive.effect
    @reactive.event(input.upload)
    def _read_upload() -> None:
        files = input.upload()
        try:
            doc = from_toml(Path(files[0]["datapath"]).read_text(encoding="utf-8"))
            checked(doc)
        except (KetasimError, UnicodeDecodeError) as exc:
            problem.set(f"error: {exc}")
            return
        uploaded.set(doc)
        problem.set("")
        ui.update_radio_buttons("source", selected="uploaded file")

    @ui.bind_task_button(button_id="run")
    @reactive.extended_task
    async def simulation(doc: dict[str, Any], scenario: Scenario) -> Run:
        return await asyncio.to_thread(simulate_doc, doc, scenario)

    @reactive.effect
    @reactive.event(input.run)
    def _start() -> None:
        try:
            doc = current()
            scenario = checked(doc)
        except KetasimError as exc:
            problem.set(f"error: {exc}")
            return
        problem.set("")
        simulation(doc, scenario)

    @reactive.effect
    def _finished() -> None:
        status = simulation.status()
        if status == "success":
            result.set(simulation.result())
        elif status == "error":
            try:
                simulation.result()
            except Exception as exc:
                problem.set(f"error: {exc}")

    @render.ui
    def message():
        text = problem()
        return ui.div(text, class_="alert alert-danger", id="problem") if text else None

    def image(stem: str):
        run = result()
        path = None if run is None else run.figure(stem)
        if path is None:
            return None
        return {"src": str(path), "width": "100%", "alt": stem}

    def image_output(stem: str) -> None:
        def show():
            return image(stem)
        show.__name__ = f"{stem}_plot"  # the output's id
        render.image(delete_file=False)(show)

    for stem in ("outcomes", "relapse", "ketamine_plasma", "occupancy", "cascade"):
        image_output(stem)

    @render.table
    def outcomes():
        run = result()
        return None if run is None else pd.DataFrame(outcome_rows(run.summary)).drop(
            columns=["peak CADSS (points)", "peak SBP rise (mmHg)"])

    @render.table
    def safety():
        run = result()
        return None if run is None else safety_rows(run.summary)

    @render.code
    def toml():
        try:
            return to_toml(current())
        except KetasimError as exc:
            return f"error: {exc}"

    @render.download(filename="scenario.toml")
    def get_toml():
        yield to_toml(current())

    def result_file(name: str) -> Path:
        run = result()
        if run is None:
            raise ScenarioError("results: run a simulation first")
        return run.folder / name

    @render.download(filename="timecourse.csv")
    def get_csv():
        yield pd.read_parquet(result_file("timecourse.parquet")).to_csv(index=False)

    @render.download(filename="timecourse.parquet")
    def get_parquet():
        return str(result_file("timecourse.parquet"))

    @render.download(filename="summary.json")
    def get_summary():
        return str(result_file("summary.json"))

    @render.data_frame
    def parameters():
        try:
            model = checked(current()).resolved_model()
        except KetasimError:
            return None
        return pd.DataFrame([{"parameter": p.name, "value": p.value, "unit": p.unit,
                              "between-patient CV": p.cv, "source": p.source}
                             for p in model.parameters])

    def on_button(button_id: str, work):
        """A background task running ``work()`` off the UI thread, started by the task button
        ``button_id`` (busy while it runs)."""
        @ui.bind_task_button(button_id=button_id)
        @reactive.extended_task
        async def task():
            return await asyncio.to_thread(work)

        @reactive.effect
        @reactive.event(input[button_id])
        def _start() -> None:
            task()
        return task

    claims_task = on_button("claims", claims_table_rows)
    validation_task = on_button("validation", validation_report)

    @render.table
    def claims_table():
        return claims_task.result()

    @render.ui
    def validation_status():
        if validation_task.status() != "success":
            return None
        return ui.p("The report is ready: download it below.", id="report_ready")

    @render.download(filename="report.html")
    def get_report():
        if validation_task.status() != "success":
            raise ScenarioError("validation: run it first")
        return str(validation_task.result())


app = App(app_ui, server)
