"""The public claims about ketamine (MISSION.md), each answered with data and with the model.

Data are rows of the calibration manifest (``ketasim.evidence.targets``), cited; model numbers
come from running ``racemic_sr+mechanism`` on a single 0.5 mg/kg infusion and on a six-infusion
course (Murrough 2013's schedule) with a fixed seed. The verdicts are written from both; the
figures in them are recomputed every time, so a recalibration shows up here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from ketasim.clinical.endpoints import Course, Relapse
from ketasim.evidence.targets import load_targets
from ketasim.scenario.files import parse_scenario
from ketasim.simulation.runner import ArmResult, run_scenario

MODEL = "racemic_sr+mechanism"
_INFUSION = {"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min"}


@dataclass(frozen=True)
class Claim:
    """A claim, what the published data say (with citations) and what the model gives."""

    claim: str
    data: str
    model: str
    verdict: str


def _run(at_days: list[str], timepoints: list[str], end: str, n: int, seed: int
         ) -> ArmResult:
    doc = {"name": "claims", "substance": "racemic", "model": MODEL,
           "doses": [{**_INFUSION, "at": at_days}],
           "population": {"n": n, "seed": seed, "age_y": 40},
           "output": {"end": end, "step": "1 h", "timepoints": timepoints}}
    return run_scenario(parse_scenario(doc))[0]


def _row(targets, study: str, statistic: str, timepoint: str | None = None) -> str:
    rows = targets[(targets["study"] == study) & (targets["statistic"] == statistic)]
    if timepoint is not None:
        rows = rows[rows["timepoint_h"] == timepoint]
    row = rows.iloc[0]
    return f"{row['value']} {row['unit']} ({study}, n = {row['n']})"


def claims(n: int = 400, seed: int = 1) -> list[Claim]:
    """Every claim with its evidence; ``n`` virtual patients per simulated design."""
    t = load_targets()
    single = _run(["0 h"], ["2 h", "4 h", "24 h", "7 d", "14 d", "21 d"], "28 d", n, seed)
    course = _run(["0 d", "2 d", "4 d", "7 d", "9 d", "11 d"], ["12 d"], "60 d", n, seed)
    one, six = single.outcomes, course.outcomes
    assert one is not None and six is not None and single.safety is not None  # a mechanism model
    at = {e.timepoint_h: e for e in one.on("madrs")}
    pct = "{:.0%}".format
    cumulative = ", ".join(pct(r) for r in cast(Course, six.course).cumulative_response_by_dose)
    return [
        Claim("relief within hours",
              f"MADRS fell {_row(t, 'murrough2013_biolpsych', 'mean_decrease_from_baseline')}"
              " 2 h after a first open-label infusion",
              f"mean MADRS change {at[2.0].mean_change:.1f} at 2 h, "
              f"{at[4.0].mean_change:.1f} at 4 h, {at[24.0].mean_change:.1f} at 24 h",
              "supported by the data; the model's fast component is weaker than the data "
              "(not calibrated before 24 h), so it under-states relief in the first hours"),
        Claim("effects last days to a few weeks after one treatment",
              f"response {_row(t, 'han2016_meta', 'response_pct', '168')} at day 7; "
              f"{_row(t, 'ibrahim2012_single', 'pct_responders_not_relapsed')}",
              f"response {pct(at[24.0].response_rate)} at 24 h, "
              f"{pct(at[168.0].response_rate)} at day 7, {pct(at[336.0].response_rate)} "
              f"at day 14, {pct(at[504.0].response_rate)} at day 21",
              "supported: the effect fades over one to three weeks"),
        Claim("remission rates as high as 70-80%",
              f"single infusion: remission {_row(t, 'han2016_meta', 'remission_pct', '24')} "
              "at 24 h; real world: remission "
              f"{_row(t, 'alnefeesi2022_realworld', 'remission_pct')}; 70-80% are shares "
              "responding at any time in small bipolar trials "
              f"({_row(t, 'diazgranados2010', 'response_pct')}; "
              f"{_row(t, 'zarate2012', 'response_pct')})",
              f"remission {pct(at[24.0].remission_rate)} at 24 h after one infusion; "
              f"{pct(six.on('madrs')[0].remission_rate)} after six infusions",
              "refuted as a remission rate: the 70-80% figures are shares responding at any "
              "time in small selected samples; in the data remission is about 20-30% after "
              "one dose"),
        Claim("a noticeable shift around the 3rd or 4th treatment",
              f"response 4 h after the first infusion predicted response after six: "
              f"{_row(t, 'murrough2013_biolpsych', 'sensitivity_pct')} sensitivity",
              f"cumulative response after doses 1-6: {cumulative}",
              "not supported: most patients who respond do so after the first one or two "
              "infusions; later ones add a little"),
        Claim("repeated treatments give longer-lasting benefit",
              f"median time to relapse after six infusions "
              f"{_row(t, 'murrough2013_biolpsych', 'median_time_to_relapse_days')}",
              "median days to relapse among responders: "
              f"{cast(Relapse, one.relapse).median_days_to_relapse_among_responders} after one "
              f"infusion, {cast(Relapse, six.relapse).median_days_to_relapse_among_responders} "
              "after six",
              "supported by the data; the model lengthens the benefit of a course more than "
              "the data show (the calibration fits end-of-course response, not relapse "
              "times)"),
        Claim("generally well tolerated, few side effects in a clinical setting",
              "dissociation after a first esketamine dose: "
              f"{_row(t, 'esk_first_dose_dissociation', 'incidence_pct')}; blood pressure "
              f"rise {_row(t, 'cardio_cohort_135', 'max_mean_increase')}",
              f"mean peak CADSS {single.safety.cadss_peak_mean:.1f}, resolving within "
              f"about 2 h; mean peak SBP rise {single.safety.sbp_rise_peak_mean_mmhg:.1f}"
              " mmHg",
              "supported with caveats: transient dissociation and blood-pressure rises are "
              "common; abuse and long-term risks are outside these data"),
    ]
