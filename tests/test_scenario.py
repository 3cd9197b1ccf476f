"""TOML scenarios: the documented form works and every bad input is one clear line."""

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import ketasim.scenario.definition as definition_module
import ketasim.scenario.files as scenario_module
from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError, ScenarioError
from ketasim.models import DEFAULT_MODEL
from ketasim.population.sampling import Population
from ketasim.scenario.definition import Arm, Output, Scenario
from ketasim.scenario.files import load_scenario, parse_scenario

EXAMPLES = Path(__file__).parent.parent / "examples"
SINGLE = tomllib.loads((EXAMPLES / "single_infusion.toml").read_text())
TWO_ARMS = tomllib.loads((EXAMPLES / "two_arms.toml").read_text())
INFUSION = Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=40 / 60)


def edited(base: dict, change) -> dict:
    """A deep copy of `base` after `change(copy)`."""
    doc = copy.deepcopy(base)
    change(doc)
    return doc


def fails(doc, names: str, says: str, source: str = "s.toml") -> str:
    """Assert parse_scenario(doc) raises one ScenarioError line '<source>: <names>: ...says...'."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc, source)
    message = str(info.value)
    assert message.startswith(f"{source}: {names}: "), message
    assert says in message and "\n" not in message, message
    return message


@dataclass(frozen=True)
class FakeModel:
    """Stands in for a model that takes esketamine intranasally and racemic by any IV route."""

    def routes_for(self, substance: str) -> tuple[str, ...]:
        return {"racemic": ("iv_bolus", "iv_infusion"), "esketamine": ("intranasal",)}.get(
            substance, ())


@pytest.fixture
def two_models(monkeypatch):
    """Add a fake model 'nasal2024' beside the real default model."""
    real = scenario_module.get_model
    monkeypatch.setattr(scenario_module, "MODEL_NAMES", (DEFAULT_MODEL, "nasal2024"))
    for module in (scenario_module, definition_module):
        monkeypatch.setattr(module, "get_model",
                            lambda name: FakeModel() if name == "nasal2024" else real(name))


# -- the documented forms ------------------------------------------------------------------
def test_single_infusion_example():
    scenario = load_scenario(EXAMPLES / "single_infusion.toml")
    assert scenario.name == "Single 0.5 mg/kg infusion in TRD"
    assert scenario.model == "racemic_sr+mechanism"  # a patient cohort: the whole chain
    assert scenario.arms == (Arm("Single 0.5 mg/kg infusion in TRD", Regimen((INFUSION,))),)
    assert scenario.population == Population(
        n=1000, cohort="trd", seed=1, exclude=("psychosis", "substance_use", "hypertension"))
    assert scenario.seed == 1
    assert scenario.output == Output(672.0, 0.25, (40 / 60, 4.0, 24.0, 72.0, 168.0, 336.0, 672.0))
    times = scenario.output.times()
    assert times[0] == 0.0 and times[-1] == 672.0
    assert len(times) == 672 * 4 + 1 + 1  # the 15-min grid plus the 40-min point
    assert {40 / 60, 4.0, 24.0, 672.0} <= set(times.tolist())
    assert np.all(np.diff(times) > 0)


def test_two_arms_example():
    scenario = load_scenario(str(EXAMPLES / "two_arms.toml"))
    bolus = Dose("racemic", "iv_bolus", 0.2, per_kg=True)
    assert [arm.label for arm in scenario.arms] == ["0.5 mg/kg over 40 min", "0.2 mg/kg IV bolus"]
    assert [arm.regimen for arm in scenario.arms] == [Regimen((INFUSION,)), Regimen((bolus,))]
    assert scenario.population == Population(n=500, cohort="trd", seed=7)
    assert scenario.output.end_h == 168.0


def test_model_defaults_and_single_dose_at_zero():
    doc = edited(SINGLE, lambda d: d["doses"][0].pop("at") and d["population"].update(
        cohort="healthy"))
    scenario = parse_scenario(doc)
    assert "model" not in SINGLE and scenario.model == DEFAULT_MODEL
    assert scenario.arms[0].regimen == Regimen((INFUSION,))


@pytest.mark.parametrize(("cohort", "substance", "route", "model"), [
    ("trd", "racemic", "iv_infusion", "racemic_sr+mechanism"),
    ("elderly", "racemic", "iv_infusion", "racemic_sr+mechanism"),
    ("healthy", "racemic", "iv_infusion", "racemic_sr"),
    ("trd", "esketamine", "intranasal", "perez_ruixo2021+mechanism"),
    ("healthy", "esketamine", "intranasal", "perez_ruixo2021"),
])
def test_a_patient_cohort_runs_the_whole_chain_by_default(cohort, substance, route, model):
    def change(d):
        d.update(substance=substance)
        d["population"].update(cohort=cohort)
        d["doses"][0].update(route=route, amount="56 mg" if route == "intranasal" else "0.5 mg/kg")
        if route == "intranasal":
            d["doses"][0].pop("duration")
    assert parse_scenario(edited(SINGLE, change)).model == model
    pinned = edited(SINGLE, lambda d: change(d) or d.update(model=model.split("+")[0]))
    assert parse_scenario(pinned).model == model.split("+")[0]  # a named model is kept


def test_without_a_model_the_first_model_taking_every_dose_is_chosen(two_models):
    doc = edited(SINGLE, lambda d: d.update(substance="esketamine") or d["doses"][0].update(
        route="intranasal") or d["doses"][0].pop("duration"))
    assert parse_scenario(doc).model == "nasal2024"  # the default takes esketamine IV only


def test_every_count_schedule():
    def change(doc):
        doc["doses"][0].pop("at")
        doc["doses"][0].update(start="1 d", every="3.5 d", count=6)
    regimen = parse_scenario(edited(SINGLE, change)).arms[0].regimen
    assert [d.time_h for d in regimen.doses] == [24.0, 108.0, 192.0, 276.0, 360.0, 444.0]
    assert regimen.last_dose_end_h == 444.0 + 40 / 60


def test_per_week_schedule_and_several_dose_entries():
    def change(doc):
        doc["doses"][0].pop("at")
        doc["doses"][0].update(per_week=2, weeks=2, start="2 h")
        doc["doses"].append({"route": "iv_bolus", "amount": "35 mg", "at": ["1 h", "200 h"]})
    regimen = parse_scenario(edited(SINGLE, change)).arms[0].regimen
    assert [(d.time_h, d.route) for d in regimen.doses] == [
        (1.0, "iv_bolus"), (2.0, "iv_infusion"), (86.0, "iv_infusion"), (170.0, "iv_infusion"),
        (200.0, "iv_bolus"), (254.0, "iv_infusion")]
    assert regimen.doses[0].amount == 35.0 and not regimen.doses[0].per_kg


def test_fixed_weight_and_population_defaults():
    def change(doc):
        doc["population"] = {"n": 3, "weight_kg": 80}
    scenario = parse_scenario(edited(SINGLE, change))
    assert scenario.population == Population(n=3, fixed={"weight_kg": 80.0})
    assert scenario.seed == 0


def test_substance_set_on_arm_or_dose_overrides_the_file(two_models):
    def change(doc):
        doc["model"] = "nasal2024"
        doc["arms"][1]["substance"] = "esketamine"
        doc["arms"][1]["doses"] = [{"route": "intranasal", "amount": "56 mg"},
                                   {"route": "iv_bolus", "amount": "10 mg", "at": ["1 h"],
                                    "substance": "racemic"}]
    arms = parse_scenario(edited(TWO_ARMS, change)).arms
    assert arms[0].regimen.substances == ("racemic",)
    assert arms[1].regimen.doses == (Dose("esketamine", "intranasal", 56.0),
                                     Dose("racemic", "iv_bolus", 10.0, time_h=1.0))


# -- bad inputs: each one line, naming the key ----------------------------------------------
def dose(**change):
    return edited(SINGLE, lambda d: d["doses"][0].update(change))


def no_duration():
    return edited(SINGLE, lambda d: d["doses"][0].pop("duration"))


@pytest.mark.parametrize("doc, names, says", [
    (dose(route="iv_drip"), "doses[0].route", "iv_bolus, iv_infusion, im, intranasal"),
    (dose(route=3), "doses[0].route", "valid string"),
    (edited(SINGLE, lambda d: d.update(substance="s-ketamine")), "substance",
     "not one of racemic, esketamine, arketamine"),
    (dose(substance="ketamine"), "doses[0].substance", "racemic, esketamine, arketamine"),
    (dose(amount="0 mg/kg"), "doses[0].amount", "must be more than 0"),
    (dose(amount="-5 mg"), "doses[0].amount", "must be more than 0"),
    (dose(amount="0.5"), "doses[0].amount", "has no unit"),
    (dose(amount=0.5), "doses[0].amount", "has no unit"),
    (dose(amount="0.5 mL"), "doses[0].amount", "'0.5 mg/kg'"),
    (dose(amount="2 h"), "doses[0].amount", "'h' is hour"),
    (dose(route="iv_bolus"), "doses[0].duration", "only iv_infusion takes a duration"),
    (no_duration(), "doses[0].duration", "needs a duration"),
    (dose(duration="0 min"), "doses[0].duration", "must be longer than 0"),
    (dose(duration="forty minutes"), "doses[0].duration", "cannot read"),
    (dose(at=["soon"]), "doses[0].at[0]", "'40 min', '4 h' or '3.5 d'"),
    (dose(at=["0 h", 24]), "doses[0].at[1]", "has no unit"),
    (dose(at=[]), "doses[0].at", "must not be empty"),
    (dose(at="0 h"), "doses[0].at", "valid list"),
    (dose(every="1 d"), "doses[0]", "exactly one schedule"),
    (dose(at=None, every="1 d", count=0), "doses[0].count", "whole number >= 1"),
    (dose(duraton="40 min"), "doses[0].duraton", "did you mean 'duration'?"),
    (dose(count=1.5), "doses[0].count", "valid integer"),
    (edited(SINGLE, lambda d: d.update(nmae=d.pop("name"))), "nmae",
     "unknown key; did you mean 'name'? allowed: name, substance, model, doses, arms, "
     "population, output, endpoints, variants, trial (and 1 more error)"),
    (edited(SINGLE, lambda d: d.update(name="")), "name", "at least 1 character"),
    (edited(SINGLE, lambda d: d.update(name="  ")), "name", "at least 1 character"),
    (edited(SINGLE, lambda d: d.update(name=7)), "name", "valid string"),
    (edited(SINGLE, lambda d: d.update(model="smith2030")), "model",
     "allowed: racemic_sr, perez_ruixo2021, domino1982"),
    (edited(SINGLE, lambda d: d.update(substance="esketamine", model="domino1982")), "substance",
     "model 'domino1982' does not take esketamine"),
    (edited(no_duration(), lambda d: d.update(model="domino1982") or d["doses"][0].update(
        route="oral")), "doses[0].route",
     "takes racemic only by iv_bolus, iv_infusion"),
    (edited(SINGLE, lambda d: d.pop("substance")), "doses[0].substance", "no substance given"),
    (edited(SINGLE, lambda d: d.pop("doses")), "doses, arms", "give exactly one"),
    (edited(SINGLE, lambda d: d.update(arms=TWO_ARMS["arms"])), "doses, arms", "exactly one"),
    (edited(SINGLE, lambda d: d.update(doses=[])), "doses", "must not be empty, got []"),
    (edited(SINGLE, lambda d: d.update(doses=["x"])), "doses[0]", "expected a table of keys"),
    (edited(SINGLE, lambda d: d.update(output="28 d")), "output", "expected a table of keys"),
    (edited(SINGLE, lambda d: d.update(doses={"route": "im"})), "doses", "valid list"),
    (edited(SINGLE, lambda d: d.pop("population")), "population", "required key is missing"),
    (edited(SINGLE, lambda d: d["population"].update(n=0)), "population.n", "1 to 10,000,000"),
    (edited(SINGLE, lambda d: d["population"].update(n=10_000_001)), "population.n",
     "1 to 10,000,000"),
    (edited(SINGLE, lambda d: d["population"].update(n=-3)), "population.n", "1 to 10,000,000"),
    (edited(SINGLE, lambda d: d["population"].update(n="1000")), "population.n", "integer"),
    (edited(SINGLE, lambda d: d["population"].update(n=True)), "population.n", "integer"),
    (edited(SINGLE, lambda d: d["population"].update(weight_kg=0.5)), "population.weight_kg",
     "from 1 to 400"),
    (edited(SINGLE, lambda d: d["population"].update(weight_kg=401)), "population.weight_kg",
     "from 1 to 400"),
    (edited(SINGLE, lambda d: d["population"].update(weight_kg=float("nan"))),
     "population.weight_kg", "from 1 to 400"),
    (edited(SINGLE, lambda d: d["population"].update(weight_kg="80 kg")),
     "population.weight_kg", "valid number"),
    (edited(SINGLE, lambda d: d["population"].update(cohort="kids")), "population.cohort",
     "allowed: trd"),
    (edited(SINGLE, lambda d: d["population"].update(seed=-1)), "population.seed",
     "non-negative"),
    (edited(SINGLE, lambda d: d["population"].update(weight=80)), "population.weight",
     "did you mean 'weight_kg'?"),
    (edited(SINGLE, lambda d: d["output"].update(end="forever")), "output.end", "cannot read"),
    (edited(SINGLE, lambda d: d["output"].update(end="0 h", timepoints=[])), "output.end",
     "must be longer than 0"),
    (edited(SINGLE, lambda d: d["output"].update(end="30 min", timepoints=[])), "output.end",
     "before the last dose of arm 'Single 0.5 mg/kg infusion in TRD' ends (0.666667 h)"),
    (edited(SINGLE, lambda d: d["output"].update(step="0 min")), "output.step",
     "must be longer than 0"),
    (edited(SINGLE, lambda d: d["output"].update(step="-15 min")), "output.step",
     "must be longer than 0"),
    (edited(SINGLE, lambda d: d["output"].update(step="29 d")), "output.step",
     "at most output.end (672 h)"),
    (edited(SINGLE, lambda d: d["output"].update(step="1 s")), "output.step",
     "more than 1,000,000 time points"),
    (edited(SINGLE, lambda d: d["output"].update(step=15)), "output.step", "has no unit"),
    (edited(SINGLE, lambda d: d["output"].update(timepoints=["4 h", "29 d"])),
     "output.timepoints[1]", "outside 0 h to output.end (672 h)"),
    (edited(SINGLE, lambda d: d["output"].update(timepoints=["4 h", "-1 h"])),
     "output.timepoints[1]", "must be 0 or later"),
    (edited(SINGLE, lambda d: d["output"].pop("end")), "output.end", "required key is missing"),
])
def test_single_arm_rejects(doc, names, says):
    fails(doc, names, says)


def arm(index: int, **change):
    return edited(TWO_ARMS, lambda d: d["arms"][index]["doses"][0].update(change))


@pytest.mark.parametrize("doc, names, says", [
    (arm(1, route="oral"), "arms[1].doses[0].route", "model 'domino1982' takes racemic only by"),
    (arm(1, route="sniff"), "arms[1].doses[0].route", "not one of iv_bolus"),
    (arm(1, amount="0.2 mL/kg"), "arms[1].doses[0].amount", "'mL' is milliliter"),
    (arm(0, duration="0 h"), "arms[0].doses[0].duration", "longer than 0"),
    (arm(1, duration="10 min"), "arms[1].doses[0].duration", "only iv_infusion"),
    (arm(1, substance="arketamine"), "arms[1].doses[0].substance",
     "does not take arketamine"),
    (edited(TWO_ARMS, lambda d: d["arms"][1].update(substance="ket")), "arms[1].substance",
     "not one of racemic"),
    (edited(TWO_ARMS, lambda d: d["arms"][1].update(label=d["arms"][0]["label"])),
     "arms[1].label", "is already the label of arms[0]"),
    (edited(TWO_ARMS, lambda d: d["arms"][1].pop("label")), "arms[1].label", "missing"),
    (edited(TWO_ARMS, lambda d: d["arms"][1].update(label=" ")), "arms[1].label",
     "at least 1 character"),
    (edited(TWO_ARMS, lambda d: d["arms"][1].update(dose=[])), "arms[1].dose",
     "did you mean 'doses'?"),
    (edited(TWO_ARMS, lambda d: d["arms"][0]["doses"][0].update(at=["10 d"])), "output.end",
     "before the last dose of arm '0.5 mg/kg over 40 min' ends (240.667 h)"),
    (edited(TWO_ARMS, lambda d: (d.pop("substance"), d["arms"][1].pop("substance"))),
     "arms[0].doses[0].substance", "on the dose, its arm or the file"),
])
def test_arms_reject(doc, names, says):
    fails(doc, names, says)


def test_unsupported_route_names_models_that_take_it(two_models):
    doc = edited(TWO_ARMS, lambda d: d["arms"][1].update(
        substance="esketamine", doses=[{"route": "intranasal", "amount": "56 mg"}]))
    fails(doc, "arms[1].substance", "model 'domino1982' does not take esketamine, so not "
          "esketamine by intranasal; models that do: nasal2024")


def test_several_pydantic_errors_are_one_line_misspelt_key_first():
    def change(doc):
        doc["population"].update(n="many", seed="x")
        doc["output"]["typo"] = 1
    fails(edited(SINGLE, change), "output.typo", "unknown key; allowed: end, step, timepoints "
          "(and 2 more errors)")
    fails(edited(SINGLE, lambda d: d["population"].update(n="x", seed="y")), "population.n",
          "got 'x' (and 1 more error)")


@pytest.mark.parametrize("doc", [[], "name = 'x'", None])
def test_document_must_be_a_table(doc):
    fails(doc, "scenario", "expected a table of keys")


# -- files ---------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    path = tmp_path / "nothere.toml"
    with pytest.raises(ScenarioError, match=r"^scenario file not found: .*nothere\.toml$"):
        load_scenario(path)


def test_malformed_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\n[[doses]\nroute = 1\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid TOML: ") and "line 2" in message
    assert "\n" not in message


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(path)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path)


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text((EXAMPLES / "single_infusion.toml").read_text().replace("n = 1000", "n = 0"))
    with pytest.raises(ScenarioError, match=r"s\.toml: population\.n: must be an integer from 1"):
        load_scenario(path)


# -- Output and Scenario as Python objects --------------------------------------------------
def test_output_times_grid_is_exact_multiples():
    times = Output(end_h=1.0, step_h=0.1).times()
    assert times.tolist() == [k * 0.1 for k in range(10)] + [1.0]


def test_output_times_adds_end_and_timepoints_once():
    output = Output(end_h=1.0, step_h=0.4, timepoints_h=(0.5, 0.4, 0.5))
    assert output.times().tolist() == [0.0, 0.4, 0.5, 0.8, 1.0]


def test_output_times_snap_timepoints_onto_the_grid():
    times = Output(end_h=1.0, step_h=0.1, timepoints_h=(0.3,)).times().tolist()
    assert 3 * 0.1 != 0.3 and 0.3 in times and 3 * 0.1 not in times
    assert len(times) == 11


@pytest.mark.parametrize("kwargs, names, says", [
    ({"end_h": 0.0, "step_h": 1.0}, "output.end", "after 0 h"),
    ({"end_h": float("inf"), "step_h": 1.0}, "output.end", "finite"),
    ({"end_h": "1 d", "step_h": 1.0}, "output.end", "expected a number"),
    ({"end_h": 10.0, "step_h": 0.0}, "output.step", "more than 0 h"),
    ({"end_h": 10.0, "step_h": 11.0}, "output.step", "at most output.end (10 h)"),
    ({"end_h": 10.0, "step_h": float("nan")}, "output.step", "finite"),
    ({"end_h": 10.0, "step_h": 1.0, "timepoints_h": (-1.0,)}, "output.timepoints[0]",
     "outside 0 h"),
    ({"end_h": 10.0, "step_h": 1.0, "timepoints_h": 5.0}, "output.timepoints", "a list"),
])
def test_output_rejects(kwargs, names, says):
    with pytest.raises(ScenarioError) as info:
        Output(**kwargs)
    assert str(info.value).startswith(f"{names}: ") and says in str(info.value)


def test_scenario_checks_arms_against_output():
    arm = Arm("a", Regimen((INFUSION,)))
    population = Population(n=1)
    with pytest.raises(ScenarioError, match=r"^output\.end: 0\.5 h is before the last dose"):
        Scenario("s", DEFAULT_MODEL, (arm,), population, Output(0.5, 0.25), 0)
    with pytest.raises(ScenarioError, match=r"^arms\[1\]\.label: 'a' is already the label"):
        Scenario("s", DEFAULT_MODEL, (arm, arm), population, Output(1.0, 0.25), 0)
    with pytest.raises(ScenarioError, match=r"^arms: a scenario needs at least one arm"):
        Scenario("s", DEFAULT_MODEL, (), population, Output(1.0, 0.25), 0)
    with pytest.raises(ScenarioError, match=r"^label: must be a non-empty text"):
        Arm(" ", Regimen((INFUSION,)))
    with pytest.raises(KetasimError, match=r"^model: unknown 'x'; allowed: racemic_sr, perez"):
        Scenario("s", "x", (arm,), population, Output(1.0, 0.25), 0)
