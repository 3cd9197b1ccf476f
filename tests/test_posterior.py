"""The shipped posterior matches the model and the calibration problem: names, bounds, the
model's values (its MAP), the arms of the likelihood, and (slow) each draw's recorded
likelihood recomputed from a fresh simulation; a tiny run of the sampler."""

import math

import numpy as np
import pytest

from ketasim.evidence import posterior as post
from ketasim.evidence.calibrate import BOUNDS
from ketasim.evidence.likelihood import TAU_CHANGE, TAU_LOGIT
from ketasim.evidence.validate import current_values


@pytest.fixture(scope="module")
def doc():
    return post.load_posterior()


def test_posterior_names_bounds_and_draws(doc):
    assert doc["names"] == list(post.PARAMETERS) == list(current_values())
    assert len(doc["draws"]) >= 100
    for d in doc["draws"]:
        for k, x in d["values"].items():
            assert BOUNDS[k][0] <= x <= BOUNDS[k][1], (k, x)
        assert d["tau_change"] in TAU_CHANGE and d["tau_logit"] in TAU_LOGIT
        assert d["marginal_nll"] >= doc["map_nll"] - 1e-9
    assert doc["tau_change_grid"] == TAU_CHANGE.tolist()


def test_the_models_values_are_the_posteriors_map(doc):
    """Fails after scripts/calibrate.py until its MAP is copied into the model files."""
    for k, v in current_values().items():
        assert v == pytest.approx(float(f"{doc['map'][k]:.4g}"), rel=1e-12), k


def test_posterior_arms_are_the_calibrations(doc):
    fitted = post.fitted_endpoints()
    assert doc["targets"] == [e.target.label for e in fitted]
    assert doc["studies"] == sorted({e.target.group for e in fitted})
    assert {e.source for e in fitted} == {"calibration", "literature"}
    assert all(set(d["study_nll"]) == set(doc["studies"]) for d in doc["draws"])


@pytest.mark.slow
def test_a_draws_likelihood_is_reproduced_by_a_fresh_simulation(doc):
    """Common random numbers: the same seed and n give the same simulated targets, so the
    recorded marginal and per-arm NLL come back (tolerance 1e-6)."""
    s = doc["settings"]
    problem = post.Problem(post.fitted_endpoints(), s["n_subjects"], s["seed"])
    d = doc["draws"][len(doc["draws"]) // 2]
    x = np.log([d["values"][k] for k in post.PARAMETERS])
    log_p, sim = problem.log_probability(x)
    assert -log_p == pytest.approx(d["marginal_nll"], rel=1e-6)
    per_study = problem.likelihood.study_nll(sim, d["tau_change"], d["tau_logit"])
    assert per_study == pytest.approx([d["study_nll"][a] for a in problem.likelihood.groups],
                                    rel=1e-6)


@pytest.mark.slow
def test_a_tiny_sampler_run_keeps_its_draws_inside_the_bounds_and_its_map_best():
    few = [e for e in post.fitted_endpoints() if e.study == "murrough2013_ajp"]
    settings = post.Settings(n_subjects=40, popsize=2, maxiter=1, walkers=10, steps=3, burn=1,
                             workers=2)
    out = post.sample(few, settings, log=lambda _: None)
    assert len(out["draws"]) == settings.walkers * (settings.steps - settings.burn)
    assert out["studies"] == ["murrough2013_ajp"]
    assert all(math.isfinite(d["marginal_nll"]) and d["marginal_nll"] >= out["map_nll"] - 1e-9
               for d in out["draws"])
    for d in out["draws"]:
        assert all(BOUNDS[k][0] <= v <= BOUNDS[k][1] for k, v in d["values"].items())
        assert sum(d["study_nll"].values()) > 0
