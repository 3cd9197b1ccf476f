"""The evidence manifest (package data): every row of the shared published outcomes is in it
with its use or the reason it is not used, and no study kept aside for the independent check
is in it or in the calibration."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketasim.evidence.targets import load_targets
from ketasim.evidence.validate import select_endpoints

SHARED = Path("/work/shared/data/clinical_outcomes.csv")
KEY = ["study", "arm", "endpoint", "timepoint_h", "statistic", "value"]
#: Studies kept aside for an independent check of the model (never in the evidence base, never
#: fitted): Singh 2016 Am J Psychiatry, Daly 2018 JAMA Psychiatry, Popova 2019 (TRANSFORM-2),
#: Phillips 2019 Am J Psychiatry, Shiroma 2014 J Affect Disord, Fava 2018 Mol Psychiatry.
KEPT_ASIDE = ("singh2016", "daly2018", "popova2019", "transform2", "phillips2019",
              "shiroma2014", "fava2018")
#: Shared rows that pool a kept-aside study's patients, so are left out of the manifest too:
#: the pooled TRANSFORM-1/2 analyses (Turkoz 2021; by sex) and esketamine meta-analyses.
POOLING_KEPT_ASIDE = ("transform_pooled_turkoz2021", "ket_esk_meta2022_pmid35231204",
                      "ivket_vs_esk_meta2025")
#: First authors and years of the kept-aside studies, as a citation would name them.
KEPT_ASIDE_CITATIONS = re.compile(r"^(Singh J\w*.*2016|Daly E\w*.*2018|Popova V\w*.*2019|"
                                  r"Phillips J\w*.*2019|Shiroma P\w*.*2014|Fava M\w*.*2018)")


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
