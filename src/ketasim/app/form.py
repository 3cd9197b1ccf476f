"""The app's form as a scenario document: presets, the document built from the inputs, and TOML
in and out. Nothing here runs a simulation; :func:`ketasim.scenario.files.parse_scenario`
validates what it builds with the CLI's one-line messages."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w

from ketasim.errors import ScenarioError

#: Largest population the app simulates per arm: assumption: about 10 s per arm for 28 days on
#: 2 cores keeps the page responsive; larger runs belong to the CLI.
N_MAX = 500
#: Preset schedules: the dose keys of a scenario file.
SCHEDULES: dict[str, dict[str, Any]] = {
    "single dose": {"at": ["0 h"]},
    "six infusions over 12 days (Mon/Wed/Fri; Murrough 2013)": {
        "at": ["0 d", "2 d", "4 d", "7 d", "9 d", "11 d"]},
    "twice weekly for 4 weeks (esketamine induction)": {"per_week": 2, "weeks": 4},
    "weekly for 8 weeks (maintenance)": {"start": "0 d", "every": "7 d", "count": 8},
    "custom times": {},
}
#: Variant keys offered by the form and their choices ("" = the cohort's default).
VARIANTS = {"bdnf_val66met": ("", "val/val", "val/met", "met/met"),
            "inflammation": ("", "typical", "high")}


@dataclass(frozen=True)
class Regimen:
    """One regimen of the form: substance, route, amount and unit (``mg`` or ``mg/kg``),
    infusion duration (min), schedule (a key of :data:`SCHEDULES`) and, for ``custom times``,
    a comma-separated list of times (e.g. ``0 h, 3 d``)."""

    substance: str = "racemic"
    route: str = "iv_infusion"
    amount: float | None = 0.5
    unit: str = "mg/kg"
    duration_min: float | None = 40.0
    schedule: str = "single dose"
    custom: str = ""

    def doses(self) -> list[dict[str, Any]]:
        if self.amount is None:
            raise ScenarioError("amount: give a dose")
        dose: dict[str, Any] = {"route": self.route, "amount": f"{self.amount:g} {self.unit}"}
        if self.route == "iv_infusion":
            if self.duration_min is None:
                raise ScenarioError("duration: give the infusion's duration")
            dose["duration"] = f"{self.duration_min:g} min"
        if self.schedule not in SCHEDULES:
            raise ScenarioError(f"schedule: unknown {self.schedule!r}")
        times = SCHEDULES[self.schedule]
        if not times:
            times = {"at": [t.strip() for t in self.custom.split(",") if t.strip()]}
            if not times["at"]:
                raise ScenarioError("custom times: give at least one time, e.g. '0 h, 3 d'")
        return [dose | times]

    def label(self) -> str:
        return f"{self.substance} {self.amount:g} {self.unit} {self.route}, {self.schedule}"


def scenario_doc(first: Regimen, second: Regimen | None, cohort: str, n: int | None,
                 seed: int | None, days: float | None,
                 variants: dict[str, str] | None = None) -> dict[str, Any]:
    """The scenario document of the form: one arm, or two (``second``) on the same patients;
    ``days`` of follow-up with visits at 4 h, 24 h, weekly and the end."""
    if n is None or not 1 <= n <= N_MAX:
        raise ScenarioError(f"population.n: the app simulates 1 to {N_MAX} patients per arm "
                            f"(use the CLI for more), got {n}")
    if days is None or not 1 <= days <= 365:
        raise ScenarioError(f"output.end: follow-up from 1 to 365 days, got {days}")
    doses = [r.doses() for r in (first, second) if r is not None]  # checks each regimen first
    visits = ["4 h", "24 h", *(f"{d} d" for d in range(7, int(days) + 1, 7)), f"{days:g} d"]
    doc: dict[str, Any] = {
        "name": first.label() if second is None else "two regimens",
        "population": {"n": int(n), "cohort": cohort, "seed": 1 if seed is None else int(seed)},
        "output": {"end": f"{days:g} d", "step": "1 h", "timepoints": list(dict.fromkeys(visits))},
    }
    if second is None:
        doc |= {"substance": first.substance, "doses": doses[0]}
    else:
        doc["arms"] = [{"label": f"{tag}: {r.label()}", "substance": r.substance, "doses": d}
                       for tag, r, d in zip("AB", (first, second), doses, strict=True)]
    chosen = {k: v for k, v in (variants or {}).items() if v}
    if chosen:
        doc["variants"] = chosen
    return doc


def to_toml(doc: dict[str, Any]) -> str:
    """``doc`` as a scenario file."""
    return tomli_w.dumps(doc)


def from_toml(text: str) -> dict[str, Any]:
    """A scenario file's document; a one-line error for malformed TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario file: not valid TOML ({exc})") from None
