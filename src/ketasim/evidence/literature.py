"""Published arms beyond the reference table: ``data/literature.csv``, predicted, never fitted.

Each row is one arm-level result of one trial found in the literature by the project (never a
pooled estimate, never a study kept aside for the independent check), with its citation, the
address it was read at and a verbatim excerpt holding the number, and what a scenario needs to
simulate the arm: drug, route, dose, infusion length, the days of its doses, the background
treatment and the trial's own baseline (mean, SD and scale), inclusion cut-off, mean age and
share female. See ``data/README.md``.

:func:`design` turns a row into the arm ketasim simulates and :func:`population_settings` into
its virtual population; a row neither can represent says why (``str``).
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd

from ketasim.clinical.scales import get_scale, to_madrs
from ketasim.dosing import Dose, Regimen
from ketasim.errors import ScenarioError
from ketasim.evidence.calibrate import ESKETAMINE_MODEL, MODEL_NAME, NEW_AD, EvidenceArm
from ketasim.population.sampling import Population

#: Columns of ``data/literature.csv``, in order.
COLUMNS = ("study", "citation", "doi_or_pmid", "design", "population", "baseline_scale",
           "baseline_mean", "baseline_sd", "age_mean", "female_pct", "inclusion", "arm", "drug",
           "route", "dose", "dose_unit", "infusion_min", "dose_days", "background", "n",
           "endpoint", "timepoint_h", "timepoint_label", "statistic", "value", "sd", "se",
           "ci_low", "ci_high", "definition", "source_url", "excerpt", "notes")
#: The ``drug`` column's words for the substances ketasim doses.
SUBSTANCES = {"racemic ketamine": "racemic", "esketamine": "esketamine",
              "arketamine": "arketamine", "saline": "placebo", "placebo": "placebo",
              "midazolam": "midazolam"}
#: The ``route`` column's words for ketasim's routes (IV: an infusion of ``infusion_min``, or a
#: bolus when none is given).
ROUTES = {"IV": "iv_infusion", "intranasal": "intranasal", "oral": "oral", "IM": "im",
          "SC": "subcutaneous", "sublingual": "sublingual"}
#: The ``endpoint`` column's words for ketasim's rated scales.
SCALES = {"MADRS": "madrs", "HAM-D17": "hamd17", "QIDS-SR16": "qids_sr16"}
#: A newly started oral antidepressant (``background``): :data:`~ketasim.evidence.calibrate.
#: NEW_AD`, escitalopram 10 mg/day from day 0 (assumption: stands for any SSRI/SNRI started).
NEW_AD_WORDS = "new oral antidepressant"
_CUT = re.compile(r"^(MADRS|HAM-D17|QIDS-SR16)\s*(?:>=|≥)\s*([\d.]+)$")


@cache
def load_literature() -> pd.DataFrame:
    """``data/literature.csv``: text columns as str (empty = ""), ``n`` as int (0 where the
    source gives none)."""
    path = files("ketasim") / "evidence" / "data" / "literature.csv"
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    table["n"] = table["n"].replace("", "0").astype(int)
    return table[list(COLUMNS)]


def design(row: pd.Series) -> EvidenceArm | str:
    """The arm of ``row`` as ketasim simulates it, or why it cannot be."""
    substance = SUBSTANCES.get(row["drug"])
    if substance is None:
        return f"{row['drug'] or 'no drug'} is not modelled"
    route = ROUTES.get(row["route"])
    if route is None:
        return f"route {row['route']!r} is not modelled"
    try:
        days = [float(d) for d in row["dose_days"].split(";")]
    except ValueError:
        return f"dose days {row['dose_days']!r} are not a list of days"
    if substance != "placebo" and not row["dose"]:
        return "no fixed dose reported (flexible dosing)"
    amount = None if substance == "placebo" else float(row["dose"])
    minutes = row["infusion_min"]
    if route == "iv_infusion" and not minutes:
        route = "iv_bolus"
    dose = Dose(substance, route, amount, per_kg=row["dose_unit"] == "mg/kg",
                duration_h=float(minutes) / 60 if route == "iv_infusion" else None)
    regimen = Regimen.repeated(dose, [24.0 * d for d in days])
    if NEW_AD_WORDS in row["background"]:
        regimen = Regimen(NEW_AD.doses + regimen.doses)
    model = ESKETAMINE_MODEL if substance == "esketamine" and route != "iv_infusion" \
        else MODEL_NAME
    return EvidenceArm(regimen, model=model)


def population_settings(row: pd.Series) -> dict[str, float] | str:
    """The :class:`~ketasim.population.sampling.Population` settings of ``row``'s trial: its
    baseline (converted to MADRS points by the clinic layer's linking, the SD by the linking's
    local slope), else its inclusion cut-off (``madrs_min``) when it is on a linked scale (with
    a recorded baseline the cut-off is left out: linked from another scale it can contradict the
    baseline, e.g. HAM-D17 >= 24 with a MADRS mean of 32.3; a cut-off on another scale is left
    out too: the cohort's baseline distribution stands for it), mean age and share female; or
    why not
    (bipolar or adolescent patients, or settings no TRD population can have)."""
    population = row["population"].lower()
    for word in ("bipolar", "adolescent"):
        if word in population:
            return f"{word} patients: not the adult TRD cohort"
    out: dict[str, float] = {}
    scale = SCALES.get(row["baseline_scale"])
    if row["baseline_mean"] and row["baseline_sd"]:
        if scale is None:
            return f"baseline on {row['baseline_scale']!r}, which ketasim does not link"
        mean, sd = float(row["baseline_mean"]), float(row["baseline_sd"])
        out["baseline_mean"] = float(to_madrs(mean, scale))
        slope = (to_madrs(mean + 0.5, scale) - to_madrs(mean - 0.5, scale))
        out["baseline_sd"] = float(sd * slope)
    cut = _CUT.match(row["inclusion"])
    if cut and "baseline_mean" not in out:  # a recorded baseline describes the included better
        out["madrs_min"] = float(to_madrs(float(cut.group(2)), SCALES[cut.group(1)]))
    if row["age_mean"]:
        out["age_mean"] = float(row["age_mean"])
    if row["female_pct"]:
        out["female_share"] = float(row["female_pct"]) / 100.0
    try:
        Population(1, **out)  # type: ignore[arg-type]
    except ScenarioError as error:
        return f"its trial's population: {error}"
    return out


def remission_matches(row: pd.Series, scale: str) -> bool:
    """Whether ``row``'s remission definition is the scale's (score <= its remission_max)."""
    m = re.search(r"(?:<=|≤)\s*(\d+)|<\s*(\d+)", row["definition"])
    if m is None:
        return False
    cut = float(m.group(1)) if m.group(1) else float(m.group(2)) - 1
    return bool(np.isclose(cut, get_scale(scale).remission_max or np.nan))
