"""The evidence manifest (package data): every row of the shared published outcomes is in it
with its use or the reason it is not used, and no study kept aside for the independent check
is in it or in the calibration."""

import re
from pathlib import Path

import pandas as pd
import pytest

from ketasim.evidence.calibrate import KEPT_ASIDE, POOLS_KEPT_ASIDE, select_targets
from ketasim.evidence.targets import load_targets
from ketasim.evidence.validate import select_endpoints

SHARED = Path("/work/shared/data/clinical_outcomes.csv")
KEY = ["study", "arm", "endpoint", "timepoint_h", "statistic", "value"]
#: First authors and years of the kept-aside studies, as a citation would name them.
KEPT_ASIDE_CITATIONS = re.compile(r"^(Singh J\w*.*2016|Daly E\w*.*2018|Popova V\w*.*2019|"
                                  r"Phillips J\w*.*2019|Shiroma P\w*.*2014|Fava M\w*.*2018)")


@pytest.mark.skipif(not SHARED.exists(), reason="the shared data is not on this machine")
def test_every_shared_row_is_in_the_manifest_with_its_use():
    shared = pd.read_csv(SHARED, dtype=str, keep_default_na=False)
    # rows the shared data itself marks unreliable stay out (test_clinical checks it)
    shared = shared[~shared["notes"].str.lower().str.contains(
        "secondary summary|scraped copy|low reliability")]
    manifest = load_targets()
    assert set(map(tuple, shared[KEY].values)) <= set(map(tuple, manifest[KEY].values))
    assert (manifest["use"] != "").all()


def test_no_kept_aside_study_is_in_the_manifest_or_fitted():
    manifest = load_targets()
    assert not manifest["study"].str.lower().isin(KEPT_ASIDE).any()
    assert not manifest["citation"].str.match(KEPT_ASIDE_CITATIONS).any()
    targets, _ = select_targets(manifest)
    endpoints, _ = select_endpoints(manifest)
    used = {manifest.loc[r, "study"] for t in targets for r in t.rows} | \
        {e.study for e in endpoints}
    assert not used & set(POOLS_KEPT_ASIDE)  # pooled analyses holding their patients too


def test_every_row_not_simulated_says_why():
    _, rest = select_endpoints()
    assert all(why for _, _, why in rest)
    reasons = {why for _, _, why in rest}
    assert any(why.startswith("validation candidate") for why in reasons)
