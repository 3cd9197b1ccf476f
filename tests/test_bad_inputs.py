"""The corpus of bad inputs (tests/bad_inputs/, one scenario per case; its first line names the
field its error must name): each through ``ketasim simulate`` gives exit code 2 and one line
``error: ...`` naming the field; never a traceback, a partial output or a silent NaN."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketasim.cli import app

CORPUS = Path(__file__).parent / "bad_inputs"
runner = CliRunner()


def _field(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# field: "), f"{path.name}: first line must name the field"
    return first.removeprefix("# field: ")


@pytest.mark.parametrize("case", sorted(CORPUS.glob("*.toml")), ids=lambda p: p.stem)
def test_a_bad_input_is_one_line_naming_its_field(case, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(case), "--out", str(out), "--quiet"])
    text = result.output.strip()
    assert result.exit_code == 2, (result.exit_code, text, result.exception)
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    assert text.startswith("error: ") and _field(case) in text, text
    assert not (out / "summary.json").exists()
    assert not list(out.glob(".*.partial")) if out.exists() else True


@pytest.mark.parametrize(("args", "field"), [
    (["--out", "FILE"], "--out: "),
    (["--out", "FILE/under"], "--out: "),
])
def test_a_bad_out_path_is_one_line(args, field, tmp_path):
    (tmp_path / "FILE").write_text("not a folder")
    args = [a.replace("FILE", str(tmp_path / "FILE")) for a in args]
    case = CORPUS.parent.parent / "examples" / "single_infusion.toml"
    result = runner.invoke(app, ["simulate", str(case), *args, "--quiet"])
    assert result.exit_code == 2 and result.output.strip().startswith(f"error: {field}"), \
        result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", [
    ["nca", "examples/concentrations.csv", "--out", "{tmp}/missing/folder/x.csv"],
    ["nca", "examples/concentrations.csv", "--out", "{tmp}"],
    ["export-sbml", "racemic_sr", "{tmp}"],
    ["export-sbml", "racemic_sr", "{tmp}/file/x.xml"],
])
def test_outputs_of_other_commands_give_one_line_errors(command, tmp_path):
    (tmp_path / "file").write_text("a file")
    root = CORPUS.parent.parent
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    args = [str(root / a) if a.startswith("examples/") else a for a in args]
    result = runner.invoke(app, args)
    text = result.output.strip()
    assert result.exit_code == 2 and text.startswith("error: ") and "\n" not in text, text
    assert "--out: " in text or "FILE: " in text


def test_user_text_in_brackets_is_printed_as_given(tmp_path):
    """A scenario name that looks like rich markup runs and is printed, never parsed."""
    case = (CORPUS.parent.parent / "examples" / "single_infusion.toml").read_text()
    scenario = tmp_path / "s.toml"
    scenario.write_text(case.replace('name = "Single 0.5 mg/kg infusion in TRD"',
                                     'name = "[/bold] [[arms]] assign:V:"').replace(
        "n = 1000", "n = 8").replace('end = "28 d"', 'end = "2 d"').replace(
        'timepoints = ["40 min", "4 h", "24 h", "3 d", "7 d", "14 d", "28 d"]',
        'timepoints = ["24 h"]'))
    result = runner.invoke(app, ["simulate", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "[/bold] [[arms]] assign:V:" in result.output.replace("\n", " ") or \
        "[/bold]" in result.output


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    import fcntl

    out = tmp_path / "o"
    out.mkdir()
    with open(out / ".ketasim.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        case = CORPUS.parent.parent / "examples" / "single_infusion.toml"
        result = runner.invoke(app, ["simulate", str(case), "--out", str(out), "--quiet"])
    assert result.exit_code == 2 and "another ketasim run is writing" in result.output


def test_the_python_api_names_a_wrong_type_or_tolerance():
    import ketasim as ks
    from ketasim.errors import KetasimError

    model = ks.get_model("racemic_sr")
    regimen = ks.Regimen((ks.Dose("racemic", "iv_bolus", 10.0),))
    cases = [((model, None, ks.Population(3), [0, 1]), {}, "regimen: "),
             ((model, regimen, None, [0, 1]), {}, "population: "),
             (("racemic_sr", regimen, ks.Population(3), [0, 1]), {}, "model: "),
             ((model, regimen, ks.Population(3), [0, 1]), {"atol": float("inf")}, "tolerances"),
             ((model, regimen, ks.Population(3), [0, 1]), {"max_steps": 0}, "max_steps: "),
             ((model.with_parameters(V1_per_kg=0.0), regimen, ks.Population(3), [0, 1]), {},
              "model racemic_sr: a math error")]
    for args, kwargs, field in cases:
        with pytest.raises(KetasimError) as info:
            ks.simulate(*args, **kwargs)
        assert str(info.value).startswith(field) and "\n" not in str(info.value)


@pytest.mark.parametrize(("text", "says"), [
    ("ID,TIME,AMT,AMT,DRUG,ROUTE\n1,0,10,10,racemic,iv_bolus\n", "AMT given twice"),
    ("ID,TIME,AMT,DRUG,ROUTE,RAET\n1,0,10,racemic,iv_bolus,5\n", "'RAET' not known"),
])
def test_an_event_table_with_a_duplicated_or_unknown_column_is_refused(text, says, tmp_path):
    from ketasim.dosing import read_event_table
    from ketasim.errors import ScenarioError

    path = tmp_path / "events.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=says):
        read_event_table(path)
    with pytest.raises(ScenarioError, match="is a folder"):
        read_event_table(tmp_path)


def test_an_absurd_number_of_replicates_is_refused_at_once(tmp_path):
    case = CORPUS.parent.parent / "examples" / "single_infusion_vs_midazolam.toml"
    result = runner.invoke(app, ["trial", str(case), "--replicates", "100000000000",
                                 "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: replicates: must be a whole number from 1")
