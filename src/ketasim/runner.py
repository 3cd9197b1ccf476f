"""Run a scenario: every arm through the engine, with the warnings a clinician needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ketasim.engine import simulate
from ketasim.models import get_model
from ketasim.regimen import Regimen
from ketasim.scenario import Scenario

#: Highest single dose by route in the anaesthetic range (mg/kg); larger doses are simulated but
#: flagged. Source: Ketalar (ketamine hydrochloride) US prescribing information, dosage: IV
#: induction 1-4.5 mg/kg, IM induction 6.5-13 mg/kg.
ANAESTHETIC_MAX_MG_PER_KG = {"iv_bolus": 4.5, "iv_infusion": 4.5, "im": 13.0}


@dataclass(frozen=True)
class ArmResult:
    """One arm's simulated time course and its warnings."""

    label: str
    regimen: Regimen
    data: xr.Dataset
    warnings: tuple[str, ...]


def run_scenario(scenario: Scenario, progress: Callable[[int], None] | None = None
                 ) -> list[ArmResult]:
    """Simulate every arm of ``scenario`` on the same virtual patients (same seed)."""
    model = get_model(scenario.model)
    times = scenario.output.times()
    results = []
    for arm in scenario.arms:
        data = simulate(model, arm.regimen, scenario.population, times, progress=progress)
        results.append(ArmResult(arm.label, arm.regimen, data,
                                 dose_warnings(arm.regimen, data["weight_kg"].to_numpy())))
    return results


def dose_warnings(regimen: Regimen, weight_kg: np.ndarray) -> tuple[str, ...]:
    """Flags for doses above the anaesthetic range, per dose, with how many subjects."""
    notes = []
    for k, dose in enumerate(regimen.doses):
        limit = ANAESTHETIC_MAX_MG_PER_KG.get(dose.route)
        if limit is None:
            continue
        per_kg = dose.amount_mg(weight_kg) / weight_kg
        above = int((per_kg > limit).sum())
        if above:
            notes.append(f"dose {k + 1} ({dose.route}, {dose.substance}, up to "
                         f"{per_kg.max():.3g} mg/kg) is above the anaesthetic range "
                         f"(> {limit} mg/kg, Ketalar label) in {above} of {weight_kg.size} "
                         "subjects; simulated anyway")
    return tuple(notes)
