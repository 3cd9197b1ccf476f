"""The evidence manifest (package data): every row of the shared published outcomes is in it
with its use or the reason it is not used, and no study kept aside for the independent check
is in it or in the calibration."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.evidence.targets import (
    KEPT_ASIDE,
    KEPT_ASIDE_CITATIONS,
    POOLING_KEPT_ASIDE,
    load_targets,
)
from ketasim.evidence.validate import select_endpoints

SHARED = Path("/work/shared/data/clinical_outcomes.csv")
KEY = ["study", "arm", "endpoint", "timepoint_h", "statistic", "value"]
@pytest.mark.skipif(not SHARED.exists(), reason="the shared data is not on this machine")
def test_every_shared_row_is_in_the_manifest_with_its_use():
    shared = pd.read_csv(SHARED, dtype=str, keep_default_na=False)
    # rows the shared data itself marks unreliable stay out (test_clinical checks it)
    shared = shared[~shared["notes"].str.lower().str.contains(
        "secondary summary|scraped copy|low reliability")]
    pooled = shared["study"].isin(POOLING_KEPT_ASIDE) | shared["design"].str.contains(
        "pooled TRANSFORM-1/2")
    shared = shared[~pooled]
    manifest = load_targets()
    assert set(map(tuple, shared[KEY].values)) <= set(map(tuple, manifest[KEY].values))
    assert (manifest["use"] != "").all()


def test_no_kept_aside_study_is_in_the_manifest_or_fitted():
    manifest = load_targets()
    assert not manifest["study"].str.lower().isin(KEPT_ASIDE).any()
    assert not manifest["citation"].str.match(KEPT_ASIDE_CITATIONS).any()
    assert not manifest["study"].isin(POOLING_KEPT_ASIDE).any()
    by_sex = manifest[manifest["study"] == "transform_by_sex"]  # TRANSFORM-3 (>= 65 y) only
    assert by_sex["population"].str.contains(">=65").all()


def test_every_row_not_simulated_says_why():
    _, rest = select_endpoints()
    assert all(why for _, _, why in rest)
    reasons = {why for _, _, why in rest}
    assert any(why.startswith("validation candidate") for why in reasons)


def test_trial_baselines_are_sourced_and_reproduced():
    """Each trial's own baseline (data/trial_baselines.csv) quotes its source, and the
    population built from it records that baseline (mean within 0.4 points, 3,000 patients)."""
    from importlib.resources import files

    from ketasim.clinical.scales import measure
    from ketasim.evidence.calibrate import MODEL_NAME, population, trial_baselines
    from ketasim.models import get_model

    path = files("ketasim") / "evidence" / "data" / "trial_baselines.csv"
    table = pd.read_csv(str(path), dtype=str, keep_default_na=False)
    assert len(table) >= 1 and table["source"].str.startswith("http").all()
    manifest = set(load_targets()["study"])
    assert set(table["study"]) <= manifest
    assert not table["study"].str.lower().isin(KEPT_ASIDE).any()
    for _, row in table.iterrows():
        for key in ("baseline_mean", "baseline_sd"):  # the numbers are in the quoted excerpt
            assert row[key] == "" or row[key] in row["excerpt"], (row["study"], key)
    model = get_model(MODEL_NAME)
    for key, own in trial_baselines().items():
        if "baseline_mean" not in own:
            continue
        p = population(3000, 5, own)
        subjects = p.sample(model)
        true = subjects.covariates["madrs_baseline"].to_numpy()
        recorded = measure(np.ones((true.size, 1)), subjects.ids, 5, p.rating, ("madrs",),
                           true)["madrs"][:, 0]
        assert abs(recorded.mean() - own["baseline_mean"]) < 0.4, key
