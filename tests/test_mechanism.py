"""The mechanism layers on racemic_sr: time-course anchors of mechanism.md, knockouts,
dose-response, other PK models, SBML export. One typical 70-kg subject, 0.5 mg/kg IV over 40 min
unless stated."""

import html
from pathlib import Path

import libsbml
import numpy as np
import pytest

import ketasim
from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError
from ketasim.modeling import kernel
from ketasim.models import get_model
from ketasim.models.mechanism import with_mechanism
from ketasim.models.mechanism.receptor import KI_UM
from ketasim.population.sampling import Population

# the drug alone: expectancy off (placebo and expectancy: tests/test_comparators.py)
MODEL = with_mechanism(get_model("racemic_sr")).typical().with_parameters(w_expectancy=0.0)
# 1-min grid over the first 3 h, then the anchors
TIMES = np.concatenate([np.arange(0, 3 + 1e-9, 1 / 60), [4, 6, 12, 24, 36, 48, 72, 168, 336]])
DOCS = Path(__file__).parents[1] / "docs" / "models" / "mechanism.md"
REFERENCE = DOCS.parent / "reference" / "racemic_sr+mechanism.md"


def infusion(dose=0.5, substance="racemic"):
    return Dose(substance, "iv_infusion", dose, per_kg=True, duration_h=2 / 3)


def run(model=MODEL, dose=0.5, substance="racemic", regimen=None, times=TIMES):
    regimen = regimen or Regimen((infusion(dose, substance),))
    res = ketasim.simulate(model, regimen, Population(1, fixed={"weight_kg": 70.0}), times)
    return {k: res[k].to_numpy()[0] for k in res.data_vars if "time" in res[k].dims}


def at(res, name, t):
    return res[name][np.argmin(np.abs(TIMES - t))]


@pytest.fixture(scope="module")
def intact():
    return run()


def test_composed_model_is_named_and_has_the_outputs():
    assert MODEL.name == "racemic_sr+mechanism"
    for o in ("nmda_occupancy", "nmda_occupancy_pyramidal", "glutamate_rel", "bdnf_rel",
              "spine_density_rel", "inflammation_index", "depression_severity"):
        assert o in MODEL.outputs


def test_occupancy_rises_with_dose_interneurons_first_and_s_more_potent(intact):
    peaks = [run(dose=d)["nmda_occupancy"].max() for d in (0.25, 0.5, 1.0)]
    assert peaks[0] < peaks[1] < peaks[2]
    # 0.5 mg/kg: ~1 uM brain blocks ~50% (Gerhard 2020); accept 40-75%
    assert 0.40 < peaks[1] < 0.75
    assert intact["nmda_occupancy_pyramidal"].max() < 0.3 * peaks[1]
    s = run(dose=0.25, substance="esketamine")["nmda_occupancy"].max()
    r = run(dose=0.25, substance="arketamine")["nmda_occupancy"].max()
    assert s > 2 * r  # Ki 0.30 vs 1.4 uM (Ebert 1997)


def test_block_equilibrates_within_minutes_and_trapped_block_outlasts_the_drug(intact):
    x = sum(intact[f"{s}_brain_um"] / KI_UM[s][0] for s in
            ("s_ketamine", "r_ketamine", "s_norketamine", "r_norketamine"))
    equilibrium = x / (1 + x)
    occ = intact["nmda_occupancy"]
    i40, i120 = np.argmin(np.abs(TIMES - 2 / 3)), np.argmin(np.abs(TIMES - 2))
    # at the end of the infusion block lags its equilibrium by less than a third
    assert occ[i40] > 0.67 * equilibrium[i40]
    # after the drug falls, trapped block stays above the equilibrium of the current level and
    # falls through 45% some 5-40 min later than the equilibrium does
    assert occ[i120] > equilibrium[i120]
    after = TIMES > 1.0
    lag_min = 60 * (TIMES[after][np.argmax(occ[after] < 0.45)]
                    - TIMES[after][np.argmax(equilibrium[after] < 0.45)])
    assert 5 <= lag_min <= 40, lag_min


def test_glutamate_surge_peaks_early_and_is_gone_by_3_h(intact):
    g = intact["glutamate_rel"]
    i = np.argmax(g)
    assert 0.25 <= TIMES[i] <= 0.75  # 15-45 min (Milak 2016: ~26 min)
    assert 1.13 <= g[i] <= 1.38  # +13% (Abdallah 2018) to +38% (Milak 2016)
    assert abs(at(intact, "glutamate_rel", 3) - 1) < 0.10  # PCC 2021, 193 min
    assert abs(at(intact, "glutamate_rel", 24) - 1) < 0.01  # pgACC 7T 2018


def test_24_h_effect_falls_at_anaesthetic_doses():
    effect = {d: 1 - at(run(dose=d), "depression_severity", 24) for d in (2.0, 10.0)}
    # strict fall; the hand-set margin of 0.01 was dropped when w_slow was fitted (4.03,
    # docs/validation/calibration.md): a larger effect is compressed by exp(-F) (now 0.005)
    assert effect[10.0] < effect[2.0]


@pytest.mark.xfail(strict=True, reason="known miss: the surge is driven by the rise of "
                   "disinhibition, which is steeper at high doses; slower pyramidal block does "
                   "not cancel it in time (docs/models/mechanism.md, Known misses)")
def test_glutamate_peak_is_an_inverted_u_of_dose():
    peak = {d: run(dose=d)["glutamate_rel"].max() for d in (1.0, 10.0)}
    assert peak[10.0] < peak[1.0]  # Moghaddam 1997: high doses raise glutamate less


def test_bdnf_rises_within_hours_and_is_gone_by_24_h(intact):
    assert at(intact, "bdnf_rel", 1) > 1.03 and at(intact, "bdnf_rel", 2) > 1.05
    assert at(intact, "bdnf_rel", 24) < 1.01  # Gideons 2014: gone by 24 h


def test_spines_form_at_12_24_h_not_3_6_h(intact):
    new = intact["new_spines_rel"]
    assert at(intact, "new_spines_rel", 24) > 3 * max(at(intact, "new_spines_rel", 6), 1e-9)
    assert at(intact, "new_spines_rel", 3) < 0.02
    lost = 0.3  # stress_synapse_loss at the TRD default stress = 1
    assert 0.3 < at(intact, "new_spines_rel", 24) / lost < 0.8  # "about half" (Moda-Sava)
    assert new[-1] < 0.5 * new.max()  # Duman 2014: lost after ~10 days


def test_severity_time_course_after_one_dose(intact):
    sev = intact["depression_severity"]
    assert at(intact, "depression_severity", 4) < 0.95  # onset within hours
    assert 12 <= TIMES[np.argmin(sev)] <= 48  # peak effect near 24 h
    # the drug alone (expectancy off): Murrough 2013 AJP, ketamine minus midazolam -7.95 of
    # ~32 MADRS points at 24 h, severity ~0.75 on average; the typical (median) subject of a
    # right-skewed responsiveness responds less
    assert 0.7 < sev.min() < 0.9
    assert at(intact, "depression_severity", 336) >= 0.9  # back by 14 d
    # no longer superior to placebo at 10-12 days (Kishimoto 2016): less than 0.4 of the peak
    # drug effect remains at day 14
    assert 1 - at(intact, "depression_severity", 336) < 0.4 * (1 - sev.min())


@pytest.mark.parametrize("switch", ["ampa_block", "interneuron_nmda_knockdown"])
def test_ampa_block_and_pyramidal_only_block_abolish_the_effect(switch):
    sev = run(MODEL.with_parameters(**{switch: 1.0}))["depression_severity"]
    assert sev.min() > 0.98


def test_bdnf_block_abolishes_the_24_h_effect(intact):
    res = run(MODEL.with_parameters(bdnf_block=1.0))
    assert at(res, "depression_severity", 24) > 0.97  # Lepack 2015: FST at 24 h
    assert res["new_spines_rel"].max() < 1e-9


def test_rapamycin_spares_the_initial_but_abolishes_the_sustained_effect(intact):
    res = run(MODEL.with_parameters(rapamycin=1.0))
    assert at(res, "depression_severity", 2) == pytest.approx(
        at(intact, "depression_severity", 2), abs=0.01)
    assert at(res, "depression_severity", 2) < 0.95
    for t in (24, 72, 168):
        assert at(res, "depression_severity", t) > 0.97
    assert res["new_spines_rel"].max() < 1e-9


def test_val66met_blunts_the_effect(intact):
    effect = 1 - at(intact, "depression_severity", 24)
    met = 1 - at(run(MODEL.with_parameters(bdnf_val66met=0.3)), "depression_severity", 24)
    assert 0.1 * effect < met < 0.8 * effect


def test_24_h_effect_rises_with_dose_over_the_antidepressant_range():
    effects = [1 - at(run(dose=d), "depression_severity", 24) for d in (0.1, 0.25, 0.5, 0.75, 1.0)]
    assert np.all(np.diff(effects) > 0), effects


def test_no_sustained_effect_without_stress_related_synapse_loss():
    res = run(MODEL.with_parameters(stress=0.0))
    assert res["new_spines_rel"].max() < 1e-9 and at(res, "depression_severity", 72) > 0.97


def test_inflammation_rises_after_one_dose_and_falls_after_a_course():
    one = run(times=[0.0, 24.0, 72.0])
    assert one["inflammation_index"][1] > 1.1 * one["inflammation_index"][0]  # Park 2017
    course = Regimen.repeated(infusion(), [0, 48, 96, 192, 240, 288])  # 6 in 2 weeks
    six = run(regimen=course, times=[0.0, 13 * 24.0, 26 * 24.0])
    assert six["inflammation_index"][1] < 0.9 * six["inflammation_index"][0]  # Zhan 2020


def test_a_course_prolongs_the_effect(intact):
    course = Regimen.repeated(infusion(), [0, 48, 96, 192, 240, 288])
    six = run(regimen=course, times=[0.0, 288 + 7 * 24.0])
    assert 1 - six["depression_severity"][1] > 1 - at(intact, "depression_severity", 168)


def test_hnk_switch_acts_through_norketamine_and_needs_ampa():
    on = MODEL.with_parameters(hnk_nmda_independent=1.0)
    assert run(on)["glutamate_rel"][60:].max() > run()["glutamate_rel"][60:].max()
    blocked = run(on.with_parameters(interneuron_nmda_knockdown=1.0, ampa_block=1.0))
    assert blocked["depression_severity"].min() > 0.98


@pytest.mark.parametrize("name, species, hnk", [("perez_ruixo2021", "ki_nmda_s_ketamine", True),
                                                ("domino1982", "ki_nmda_ketamine", False)])
def test_other_pk_models_bind_the_species_they_have(name, species, hnk):
    model = with_mechanism(get_model(name)).typical()
    assert species in model.parameter_names
    assert ("hnk_nmda_independent" in model.parameter_names) == hnk
    if not hnk:
        with pytest.raises(KetasimError, match="hnk_nmda_independent"):
            model.with_parameters(hnk_nmda_independent=1.0)


@pytest.mark.slow
def test_racemic_only_pk_gives_an_effect():
    model = with_mechanism(get_model("domino1982")).typical()
    res = ketasim.simulate(model, Regimen((infusion(),)), Population(1, fixed={
        "weight_kg": 70.0, "age_y": 40.0}), [0.0, 24.0])
    assert res["depression_severity"].to_numpy()[0, 1] < 0.9


def test_exports_valid_sbml_with_sources_and_the_kernel_compiles():
    assert kernel.load(MODEL) is not None
    doc = libsbml.readSBMLFromString(ketasim.to_sbml(MODEL))
    doc.checkConsistency()
    errors = [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert not errors
    for p in MODEL.parameters:
        notes = html.unescape(doc.getModel().getParameter(p.name).getNotesString())
        assert p.source.split(",")[0] in notes


def test_every_mechanism_parameter_is_documented():
    """Each parameter has a row with its source in the generated reference that mechanism.md
    points to (test_docs checks that the page is the models' own output)."""
    assert "reference/racemic_sr+mechanism.md" in DOCS.read_text()
    rows = {cells[1].strip(): cells[5].strip() for line in REFERENCE.read_text().splitlines()
            if line.startswith("| ") and len(cells := line.split("|")) > 6}
    missing = [p.name for p in MODEL.parameters if not rows.get(p.name)]
    assert not missing
    later = [p for p in MODEL.parameters if "calibrated later" in p.description]
    assert len(later) >= 10
