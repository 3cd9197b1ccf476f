"""What the labels say: the anaesthetic range, dose frequency, contraindications; and the
safety endpoints of an arm (mean peak dissociation and blood-pressure rise).

Each is an accumulator (``add(chunk)`` per chunk of simulated subjects) or a check of a regimen,
so that populations of millions are summarised chunk by chunk.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from ketasim.dosing import KETAMINE, Regimen

#: Highest single dose by route in the anaesthetic range (mg/kg); larger doses are simulated but
#: flagged. Source: Ketalar (ketamine hydrochloride) US prescribing information, dosage: IV
#: induction 1-4.5 mg/kg, IM induction 6.5-13 mg/kg.
ANAESTHETIC_MAX_MG_PER_KG = {"iv_bolus": 4.5, "iv_infusion": 4.5, "im": 13.0}
#: More ketamine doses than this in any 7 days is flagged for abuse and dependence risk.
#: Assumption: the most frequent regimens studied give 3 a week (six infusions over two weeks,
#: Murrough 2013; esketamine induction twice a week, Spravato label); ketamine's abuse
#: liability is why its use is supervised (Spravato REMS). No threshold is published.
MAX_DOSES_PER_WEEK = 3
#: Patient attributes that speak against ketamine: the wording and the label that says so.
CONTRAINDICATIONS = {
    "psychosis": ("a history of psychosis", "relative: ketamine labels advise caution in severe "
                  "psychiatric illness, also past (e.g. Ketamin-hameln, Germany); "
                  "hallucinations on emergence, Ketalar label"),
    "substance_use": ("a substance use disorder", "relative: abuse and misuse, Spravato label "
                      "5.4; drug abuse and dependence, Ketalar label"),
    "hypertension": ("uncontrolled hypertension", "Ketalar SmPC 4.3: contraindicated where a "
                     "rise in blood pressure is a serious hazard; blood pressure increase, "
                     "Spravato label"),
}
#: The model output whose per-subject peak each safety endpoint averages.
PEAK_OUTPUTS = {"cadss_peak_mean": "cadss", "sbp_rise_peak_mean_mmhg": "sbp_rise_mmhg",
                "dbp_rise_peak_mean_mmhg": "dbp_rise_mmhg"}


@dataclass(frozen=True)
class Safety:
    """Mean over subjects of each subject's peak: CADSS (points), SBP and DBP rise (mmHg);
    None where the model has no such output."""

    cadss_peak_mean: float | None = None
    sbp_rise_peak_mean_mmhg: float | None = None
    dbp_rise_peak_mean_mmhg: float | None = None

    def to_json(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class SafetyPeaks:
    """Collects each subject's peak of the safety outputs of ``outputs`` (a model's)."""

    def __init__(self, outputs) -> None:
        self.peaks: dict[str, list[np.ndarray]] = {
            key: [] for key, name in PEAK_OUTPUTS.items() if name in outputs}

    def add(self, chunk: xr.Dataset) -> None:
        for key, values in self.peaks.items():
            values.append(chunk[PEAK_OUTPUTS[key]].max(dim="time").to_numpy())

    def result(self) -> Safety | None:
        """The arm's safety endpoints; None for a model without safety outputs."""
        if not self.peaks:
            return None
        return Safety(**{k: float(np.concatenate(v).mean()) for k, v in self.peaks.items()})


class Contraindicated:
    """Counts the subjects with each condition of :data:`CONTRAINDICATIONS`."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(CONTRAINDICATIONS, 0)

    def add(self, chunk: xr.Dataset) -> None:
        for name in self.counts:
            self.counts[name] += int(chunk[name].sum())

    def warnings(self, regimen: Regimen, n: int) -> tuple[str, ...]:
        """For a regimen with ketamine, one flag per condition some of the ``n`` subjects have
        (see :func:`contraindication_warnings`)."""
        return contraindication_warnings(regimen, self.counts, n)


def contraindication_warnings(regimen: Regimen, affected: dict[str, int], n: int
                              ) -> tuple[str, ...]:
    """For a regimen with ketamine, one line naming how many of the ``n`` subjects have each
    condition of :data:`CONTRAINDICATIONS` (``affected``; sources there) and the
    ``population.exclude`` that leaves them out; none when nobody has one."""
    found = [name for name in CONTRAINDICATIONS if affected[name]]
    if not found or not any(d.substance in KETAMINE for d in regimen.doses):
        return ()
    who = ", ".join(f"{affected[name]} {CONTRAINDICATIONS[name][0]}" for name in found)
    keys = ", ".join(f'"{name}"' for name in found)
    return (f"of {n} subjects, {who}: contraindications to ketamine on its labels; to leave "
            f"them out as trials do, set population.exclude = [{keys}]",)


def dose_warnings(regimen: Regimen, weight_kg: np.ndarray) -> tuple[str, ...]:
    """Flags for ketamine doses above the anaesthetic range, per dose, with the number of
    subjects (of those weighing ``weight_kg``, kg) it concerns; for more than
    :data:`MAX_DOSES_PER_WEEK` ketamine doses in 7 days; for midazolam's unused amount."""
    notes = []
    for k, dose in enumerate(regimen.doses):
        limit = ANAESTHETIC_MAX_MG_PER_KG.get(dose.route)
        if limit is None or dose.substance not in KETAMINE:
            continue
        per_kg = dose.amount_mg(weight_kg) / weight_kg
        above = int((per_kg > limit).sum())
        if above:
            share = f"{above} of {weight_kg.size}"
            notes.append(f"dose {k + 1} ({dose.route}, {dose.substance}, up to "
                         f"{per_kg.max():.3g} mg/kg) is above the anaesthetic range "
                         f"(> {limit} mg/kg, Ketalar label) in {share} subjects; "
                         "simulated anyway")
    if any(d.substance == "midazolam" for d in regimen.doses):
        notes.append("midazolam is modelled as an active placebo (expectancy of a felt "
                     "session, docs/models/mechanism.md): its amount changes nothing")
    times = np.array(sorted(d.time_h for d in regimen.doses if d.substance in KETAMINE))
    in_week = np.searchsorted(times, times + 168.0, side="left") - np.arange(times.size)
    if times.size and in_week.max() > MAX_DOSES_PER_WEEK:
        notes.append(f"{int(in_week.max())} ketamine doses within 7 days: more frequent than any "
                     f"studied regimen (at most {MAX_DOSES_PER_WEEK} a week); ketamine carries "
                     "a risk of abuse and dependence (supervised use, Spravato REMS)")
    return tuple(notes)
