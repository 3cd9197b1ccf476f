"""What the benchmarks share: timing and how libRoadRunner is set up."""

import time

import libsbml
import numpy as np
import roadrunner

from ketasim.modeling.sbml import to_sbml


def best_of(repeat: int, fn, *args):
    """(shortest wall time of ``repeat`` calls in s, result of the last call)."""
    best, result = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, result


def load_roadrunner(model, events, rtol: float, atol: float) -> roadrunner.RoadRunner:
    """libRoadRunner (CVODE) on the SBML of ``model`` with ``events`` ((time h, state, "bolus" |
    "rate"), as :func:`ketasim.modeling.sbml.to_sbml` takes them), each event's value a
    parameter ``dose_value_<j>`` to set per subject, so one loaded model serves every subject;
    ``atol`` for each state (a scalar would be rescaled by roadrunner)."""
    doc = libsbml.readSBMLFromString(to_sbml(model, {}, [(*e, 1.0) for e in events]))
    m = doc.getModel()
    for j, (_, state, kind) in enumerate(events):
        value = m.createParameter()
        value.setId(f"dose_value_{j}")
        value.setConstant(True)
        value.setValue(0.0)
        target = state if kind == "bolus" else f"input_{state}"
        m.getEvent(f"dose_{j}").getEventAssignment(0).setMath(
            libsbml.parseL3Formula(f"{target} + dose_value_{j}"))
    rr = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))
    rr.integrator.relative_tolerance = rtol
    rr.integrator.setValue("absolute_tolerance", [atol] * len(model.states))
    rr.integrator.maximum_num_steps = 1_000_000
    return rr
