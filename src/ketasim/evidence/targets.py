"""The calibration manifest: the published rows a calibration of the clinic layer may use.

``data/calibration_targets.csv`` ships with the package. Each row is copied from the project's
reference table ``clinical_outcomes.csv`` (study, citation, arm, n, endpoint, time, statistic,
value, unit, source address) and says in ``use`` what it pins. See ``data/README.md``.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pandas as pd

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

#: Columns of the manifest, in order.
COLUMNS = ("study", "citation", "doi_or_pmid", "population", "arm", "drug", "route", "dose",
           "dose_unit", "schedule", "n", "n_reported", "endpoint", "timepoint_h",
           "timepoint_label", "statistic", "value", "unit", "source_url", "use",
           "reliability_flag", "notes")


def load_targets() -> pd.DataFrame:
    """The manifest as a DataFrame: text columns as str (empty = ""), ``n`` as int (subjects);
    ``timepoint_h`` stays text (h after the first dose; ranges such as "2-4"; "" = not
    time-locked) and ``value`` text (numbers, or words for qualitative rows)."""
    path = files("ketasim") / "evidence" / "data" / "calibration_targets.csv"
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    table["n"] = table["n"].astype(int)
    return table[list(COLUMNS)]
