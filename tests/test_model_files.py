"""Models declared by users in TOML files: checked like built-in ones, never evaluated."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ketasim.cli import app
from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError, ScenarioError
from ketasim.models import get_model
from ketasim.population.sampling import Population
from ketasim.scenario.files import load_scenario
from ketasim.simulation.engine import simulate

FILE = Path(__file__).parents[1] / "examples" / "models" / "one_compartment.toml"


def test_model_file_simulates_its_closed_form():
    m = get_model(str(FILE))
    res = simulate(m, Regimen((Dose("racemic", "iv_bolus", 35.0),)), Population(1, seed=4),
                   np.linspace(0, 24, 49), rtol=1e-9, atol=1e-12)
    w = float(res["weight_kg"][0])
    cl, v = float(res["CL_70"][0]) * (w / 70) ** 0.75, float(res["V_70"][0]) * w / 70
    expected = 35.0 / v * 1000 * np.exp(-cl / v * res["time"].to_numpy())
    np.testing.assert_allclose(res["ketamine_plasma_ng_ml"][0], expected, rtol=1e-6)


@pytest.mark.parametrize("edit, says", [
    (lambda t: t.replace('"-CL / V * central"', '"__import__(\'os\').getcwd()"'), "not allowed"),
    (lambda t: t.replace('name = "V_70"', 'nam = "V_70"'), "parameters.1"),
    (lambda t: t.replace("[odes]", "[odes\n"), "not valid TOML"),
    (lambda t: t.replace('"-CL / V * central"', '"-CL / V * centre"'), "unknown names"),
    (lambda t: t.replace("value = 79", 'value = "79"'), "parameters.0.value"),
])
def test_bad_model_files_give_one_line(tmp_path, edit, says):
    path = tmp_path / "m.toml"
    path.write_text(edit(FILE.read_text()))
    with pytest.raises(KetasimError) as info:
        get_model(str(path))
    assert says in str(info.value) and "\n" not in str(info.value)


def test_missing_model_file():
    with pytest.raises(KetasimError, match="file not found"):
        get_model("/nonexistent/model.toml")


def test_scenario_names_a_model_file_relative_to_itself(tmp_path):
    scenario = tmp_path / "s.toml"
    (tmp_path / "m.toml").write_text(FILE.read_text())
    scenario.write_text('name = "x"\nsubstance = "racemic"\nmodel = "m.toml"\n'
                        '[[doses]]\nroute = "iv_bolus"\namount = "20 mg"\n'
                        '[population]\nn = 2\n[output]\nend = "1 d"\nstep = "1 h"\n')
    assert load_scenario(scenario).model == str(tmp_path / "m.toml")
    scenario.write_text(scenario.read_text().replace("iv_bolus", "oral"))
    with pytest.raises(ScenarioError, match=r"doses\[0\]\.route"):
        load_scenario(scenario)


def test_cli_params_and_sbml_of_a_model_file(tmp_path):
    result = CliRunner().invoke(app, ["params", str(FILE)])
    assert result.exit_code == 0 and "Kamp 2020" in result.output
    out = tmp_path / "m.xml"
    assert CliRunner().invoke(app, ["export-sbml", str(FILE), str(out)]).exit_code == 0
    assert "CL_70" in out.read_text()
