"""Virtual populations: clinical attributes per cohort (prevalences, correlations), the new
cohorts, screening (n kept, criteria met, the clinic's baseline MADRS is the screened one, chunk
independence, one-line errors), contraindication warnings, earlier populations unchanged."""

import numpy as np
import pytest
import xarray as xr
from scipy.special import ndtr

import ketasim as ks
from ketasim.clinical import scales as sc
from ketasim.clinical.safety import CONTRAINDICATIONS, contraindication_warnings
from ketasim.clinical.visits import Visits
from ketasim.dosing import Dose, Regimen
from ketasim.errors import ScenarioError
from ketasim.models.mechanism.mood import SEVERITY
from ketasim.population import cohorts as pop
from ketasim.population.cohorts import ATTRIBUTES, COHORTS
from ketasim.population.sampling import Population
from ketasim.scenario.files import parse_scenario
from ketasim.simulation import engine
from ketasim.simulation.runner import run_scenario

N = 200_000
#: Binomial SE of a share at N draws is at most 0.0011; 0.005 is 4.5 SE.
SHARE_TOL = 0.005
PK = ks.get_model("domino1982")
INFUSION = Regimen((Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=40 / 60),))


def draw(cohort="trd", n=N, seed=1, **kw):
    return Population(n, cohort=cohort, seed=seed, **kw).draw_covariates(
        np.random.default_rng(seed))


def expected_hypertension(age, scale=1.0):
    bounds, shares = np.array(pop.UNCONTROLLED_HYPERTENSION).T
    return scale * shares[np.searchsorted(bounds, age, side="right") - 1]


# --- attributes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cohort", list(COHORTS))
def test_prevalences_recovered(cohort):
    k = COHORTS[cohort].clinical
    cov = draw(cohort)
    for name, p in (("bipolar", k.p_bipolar), ("anxiety", k.p_anxiety),
                    ("psychosis", k.p_psychosis), ("substance_use", k.p_substance_use)):
        assert cov[name].mean() == pytest.approx(p, abs=SHARE_TOL), name
    expected = expected_hypertension(cov["age_y"].to_numpy(), k.hypertension_scale).mean()
    assert cov["hypertension"].mean() == pytest.approx(expected, abs=SHARE_TOL)
    assert set(np.unique(cov[list(ATTRIBUTES)])) <= {0.0, 1.0}
    crp = cov["crp_mg_l"]
    above_1, above_3 = ndtr(-np.log([1 / k.crp_median_mg_l, 3 / k.crp_median_mg_l])
                            / k.crp_log_sd)
    assert (crp > 1).mean() == pytest.approx(above_1, abs=SHARE_TOL)
    assert (crp > 3).mean() == pytest.approx(above_3, abs=SHARE_TOL)
    assert k.source


def test_crp_matches_osimo_2019():
    # depressed: 58% above 1 mg/L, 27% above 3 mg/L; controls from the odds ratios 1.47, 1.46
    for cohort, above_1, above_3 in (("trd", 0.58, 0.27), ("healthy", 0.484, 0.202)):
        crp = draw(cohort)["crp_mg_l"]
        assert (crp > 1).mean() == pytest.approx(above_1, abs=SHARE_TOL)
        assert (crp > 3).mean() == pytest.approx(above_3, abs=SHARE_TOL)


def test_trd_shares_are_the_cited_ones():
    k = COHORTS["trd"].clinical
    assert (k.p_bipolar, k.p_anxiety, k.p_psychosis, k.p_substance_use) == \
        (14 / 49, 0.212, 0.109, 0.28)
    # the cohort is defined as at least two failed adequate antidepressant trials
    assert "at least two failed adequate antidepressant trials" in COHORTS["trd"].source


def test_hypertension_rises_with_age_by_band():
    cov = draw("trd")
    age, hyp = cov["age_y"].to_numpy(), cov["hypertension"].to_numpy()
    for lo, hi, share in ((18, 40, 0.075 * 0.517), (40, 60, 0.332 * 0.517),
                          (60, 120, 0.631 * 0.517)):
        band = (age >= lo) & (age < hi)
        se = np.sqrt(share * (1 - share) / band.sum())
        assert hyp[band].mean() == pytest.approx(share, abs=4.5 * se)
    assert np.corrcoef(age, hyp)[0, 1] > 0.15


def test_substance_use_odds_ratio_with_bipolar_recovered():
    cov = draw("trd")
    b, s = cov["bipolar"] == 1, cov["substance_use"] == 1
    a, bb, c, d = (b & s).sum(), (b & ~s).sum(), (~b & s).sum(), (~b & ~s).sum()
    log_or, se = np.log(a * d / (bb * c)), np.sqrt(1 / a + 1 / bb + 1 / c + 1 / d)
    assert log_or == pytest.approx(np.log(pop.SUBSTANCE_USE_OR_BIPOLAR), abs=4.5 * se)
    # the other attributes are drawn independently (stated assumption)
    x, y = cov["bipolar"] == 1, cov["anxiety"] == 1
    a, bb, c, d = (x & y).sum(), (x & ~y).sum(), (~x & y).sum(), (~x & ~y).sum()
    assert abs(np.log(a * d / (bb * c))) < 4.5 * np.sqrt(1 / a + 1 / bb + 1 / c + 1 / d)


def test_fixed_attributes_apply_before_dependent_draws():
    k = COHORTS["trd"].clinical
    cov = draw("trd", fixed={"bipolar": 1, "crp_mg_l": 5.0, "age_y": 70.0})
    assert (cov["bipolar"] == 1).all() and (cov["crp_mg_l"] == 5.0).all()
    unipolar = pop.unipolar_share(k.p_substance_use, k.p_bipolar, pop.SUBSTANCE_USE_OR_BIPOLAR)
    odds = unipolar / (1 - unipolar) * pop.SUBSTANCE_USE_OR_BIPOLAR
    assert cov["substance_use"].mean() == pytest.approx(odds / (1 + odds), abs=SHARE_TOL)
    assert cov["hypertension"].mean() == pytest.approx(0.631 * 0.517, abs=SHARE_TOL)


def test_attributes_of_a_candidate_do_not_depend_on_how_many_are_drawn():
    small = draw("trd", n=100, seed=4, fixed={"age_y": 50.0})
    large = draw("trd", n=5000, seed=4, fixed={"age_y": 50.0})
    cols = [*ATTRIBUTES, "crp_mg_l"]
    assert np.array_equal(small[cols].to_numpy(), large[cols].to_numpy()[:100])


def test_attributes_are_data_variables_of_a_simulation():
    data = ks.simulate(PK, INFUSION, Population(20, seed=2), [0.0, 1.0])
    for name in (*ATTRIBUTES, "crp_mg_l"):
        assert data[name].dims == ("subject",)


# --- new cohorts ---------------------------------------------------------------------------------

def test_adolescent_cohort_ages_and_weight_by_age_and_sex():
    c = COHORTS["adolescent"]
    cov = draw("adolescent")
    assert cov["age_y"].between(12, 18).all()
    ages, boys, girls = np.array(c.weight_by_age).T
    for lo in range(12, 18):
        for female, medians in ((0, boys), (1, girls)):
            sel = cov["age_y"].between(lo, lo + 1) & (cov["female"] == female)
            median = np.interp(cov.loc[sel, "age_y"], ages, medians)
            ratio = np.log(cov.loc[sel, "weight_kg"] / median)
            assert np.median(ratio) == pytest.approx(0.0, abs=0.02)  # log-normal around it
    assert cov["female"].mean() == pytest.approx(2 / 3, abs=SHARE_TOL)
    assert cov["hypertension"].mean() == pytest.approx(0.035, abs=SHARE_TOL)


def test_elderly_cohort_is_transform3():
    cov = draw("elderly")
    assert cov["age_y"].min() >= 65 and cov["age_y"].max() <= 90
    assert cov["female"].mean() == pytest.approx(85 / 137, abs=SHARE_TOL)
    assert "TRANSFORM-3" in COHORTS["elderly"].source
    assert set(sc.RATINGS) == set(COHORTS)


# --- screening -----------------------------------------------------------------------------------

CRITERIA = dict(madrs_min=28, madrs_max=45, exclude=("psychosis", "substance_use", "hypertension"))


def test_screening_keeps_n_and_every_kept_subject_meets_the_criteria():
    p = Population(3000, seed=5, **CRITERIA)
    s = p.sample(PK)
    assert s.ids.size == len(s.covariates) == s.params.shape[0] == 3000
    assert (np.diff(s.ids) > 0).all() and s.ids[-1] > 3000  # global candidate ids, with gaps
    assert (s.covariates[list(CRITERIA["exclude"])] == 0).all().all()
    madrs = sc.baseline_madrs(s.ids, 5, "trd")
    assert madrs.min() >= 28 and madrs.max() <= 45
    # the kept subjects are candidates of the unscreened population with their own values
    count = p._candidates()
    every = Population(count, seed=5).sample(PK)
    assert np.array_equal(every.params[s.ids], s.params)
    assert np.array_equal(every.covariates.iloc[s.ids].to_numpy(), s.covariates.to_numpy())


def test_clinic_rates_kept_subjects_from_the_screened_baseline():
    model = ks.get_model("racemic_sr+mechanism")
    p = Population(40, seed=8, madrs_min=36)
    visits = Visits(np.array([0.0, 24.0]), 8, "trd", ("madrs",))
    ids, severity = [], []
    for chunk in engine.iter_simulate(model, INFUSION, p, [0.0, 24.0]):
        visits.add(chunk)
        ids.append(chunk["subject"].to_numpy())
        severity.append(chunk[SEVERITY].to_numpy())
    ids = np.concatenate(ids)
    assert np.array_equal(ids, p.sample(model).ids)
    rated = visits.ratings()
    assert np.array_equal(np.concatenate(visits.baselines), p.sample(model).covariates[
        "madrs_baseline"])  # the population's attribute, drawn once
    assert np.array_equal(rated.true_baseline["madrs"], sc.baseline_madrs(ids, 8, "trd"))
    assert rated.true_baseline["madrs"].min() >= 36
    drawn = sc.measure(np.concatenate(severity), ids, 8, "trd", ("madrs",))
    assert np.array_equal(rated.scores["madrs"], drawn["madrs"])
    assert SEVERITY in model.outputs


def test_screened_results_do_not_depend_on_chunking(monkeypatch):
    p = Population(50, seed=3, **CRITERIA)
    whole = ks.simulate(PK, INFUSION, p, [0.0, 1.0, 4.0])
    monkeypatch.setattr(engine, "MAX_CHUNK", 7)
    chunks = list(engine.iter_simulate(PK, INFUSION, p, [0.0, 1.0, 4.0]))
    assert len(chunks) == 8
    xr.testing.assert_identical(xr.concat(chunks, dim="subject"), whole)


def test_screening_on_attributes_only_keeps_the_unscreened_draw_when_nobody_is_excluded():
    plain = Population(300, cohort="healthy", seed=2).sample(PK)
    none_to_exclude = Population(300, cohort="healthy", seed=2, exclude=("psychosis",))
    assert np.array_equal(none_to_exclude.sample(PK).params, plain.params)


@pytest.mark.parametrize("kw, key, text", [
    (dict(cohort="anxiety", exclude=("anxiety",)), "population.exclude", "only 0 of cohort"),
    (dict(exclude=("psychosis",), fixed={"psychosis": 1}), "population.exclude",
     "population.psychosis = 1"),
    (dict(exclude=("diabetes",)), "population.exclude",
     "allowed: bipolar, anxiety, psychosis, substance_use, hypertension"),
    (dict(exclude="psychosis"), "population.exclude", "a list"),
    (dict(madrs_min=60), "population.madrs_min", "screening needs at least 0.0001"),
    (dict(madrs_min=61), "population.madrs_min", "from 0 to 60"),
    (dict(madrs_max=19), "population.madrs_max", "only 0 of cohort trd"),
    (dict(madrs_min=40, madrs_max=30), "population.madrs_min", "above population.madrs_max"),
    (dict(madrs_min=True), "population.madrs_min", "from 0 to 60"),
    (dict(n=10_000_000, madrs_min=45), "population.n", "candidates"),
])
def test_impossible_screenings_are_one_line_errors(kw, key, text):
    with pytest.raises(ScenarioError) as err:
        Population(**({"n": 100} | kw))
    message = str(err.value)
    assert message.startswith(key + ":") and text in message and "\n" not in message


def test_the_share_check_uses_the_product_of_the_criteria():
    # each criterion alone keeps enough, together too few: both keys named
    madrs = Population(10, madrs_min=55)._madrs_share
    attributes = Population(10, exclude=ATTRIBUTES, fixed={"age_y": 70.0})._attribute_share
    assert madrs > 1e-4 and attributes > 1e-4 and madrs * attributes < 1e-4
    with pytest.raises(ScenarioError, match=r"^population.exclude, population.madrs_min: "):
        Population(10, madrs_min=55, exclude=ATTRIBUTES, fixed={"age_y": 70.0})


# --- scenario files ------------------------------------------------------------------------------

def scenario(population, model="domino1982", substance="racemic"):
    return {"name": "screened", "substance": substance, "model": model,
            "doses": [{"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min"}],
            "population": {"n": 200, "seed": 4} | population,
            "output": {"end": "8 h", "step": "1 h"}}


def test_scenario_population_keys():
    s = parse_scenario(scenario({"madrs_min": 28, "madrs_max": 50, "psychosis": 0,
                                 "exclude": ["substance_use", "hypertension"],
                                 "crp_mg_l": 2.5}))
    p = s.population
    assert (p.madrs_min, p.madrs_max, p.exclude) == (28, 50, ("substance_use", "hypertension"))
    assert p.fixed == {"psychosis": 0, "crp_mg_l": 2.5}


@pytest.mark.parametrize("population, key, text", [
    ({"exclude": ["psychosis", "gout"]}, "population.exclude", "allowed: bipolar"),
    ({"exclude": "psychosis"}, "population.exclude", "valid list"),
    ({"madrs_min": "28"}, "population.madrs_min", "valid number"),
    ({"psychosis": 2}, "population.psychosis", "0 or 1"),
    ({"crp_mg_l": -1.0}, "population.crp_mg_l", "from 0 to 500"),
    ({"cohort": "anxiety", "exclude": ["anxiety"]}, "population.exclude", "eligible"),
])
def test_scenario_screening_errors_name_the_key(population, key, text):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(scenario(population))
    message = str(err.value)
    assert f"<scenario>: {key}" in message and text in message and "\n" not in message


# --- contraindication warnings -------------------------------------------------------------------

def flagged(warnings):
    lines = [w for w in warnings if "contraindications to ketamine" in w]
    assert len(lines) <= 1  # one line per arm
    return {name for name, (what, _) in CONTRAINDICATIONS.items()
            if any(what in w and f'"{name}"' in w for w in lines)}


def test_contraindication_warnings_count_the_subjects_in_one_line_saying_what_to_do():
    s = parse_scenario(scenario({}))
    (arm,) = run_scenario(s)
    assert flagged(arm.warnings) == set(CONTRAINDICATIONS)
    cov = s.population.sample(PK).covariates
    (line,) = (w for w in arm.warnings if "contraindications" in w)
    counts = ", ".join(f"{int(cov[name].sum())} {what}"
                       for name, (what, _) in CONTRAINDICATIONS.items())
    assert 0 < min(int(cov[name].sum()) for name in CONTRAINDICATIONS) < 200
    assert line == (f"of 200 subjects, {counts}: contraindications to ketamine on its labels; "
                    'to leave them out as trials do, set population.exclude = ["psychosis", '
                    '"substance_use", "hypertension"]')


def test_no_contraindication_warning_once_excluded_or_without_ketamine():
    s = parse_scenario(scenario({"exclude": ["psychosis", "substance_use", "hypertension"]}))
    (arm,) = run_scenario(s)
    assert flagged(arm.warnings) == set()
    s = parse_scenario(scenario({"exclude": ["psychosis"], "hypertension": 0}))
    assert flagged(run_scenario(s)[0].warnings) == {"substance_use"}
    placebo = Regimen((Dose("placebo", "iv_infusion", None, duration_h=40 / 60),))
    assert contraindication_warnings(placebo, dict.fromkeys(CONTRAINDICATIONS, 5), 10) == ()
    assert contraindication_warnings(INFUSION, dict.fromkeys(CONTRAINDICATIONS, 0), 10) == ()


def test_fixed_attributes_are_not_reported_as_unused_by_the_model():
    s = parse_scenario(scenario({"psychosis": 0}))
    assert not any("population.psychosis is set" in w for w in run_scenario(s)[0].warnings)


# --- earlier populations unchanged ---------------------------------------------------------------

def reference_sample(p, model):
    """The draw as it was before the clinical attributes (copied from the earlier code)."""
    c = COHORTS[p.cohort]
    rng = np.random.default_rng(p.seed)
    sigma = np.sqrt(np.log1p(c.weight_cv**2))
    weight = c.weight_median_kg * np.exp(sigma * rng.standard_normal(p.n))
    lo, hi = c.age_range_y
    age = c.age_mean_y + c.age_sd_y * rng.standard_normal(p.n)
    outside = (age < lo) | (age > hi)
    while outside.any():
        age[outside] = c.age_mean_y + c.age_sd_y * rng.standard_normal(outside.sum())
        outside = (age < lo) | (age > hi)
    female = (rng.random(p.n) < c.p_female).astype(float)
    asian = rng.random(p.n) < c.p_asian
    japanese = asian & (rng.random(p.n) < c.p_japanese)
    cov = np.column_stack([weight, age, female, asian, japanese, np.zeros((p.n, 3))])
    names = ["weight_kg", "age_y", "female", "asian", "japanese", "cyp3a_inhibitor",
             "cyp3a_inducer", "cyp2b6_inhibitor"]
    for name, value in p.fixed.items():
        cov[:, names.index(name)] = value
    if p.fixed.get("japanese") == 1:
        cov[:, 3] = 1.0
    var = model.eta_covariance()
    root = np.linalg.cholesky(var + 1e-300 * np.eye(len(var))) if model.correlations else \
        np.diag(np.sqrt(np.diag(var)))
    eta = rng.standard_normal((p.n, len(var))) @ root.T
    return cov, eta


@pytest.mark.parametrize("cohort, seed, fixed", [
    ("trd", 7, {}), ("healthy", 0, {}), ("ptsd", 3, {}), ("ocd", 11, {"age_y": 60.0}),
    ("trd", 11, {"japanese": 1, "age_y": 60.0}), ("suicidal_ideation", 2, {"weight_kg": 80.0}),
])
def test_earlier_populations_are_bit_identical(cohort, seed, fixed):
    model = ks.get_model("perez_ruixo2021")
    p = Population(400, cohort=cohort, seed=seed, fixed=fixed)
    s = p.sample(model)
    cov, eta = reference_sample(p, model)
    assert np.array_equal(s.covariates.iloc[:, :8].to_numpy(), cov)
    assert np.array_equal(s.eta, eta)
    assert np.array_equal(s.ids, np.arange(400))


def test_a_few_values_recorded_before_the_change():
    s = Population(500, seed=7).sample(ks.get_model("racemic_sr"))
    row = s.covariates.iloc[3]
    assert (row["weight_kg"], row["age_y"], row["female"]) == \
        (60.973872036860904, 61.63006995655342, 0.0)
    assert s.eta[3, :2] == pytest.approx([0.03405007, -0.22516889], abs=1e-8)


@pytest.mark.parametrize(("mean", "sd", "madrs_min"), [(37.0, 5.7, 28), (27.0, 4.0, 20),
                                                       (33.0, 8.0, None)])
def test_a_trials_own_baseline_is_recorded_with_its_mean_and_sd(mean, sd, madrs_min):
    """Recorded baseline MADRS (true baseline + the scale's noise) of 4,000 patients: mean and
    SD within 0.3 points of the trial's (SE of the mean ~0.1)."""
    model = ks.get_model("racemic_sr+mechanism")
    p = Population(4000, seed=2, madrs_min=madrs_min, baseline_mean=mean, baseline_sd=sd)
    subjects = p.sample(model)
    true = subjects.covariates["madrs_baseline"].to_numpy()
    recorded = sc.measure(np.ones((true.size, 1)), subjects.ids, 2, p.rating, ("madrs",),
                          true)["madrs"][:, 0]
    assert abs(recorded.mean() - mean) < 0.3 and abs(recorded.std() - sd) < 0.3
    if madrs_min is not None:
        assert true.min() >= madrs_min


@pytest.mark.parametrize(("settings", "message"), [
    ({"baseline_mean": 30.0}, r"^population\.baseline_sd: needed with population\.baseline_mean"),
    ({"baseline_mean": 30.0, "baseline_sd": 1.0}, r"^population\.baseline_sd: must be above"),
    ({"baseline_mean": 25.0, "baseline_sd": 5.0, "madrs_min": 28},
     r"^population\.baseline_mean: 25 is outside"),
    ({"baseline_mean": 30.0, "baseline_sd": 12.0, "madrs_min": 28, "madrs_max": 34},
     r"^population\.baseline_sd: no baseline distribution"),
    ({"baseline_mean": "thirty", "baseline_sd": 5.0}, r"^population\.baseline_mean: must be"),
    ({"age_mean": 12.0}, r"^population\.age_mean: must be years within cohort trd's ages"),
    ({"age_mean": True}, r"^population\.age_mean: must be"),
    ({"female_share": 1.2}, r"^population\.female_share: must be a share from 0 to 1"),
    ({"female_share": float("nan")}, r"^population\.female_share: must be a share"),
])
def test_an_impossible_trial_baseline_is_a_one_line_error(settings, message):
    with pytest.raises(ScenarioError, match=message) as caught:
        Population(10, **settings)
    assert "\n" not in str(caught.value)


def test_a_trials_mean_age_and_share_female_replace_the_cohorts():
    """3,000 patients: the share female within 3 SE; the mean age within 1 year of the
    requested mean (the cohort's age range truncates the normal, moving the mean by < 0.6 y at
    60 y with SD 12 y on 18-86)."""
    table = Population(3000, seed=3, age_mean=60.0, female_share=0.3).draw_covariates(
        np.random.default_rng(1))
    assert abs(table["female"].mean() - 0.3) < 3 * np.sqrt(0.3 * 0.7 / 3000)
    assert abs(table["age_y"].mean() - 60.0) < 1.0
    assert table["age_y"].between(18.0, 86.0).all()


def test_a_scenario_file_sets_the_trials_baseline_and_its_endpoints_start_there():
    doc = {"name": "own baseline", "substance": "placebo", "model": "racemic_sr+mechanism",
           "doses": [{"route": "iv_infusion", "duration": "40 min"}],
           "population": {"n": 800, "seed": 4, "madrs_min": 28, "baseline_mean": 37.0,
                          "baseline_sd": 5.7},
           "output": {"end": "1 d", "step": "1 d", "timepoints": ["24 h"]}}
    (arm,) = ks.run_scenario(parse_scenario(doc))
    assert abs(arm.outcomes.at("madrs", 24.0).mean_baseline - 37.0) < 0.6
