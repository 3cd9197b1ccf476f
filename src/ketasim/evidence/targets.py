"""The calibration manifest: the published rows a calibration of the clinic layer may use.

``data/calibration_targets.csv`` ships with the package. Each row is copied from the project's
reference table ``clinical_outcomes.csv`` (study, citation, arm, n, endpoint, time, statistic,
value, unit, source address) and says in ``use`` what it pins. See ``data/README.md``.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

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
