"""Patient variants from the scenario file, and bounds on parameters users set."""

import pytest

import ketasim as ks
from ketasim.errors import KetasimError, ScenarioError

DOC = {"name": "v", "substance": "racemic", "model": "racemic_sr+mechanism",
       "doses": [{"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min"}],
       "population": {"n": 200, "seed": 1, "age_y": 40},
       "output": {"end": "8 d", "step": "1 h", "timepoints": ["24 h", "7 d"]}}


def change_at_24_h(variants):
    arm = ks.run_scenario(ks.parse_scenario({**DOC, "variants": variants}))[0]
    return arm.outcomes.on("madrs")[0].mean_change


@pytest.mark.parametrize("variant", [{"bdnf_val66met": "met/met"}, {"inflammation": "high"},
                                     {"benzodiazepine": True}])
def test_variants_with_evidence_of_a_blunted_response_blunt_it(variant):
    """Met/Met (Laje 2012), high inflammation (Osimo 2019 group), benzodiazepines above 8 mg
    diazepam-equivalent (Andrashko 2020): a smaller mean MADRS improvement at 24 h."""
    assert change_at_24_h(variant) > change_at_24_h({}) + 1.0


def test_lamotrigine_changes_nothing_as_published():
    """Mathew 2010: lamotrigine pretreatment did not alter ketamine's effect."""
    assert change_at_24_h({"lamotrigine": True}) == change_at_24_h({})


@pytest.mark.parametrize("variants, says", [
    ({"bdnf": "x"}, "variants.bdnf: unknown variant; allowed: bdnf_val66met"),
    ({"bdnf_val66met": "met"}, "variants.bdnf_val66met: 'met' is not one of"),
    ({"benzodiazepine": 2}, "variants.benzodiazepine: 2 is not one of false, true"),
])
def test_bad_variants_are_one_line_errors(variants, says):
    with pytest.raises(ScenarioError, match=says.replace("(", r"\(")):
        ks.parse_scenario({**DOC, "variants": variants})


def test_variants_need_a_mechanism_model():
    with pytest.raises(ScenarioError, match="use a '\\+mechanism' model"):
        ks.parse_scenario({**DOC, "model": "racemic_sr", "variants": {"benzodiazepine": True}})


@pytest.mark.parametrize("name, value, says", [
    ("k_spine", -1.0, "must be a number >= 0"),
    ("ampa_block", 1.5, "must be 0 to 1"),
    ("tau_bdnf", float("nan"), "must be a number >= 0"),
])
def test_user_parameters_outside_physical_ranges_are_rejected(name, value, says):
    with pytest.raises(KetasimError, match=f"parameters.{name}: {says}"):
        ks.get_model("racemic_sr+mechanism").with_parameters(**{name: value})


def test_the_scenarios_model_carries_its_variants():
    """Runs, summaries and figures all use the model with the variants applied."""
    sc = ks.parse_scenario({**DOC, "variants": {"bdnf_val66met": "met/met"}})
    values = dict(zip(sc.resolved_model().parameter_names,
                      (p.value for p in sc.resolved_model().parameters), strict=True))
    assert values["bdnf_val66met"] == 0.3
