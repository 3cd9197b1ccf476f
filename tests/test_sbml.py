"""The exported SBML, simulated by libRoadRunner (an independent solver), agrees with the engine
within 1e-5 relative."""

import html

import libsbml
import numpy as np
import pk_cases as pc
import pytest

from ketasim.dosing import Dose, Regimen
from ketasim.modeling import kernel
from ketasim.modeling.sbml import to_sbml
from ketasim.models import MODEL_NAMES, get_model
from ketasim.population.sampling import Population
from ketasim.simulation import engine
from ketasim.simulation.engine import simulate

roadrunner = pytest.importorskip("roadrunner")

# output times chosen off the dose times: at an event time SBML tools may report either side
TIMES = np.linspace(0.05, 30.05, 61)


def roadrunner_vs_engine(model, regimen, population, output):
    res = simulate(model, regimen, population, TIMES, rtol=1e-10, atol=1e-12)
    subjects = population.sample(model)
    t, state, kind, value, count = engine.dose_events(model, [regimen], subjects, 0, 1,
                                                      kernel.load(model))
    events = [(t[0, j], model.state_names[state[0, j]], ("bolus", "rate")[kind[0, j]],
               value[0, j]) for j in range(count[0])]
    names = (*model.parameter_names, *model.covariate_names)
    values = dict(zip(names, subjects.params[0], strict=True))
    rr = roadrunner.RoadRunner(to_sbml(model, values, events))
    rr.integrator.relative_tolerance = 1e-11
    rr.integrator.absolute_tolerance = 1e-14
    rr.integrator.maximum_num_steps = 100000
    sim = rr.simulate(times=[0.0, *TIMES], selections=["time", output])
    expected = np.asarray(sim[1:, 1])
    actual = res[output].to_numpy()[0]
    return actual, expected


@pytest.mark.parametrize("compartments", [1, 2, 3])
def test_linear_models_with_depot_agree_with_roadrunner(compartments):
    model = pc.model(compartments, depot=True, lag=0.3)
    reg = Regimen((Dose("racemic", "oral", 100.0), Dose("racemic", "iv_bolus", 20.0, time_h=8.0),
                   Dose("racemic", "iv_infusion", 30.0, time_h=12.0, duration_h=2.0)))
    actual, expected = roadrunner_vs_engine(model, reg, Population(1), "ketamine_plasma_ng_ml")
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


def test_domino_agrees_with_roadrunner_for_a_drawn_subject():
    reg = Regimen.repeated(Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=2 / 3),
                           [0.0, 24.0])
    actual, expected = roadrunner_vs_engine(get_model("domino1982"), reg, Population(1, seed=11),
                                            "ketamine_plasma_ng_ml")
    np.testing.assert_allclose(actual, expected, rtol=1e-5)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_exports_valid_sbml_with_sources(name):
    text = to_sbml(get_model(name))
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert not errors, [e.getMessage() for e in errors]
    for p in get_model(name).parameters:
        notes = html.unescape(doc.getModel().getParameter(p.name).getNotesString())
        assert p.source.split(",")[0] in notes


@pytest.mark.slow
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_agrees_with_roadrunner(name):
    """Each built-in model, one subject with its variability, a dose by each of its routes."""
    model = get_model(name)
    substance = next(s for s in ("racemic", "esketamine") if model.routes_for(s))
    doses = tuple(Dose(substance, route, 20.0, time_h=2.0 * k,
                       duration_h=0.5 if route == "iv_infusion" else None)
                  for k, route in enumerate(model.routes_for(substance)))
    if model.routes_for("placebo"):  # the mechanism's expectancy and antidepressant layers
        doses += (Dose("placebo", "intranasal", None, time_h=1.0),
                  Dose("midazolam", "iv_bolus", 3.0, time_h=3.0),
                  Dose("ssri", "oral", 10.0, time_h=5.0), Dose("snri", "oral", 75.0, time_h=7.0))
    child = name in ("herd2007", "hornik2018")
    pop = Population(1, seed=2, fixed={"age_y": 8.0 if child else 40.0,
                                       "weight_kg": 30.0 if child else 70.0})
    for output in ("ketamine_plasma_ng_ml", "norketamine_plasma_ng_ml", "ketamine_brain_ng_ml",
                   "nmda_occupancy", "bdnf_rel", "spine_density_rel", "depression_severity",
                   "cadss", "expectancy_effect", "sert_occupancy"):
        if output in model.outputs:
            actual, expected = roadrunner_vs_engine(model, Regimen(doses), pop, output)
            np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-7)
