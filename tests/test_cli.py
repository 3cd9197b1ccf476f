"""The command line: outputs of `simulate`, the summary contract, one-line errors with exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ketasim import __version__
from ketasim.cli import app

EXAMPLES = Path(__file__).parents[1] / "examples"
runner = CliRunner()

SMALL = """
name = "small"
substance = "racemic"
model = "{model}"

[[doses]]
route = "iv_infusion"
amount = "{amount}"
duration = "40 min"
at = ["0 h"]

[population]
n = 20
cohort = "trd"
seed = 1
age_y = 40
exclude = ["psychosis", "substance_use", "hypertension"]

[output]
end = "2 d"
step = "15 min"
timepoints = ["40 min", "4 h", "24 h"]
"""


def small(amount: str, model: str = "racemic_sr") -> str:
    """SMALL with a dose ``amount`` and ``model`` (PK only unless told)."""
    return SMALL.format(amount=amount, model=model)


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.slow
def test_simulate_writes_timecourse_summary_and_figure(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(write(tmp_path, small("0.5 mg/kg"))),
                                 "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "timecourse.parquet")
    assert list(table.columns[:3]) == ["arm", "subject", "time_h"]
    assert {"ketamine_plasma_ng_ml", "norketamine_plasma_ng_ml", "s_ketamine_plasma_ng_ml",
            "ketamine_brain_ng_ml"} <= set(table.columns)
    assert not any(c.endswith("_um") for c in table.columns)  # derivable: left out
    assert len(table) == 20 * table["time_h"].nunique()
    assert {0.0, 40 / 60, 4.0, 24.0, 48.0} <= set(table["time_h"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ketasim_version"] == __version__ and summary["seed"] == 1
    assert summary["n"] == 20 and summary["scenario"] == "small"
    arm = summary["arms"][0]
    assert arm["label"] == "small" and arm["warnings"] == []
    ketamine = arm["pk"]["ketamine"]
    for metric in ("cmax_ng_ml", "tmax_h", "auc_ng_h_ml"):
        assert set(ketamine[metric]) == {"median", "p5", "p95"}
        assert ketamine[metric]["p5"] <= ketamine[metric]["median"] <= ketamine[metric]["p95"]
    assert ketamine["tmax_h"]["median"] == pytest.approx(40 / 60)
    # layers not modelled yet are absent, never zero
    assert not {"endpoints", "relapse", "safety"} & set(arm)
    cmax = table.groupby("subject")["ketamine_plasma_ng_ml"].max()
    assert ketamine["cmax_ng_ml"]["median"] == pytest.approx(np.median(cmax))
    png = (out / "ketamine_plasma.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


@pytest.mark.slow
def test_two_arm_example_gives_two_arms_on_the_same_patients(tmp_path):
    out = tmp_path / "two"
    assert runner.invoke(app, ["simulate", str(EXAMPLES / "two_arms.toml"), "--out", str(out),
                               "--quiet"]).exit_code == 0
    table = pd.read_parquet(out / "timecourse.parquet")
    summary = json.loads((out / "summary.json").read_text())
    assert [a["label"] for a in summary["arms"]] == list(table["arm"].cat.categories)
    assert len(summary["arms"]) == 2


def test_dose_above_the_anaesthetic_range_is_simulated_and_flagged(tmp_path):
    out = tmp_path / "o"
    result = runner.invoke(app, ["simulate", str(write(tmp_path, small("5 mg/kg"))),
                                 "--out", str(out), "--quiet"])
    assert result.exit_code == 0
    warnings = json.loads((out / "summary.json").read_text())["arms"][0]["warnings"]
    assert len(warnings) == 1 and "anaesthetic range" in warnings[0] and "20 of 20" in warnings[0]


BAD = {
    "unknown route": ('route = "iv_infusion"', 'route = "intravenous"', "doses[0].route"),
    "unknown substance": ('substance = "racemic"', 'substance = "ketamine"', "substance"),
    "zero amount": ("{amount}", "0 mg", "doses[0].amount"),
    "negative amount": ("{amount}", "-5 mg", "doses[0].amount"),
    "no unit": ("{amount}", "0.5", "doses[0].amount"),
    "wrong dimension": ("{amount}", "0.5 mL", "doses[0].amount"),
    "absurd amount": ("{amount}", "500 mg/kg", "doses[0].amount"),
    "duration on a bolus": ('route = "iv_infusion"', 'route = "iv_bolus"', "doses[0].duration"),
    "infusion without duration": ('duration = "40 min"', "", "doses[0].duration"),
    "zero-length infusion": ('duration = "40 min"', 'duration = "0 min"', "doses[0].duration"),
    "n < 1": ("n = 20", "n = 0", "population.n"),
    "n too large": ("n = 20", "n = 10_000_001", "population.n"),
    "unparseable time": ('at = ["0 h"]', 'at = ["soon"]', "doses[0].at[0]"),
    "end before last dose": ('at = ["0 h"]', 'at = ["3 d"]', "output.end"),
    "unknown key": ("seed = 1", "sead = 1", "population.sead"),
    "unknown cohort": ('cohort = "trd"', 'cohort = "martians"', "population.cohort"),
    "malformed TOML": ("[population]", "[population", "not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenarios_exit_2_with_one_line_naming_the_field(tmp_path, case):
    old, new, field = BAD[case]
    text = SMALL.replace(old, new).format(amount="0.5 mg/kg", model="racemic_sr")
    result = runner.invoke(app, ["simulate", str(write(tmp_path, text)), "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0], lines
    assert not (tmp_path / "o").exists()


def warnings_of(tmp_path, population_lines: str) -> list[str]:
    """The warnings of a run of SMALL with ``age_y = 40`` replaced by ``population_lines``."""
    out = tmp_path / "o"
    text = small("0.5 mg/kg").replace("age_y = 40", population_lines)
    assert runner.invoke(app, ["simulate", str(write(tmp_path, text)), "--out", str(out),
                               "--quiet"]).exit_code == 0
    return json.loads((out / "summary.json").read_text())["arms"][0]["warnings"]


def test_patients_outside_the_models_population_are_simulated_with_a_warning(tmp_path):
    assert warnings_of(tmp_path, "age_y = 90") == [
        "20 of 20 subjects have age_y outside 18-65, the population model racemic_sr was built "
        "on; simulated anyway"]


@pytest.mark.parametrize("line, field", [("weight_kg = 500", "population.weight_kg"),
                                         ("age_y = 200", "population.age_y"),
                                         ("age_y = -1", "population.age_y"),
                                         ("female = 2", "population.female")])
def test_impossible_covariates_exit_2(tmp_path, line, field):
    text = small("0.5 mg/kg").replace("age_y = 40", line)
    result = runner.invoke(app, ["simulate", str(write(tmp_path, text))])
    assert result.exit_code == 2 and field in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path):
    result = runner.invoke(app, ["simulate", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and "scenario file not found" in result.output


@pytest.mark.slow
def test_installed_command_prints_no_traceback(tmp_path):
    """The console script itself: one line on stderr, exit 2, nothing else."""
    bad = write(tmp_path, small("0.5 mL"))
    exe = Path(sys.executable).with_name("ketasim")
    proc = subprocess.run([str(exe), "simulate", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "doses[0].amount" in proc.stderr


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"ketasim {__version__}"


def test_params_lists_every_parameter_with_its_source():
    result = runner.invoke(app, ["params", "domino1982"])
    assert result.exit_code == 0
    for name in ("V1_per_kg", "k10", "k12", "k13", "k21", "k31"):
        assert name in result.output
    assert "PMID 7198883" in result.output and "assumption" in result.output


def test_params_of_unknown_model_exits_2():
    result = runner.invoke(app, ["params", "nosuchmodel"])
    assert result.exit_code == 2 and "domino1982" in result.output


def test_export_sbml_writes_a_document_roadrunner_loads(tmp_path):
    roadrunner = pytest.importorskip("roadrunner")
    path = tmp_path / "domino.xml"
    result = runner.invoke(app, ["export-sbml", "domino1982", str(path), "--weight-kg", "80"])
    assert result.exit_code == 0
    rr = roadrunner.RoadRunner(str(path))
    assert rr["weight_kg"] == 80.0
    rr["central"] = 40.0  # 40 mg in V1 = 0.063 L/kg * 80 kg
    assert rr["ketamine_plasma_ng_ml"] == pytest.approx(40.0 / (0.063 * 80) * 1000)


def test_export_sbml_rejects_absurd_weight(tmp_path):
    result = runner.invoke(app, ["export-sbml", "domino1982", str(tmp_path / "x.xml"),
                                 "--weight-kg", "-3"])
    assert result.exit_code == 2 and "--weight-kg" in result.output


def test_a_covariate_the_model_does_not_use_is_reported_not_dropped(tmp_path):
    assert warnings_of(tmp_path, "age_y = 40\nasian = 1") == [
        "population.asian is set but model racemic_sr does not use it (no data for its effect); "
        "ignored"]


@pytest.mark.slow
def test_dosing_more_often_than_any_studied_regimen_is_flagged(tmp_path):
    out = tmp_path / "o"
    text = small("0.5 mg/kg").replace('at = ["0 h"]',
                                                    'at = ["0 h", "12 h", "24 h", "36 h"]')
    assert runner.invoke(app, ["simulate", str(write(tmp_path, text)), "--out", str(out),
                               "--quiet"]).exit_code == 0
    warnings = json.loads((out / "summary.json").read_text())["arms"][0]["warnings"]
    assert any(w.startswith("4 ketamine doses within 7 days") for w in warnings)
    (tmp_path / "b").mkdir()
    assert not any("within 7 days" in w for w in warnings_of(tmp_path / "b", "age_y = 40"))


@pytest.mark.slow
def test_a_patient_run_prints_outcomes_and_plot_redraws_its_figures(tmp_path):
    """The whole chain by default in a patient cohort: the outcome table, outcome and relapse
    figures in three formats, and ``ketasim plot`` drawing them again from the saved results."""
    out = tmp_path / "run"
    text = small("0.5 mg/kg", "racemic_sr+mechanism").replace('end = "2 d"', 'end = "8 d"').replace(
        'timepoints = ["40 min", "4 h", "24 h"]', 'timepoints = ["24 h", "7 d"]')
    result = runner.invoke(app, ["simulate", str(write(tmp_path, text)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "MADRS change" in result.output and "day 7" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "racemic_sr+mechanism" and "endpoints" in summary["arms"][0]
    for stem in ("outcomes", "relapse"):
        assert all((out / f"{stem}.{fmt}").stat().st_size > 5_000 for fmt in ("png", "svg", "pdf"))
        (out / f"{stem}.png").unlink()
    result = runner.invoke(app, ["plot", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "outcomes.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "relapse.png").exists() and (out / "ketamine_plasma.png").exists()
    ratings = pd.read_parquet(out / "ratings.parquet")
    assert ratings["subject"].nunique() == 20 and "madrs" in ratings.columns


def test_plot_of_a_folder_without_results_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["plot", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: RESULT_DIR: ") and "Traceback" not in \
        result.output
