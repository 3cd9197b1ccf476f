"""Clinic visits wired into runs: a model with depression_severity gets endpoints, relapse and
course in summary.json (with a toy model whose severity is known)."""

import json

import numpy as np
import pytest

from ketasim.clinical.visits import visit_times
from ketasim.dosing import Dose, Regimen
from ketasim.report import simulation as outputs
from ketasim.scenario.files import load_scenario

TOY = """
name = "toy_mood"
title = "toy: severity falls with exposure and recovers over days"
reference = "test"
[[states]]
name = "central"
unit = "mg"
[[states]]
name = "relief"
unit = "1"
[[parameters]]
name = "V"
value = 100
unit = "L"
source = "test"
[[parameters]]
name = "k"
value = 0.3
unit = "1/h"
source = "test"
[[parameters]]
name = "gain"
value = 0.6
unit = "1/h"
source = "test"
[[parameters]]
name = "decay"
value = 0.01
unit = "1/h"
source = "test"
[[covariates]]
name = "weight_kg"
unit = "kg"
reference = 70
[odes]
central = "-k * central"
relief = "gain * central / V * (1 - relief) - decay * relief"
[outputs]
ketamine_plasma_ng_ml = "central / V * 1000"
depression_severity = "1 - relief"
[output_units]
ketamine_plasma_ng_ml = "ng/mL"
depression_severity = "1"
[[inputs]]
substances = ["racemic"]
routes = ["iv_infusion"]
deposits = [{ state = "central" }]
"""

SCENARIO = """
name = "course"
substance = "racemic"
model = "toy.toml"
[[doses]]
route = "iv_infusion"
amount = "{amount}"
duration = "40 min"
start = "0 d"
every = "3.5 d"
count = 3
[population]
n = 300
seed = 4
[output]
end = "28 d"
step = "1 h"
timepoints = ["4 h", "24 h", "7 d"]
"""



def madrs(arm: dict) -> list[dict]:
    """The MADRS rows of an arm of summary.json (rows name their scale by its label)."""
    return [e for e in arm["endpoints"] if e["scale"] == "MADRS"]

def run(tmp_path, amount="0.5 mg/kg", extra=""):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "toy.toml").write_text(TOY)
    (tmp_path / "s.toml").write_text(SCENARIO.format(amount=amount) + extra)
    _, paths, _ = outputs.run_and_write(load_scenario(tmp_path / "s.toml"), tmp_path / "o")
    return json.loads(paths[1].read_text())["arms"][0]


def test_visit_times_cover_baseline_timepoints_courses_and_follow_up():
    reg = Regimen.repeated(Dose("racemic", "iv_bolus", 10.0), [0.0, 84.0])
    got = visit_times(reg, (4.0, 24.0), 240.0)
    assert got[0] == 0.0 and {4.0, 24.0, 108.0} <= set(got)
    assert set(84.0 + 24.0 * np.arange(1, 7)) <= set(got)


@pytest.mark.slow
def test_a_mood_model_gets_endpoints_relapse_and_course(tmp_path):
    arm = run(tmp_path)
    assert [e["timepoint_h"] for e in madrs(arm)] == [4.0, 24.0, 168.0]
    assert {e["scale"] for e in arm["endpoints"]} == {"MADRS", "HAM-D17", "QIDS-SR16"}
    at_24 = madrs(arm)[1]
    assert at_24["scale"] == "MADRS" and at_24["mean_change"] < 0
    item10 = [s for s in arm["suicidal_ideation"] if s["scale"] == "MADRS item 10"]
    assert [s["timepoint_h"] for s in item10] == [4.0, 24.0, 168.0]
    assert item10[1]["mean_change"] <= 0
    assert 0 <= at_24["remission_rate"] <= at_24["response_rate"] <= 1
    assert {"median_days_to_relapse_among_responders",
            "responders_still_well_at_28d"} <= set(arm["relapse"])
    assert "median_doses_to_response" in arm["course"]


@pytest.mark.slow
def test_a_bigger_dose_gives_more_improvement(tmp_path):
    low, high = run(tmp_path / "low", "0.1 mg/kg"), run(tmp_path / "high", "1 mg/kg")
    assert madrs(high)[1]["mean_change"] < madrs(low)[1]["mean_change"]


@pytest.mark.slow
def test_endpoint_criteria_come_from_the_scenario(tmp_path):
    default = madrs(run(tmp_path / "d"))[1]
    tight = run(tmp_path / "t", extra="[endpoints]\nresponse_fraction = 0.9\nremission_max = 2\n")
    tight = madrs(tight)[1]
    assert 0 < default["response_rate"] and tight["response_rate"] < default["response_rate"]
    assert tight["remission_rate"] <= default["remission_rate"]
