"""Doses, dosing schedules and regimens, and their NONMEM-style event tables.

Times are in hours from the start of the regimen (t = 0), amounts in mg (or mg/kg body weight).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ketasim.errors import ScenarioError
from ketasim.units import show

#: Ketamine and its enantiomers, which the PK models take.
KETAMINE = ("racemic", "esketamine", "arketamine")
#: Comparators and background treatments, which the mechanism models take: inert placebo (no
#: amount), midazolam (active placebo), and oral antidepressants (ssri: escitalopram mg; snri:
#: venlafaxine extended-release mg).
COMPARATORS = ("placebo", "midazolam", "ssri", "snri")
SUBSTANCES = KETAMINE + COMPARATORS
#: Substances given without an amount.
NO_AMOUNT = ("placebo",)
ROUTES = ("iv_bolus", "iv_infusion", "im", "intranasal", "oral", "sublingual", "subcutaneous")
INFUSION_ROUTES = ("iv_infusion",)
HOURS_PER_WEEK = 168.0
MAX_SCHEDULED_DOSES = 10_000
#: Largest single dose accepted, mg and mg/kg. Assumption: about ten times the largest
#: anaesthetic doses (IM induction up to 13 mg/kg; Ketalar US prescribing information), so that
#: only absurd amounts (typing errors, wrong units) are refused; doses between the anaesthetic
#: range and these limits are simulated and flagged.
MAX_AMOUNT_MG, MAX_AMOUNT_MG_PER_KG = 10_000.0, 100.0

EVENT_COLUMNS = ("ID", "TIME", "AMT", "RATE", "DUR", "CMT", "EVID", "DRUG", "ROUTE")
_REQUIRED_COLUMNS = ("ID", "TIME", "AMT", "DRUG", "ROUTE")
#: Columns of a NONMEM-style data set that an event table may carry and ketasim does not read
#: (observations).
IGNORED_COLUMNS = ("DV", "MDV")
_COLUMN_OF_FIELD = {"substance": "DRUG", "route": "ROUTE", "amount": "AMT", "time": "TIME",
                    "duration": "DUR"}
_RELATIVE_TOLERANCE = 1e-9


def _choice(value: object, allowed: tuple[str, ...], field: str) -> None:
    if value not in allowed:
        raise ScenarioError(f"{field}: {show(value)} is not one of {', '.join(allowed)}")


def finite_number(value: object, field: str) -> float:
    """`value` as a finite float (bools and non-numbers rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ScenarioError(f"{field}: expected a number, got {show(value)}")
    if not math.isfinite(value):
        raise ScenarioError(f"{field}: must be finite, got {show(value)}")
    return float(value)


def renamed(error: ScenarioError, names: Mapping[str, str]) -> ScenarioError:
    """`error` ('field: problem') with its field renamed via `names`, e.g. 'amount' -> 'AMT'."""
    field, problem = str(error).split(": ", 1)
    return ScenarioError(f"{names.get(field, field)}: {problem}")


def _count(value: object, field: str) -> int:
    """`value` as an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ScenarioError(f"{field}: must be a whole number >= 1, got {show(value)}")
    return int(value)


@dataclass(frozen=True)
class Dose:
    """One administration of `amount` mg (mg/kg body weight if `per_kg`) at `time_h` hours.

    `duration_h` (hours, > 0) is required for an infusion route and forbidden otherwise.
    A placebo takes no amount (`None`); every other substance needs one.
    """

    substance: str
    route: str
    amount: float | None
    per_kg: bool = False
    time_h: float = 0.0
    duration_h: float | None = None

    def __post_init__(self) -> None:
        _choice(self.substance, SUBSTANCES, "substance")
        _choice(self.route, ROUTES, "route")
        if self.substance in NO_AMOUNT:
            if self.amount is not None:
                raise ScenarioError(f"amount: a {self.substance} dose takes no amount; remove it "
                                    f"(got {show(self.amount)})")
        elif self.amount is None:
            raise ScenarioError(f"amount: a {self.substance} dose needs an amount, e.g. '20 mg'")
        elif finite_number(self.amount, "amount") <= 0:
            raise ScenarioError(f"amount: must be more than 0, got {show(self.amount)}")
        if not isinstance(self.per_kg, bool):
            raise ScenarioError(f"per_kg: must be True or False, got {show(self.per_kg)}")
        limit, unit = (MAX_AMOUNT_MG_PER_KG, "mg/kg") if self.per_kg else (MAX_AMOUNT_MG, "mg")
        if self.amount is not None and self.amount > limit:
            raise ScenarioError(f"amount: {self.amount:g} {unit} is above the largest accepted "
                                f"single dose ({limit:g} {unit}); check the number and unit")
        if finite_number(self.time_h, "time") < 0:
            raise ScenarioError(f"time: must be 0 h or later, got {show(self.time_h)}")
        if self.route not in INFUSION_ROUTES:
            if self.duration_h is not None:
                raise ScenarioError(
                    f"duration: only {', '.join(INFUSION_ROUTES)} takes a duration, "
                    f"not route {self.route!r}; remove it")
        elif self.duration_h is None:
            raise ScenarioError(f"duration: route {self.route!r} needs a duration, e.g. '40 min'")
        elif finite_number(self.duration_h, "duration") <= 0:
            raise ScenarioError(f"duration: must be longer than 0, got {show(self.duration_h)}")

    def amount_mg(self, weight_kg: float | np.ndarray) -> float | np.ndarray:
        """Amount in mg for body weight(s) `weight_kg` (kg, > 0); 0 for a placebo."""
        weights = np.asarray(weight_kg, dtype=float)
        if not np.all(np.isfinite(weights) & (weights > 0)):
            raise ScenarioError(f"weight_kg: every weight must be finite and > 0 kg, "
                                f"got {show(weight_kg)}")
        amounts = (self.amount or 0.0) * (weights if self.per_kg else np.ones_like(weights))
        return float(amounts) if amounts.ndim == 0 else amounts

    @property
    def end_h(self) -> float:
        """Time the dose is fully given (end of infusion), hours."""
        return self.time_h + (self.duration_h or 0.0)


def check_dose_count(n: int, field: str) -> None:
    """Refuse a schedule of more than :data:`MAX_SCHEDULED_DOSES` doses, naming ``field``."""
    if n > MAX_SCHEDULED_DOSES:
        raise ScenarioError(f"{field}: {n} doses scheduled; at most {MAX_SCHEDULED_DOSES} are "
                            "allowed")


def schedule(*, at: Sequence[float] | None = None, start: float | None = None,
             every: float | None = None, count: int | None = None,
             per_week: int | None = None, weeks: int | None = None,
             field: str = "schedule") -> tuple[float, ...]:
    """Dose times in hours, from exactly one form.

    - `at`: the times themselves;
    - `every` (h, > 0) and `count` doses, from `start` (h, default 0);
    - `per_week` doses a week, evenly spaced (168/per_week h apart), for `weeks` weeks,
      from `start` (h, default 0).
    `field` prefixes error messages (e.g. 'doses[0]').
    """
    given = {name for name, value in (("at", at), ("start", start), ("every", every),
                                      ("count", count), ("per_week", per_week),
                                      ("weeks", weeks)) if value is not None}
    form = given - {"start"}
    if form not in ({"at"}, {"every", "count"}, {"per_week", "weeks"}) or given == {"at", "start"}:
        raise ScenarioError(
            f"{field}: give exactly one schedule: 'at', or 'every' and 'count', or 'per_week' and "
            f"'weeks' (the last two with an optional 'start'); "
            f"got {', '.join(sorted(given)) or 'none'}")
    if at is not None:
        if isinstance(at, str) or not isinstance(at, (Sequence, np.ndarray)) or len(at) == 0:
            raise ScenarioError(f"{field}.at: must be a non-empty list of times, got {show(at)}")
        check_dose_count(len(at), f"{field}.at")
        times = [finite_number(t, f"{field}.at[{i}]") for i, t in enumerate(at)]
    else:
        first = 0.0 if start is None else finite_number(start, f"{field}.start")
        if every is not None:
            n, step = _count(count, f"{field}.count"), finite_number(every, f"{field}.every")
            if step <= 0:
                raise ScenarioError(f"{field}.every: must be more than 0, got {show(every)}")
        else:
            weekly = _count(per_week, f"{field}.per_week")
            n = weekly * _count(weeks, f"{field}.weeks")
            step = HOURS_PER_WEEK / weekly
        check_dose_count(n, field)
        times = (first + np.arange(n) * step).tolist()
    for i, t in enumerate(times):
        if not (math.isfinite(t) and t >= 0):
            raise ScenarioError(f"{field}: dose {i + 1} would be at {t:g} h; times must be >= 0 h")
    return tuple(times)


@dataclass(frozen=True)
class Regimen:
    """At least one dose, kept sorted by time (stable, so equal times keep their order)."""

    doses: tuple[Dose, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.doses, (tuple, list)):
            raise ScenarioError(f"doses: expected a tuple of Dose, got {show(self.doses)}")
        doses = tuple(self.doses)
        if not doses:
            raise ScenarioError("doses: a regimen needs at least one dose")
        for i, dose in enumerate(doses):
            if not isinstance(dose, Dose):
                raise ScenarioError(f"doses[{i}]: expected a Dose, got {show(dose)}")
        object.__setattr__(self, "doses", tuple(sorted(doses, key=lambda d: d.time_h)))

    @classmethod
    def repeated(cls, dose: Dose, times: Sequence[float]) -> Regimen:
        """`dose` given at each of `times` (hours)."""
        return cls(tuple(replace(dose, time_h=t) for t in times))

    @property
    def last_dose_h(self) -> float:
        """When the last dose starts, hours."""
        return self.doses[-1].time_h

    @property
    def last_dose_end_h(self) -> float:
        """When the last dose is fully given (end of the last infusion), hours."""
        return max(dose.end_h for dose in self.doses)

    @property
    def substances(self) -> tuple[str, ...]:
        """Substances given, in order of first use."""
        return tuple(dict.fromkeys(dose.substance for dose in self.doses))


def to_event_table(regimens: Sequence[Regimen],
                   weights_kg: Sequence[float] | np.ndarray | float | None = None,
                   cmt: Callable[[str, str], int] | None = None) -> pd.DataFrame:
    """NONMEM-style dose records, one row per dose, subject `ID`s 1, 2, ... in order.

    TIME h; AMT mg (mg/kg doses times the subject's weight, kg); RATE mg/h and DUR h (0 unless
    infused); CMT = `cmt(substance, route)` (1 without `cmt`); EVID 1; DRUG; ROUTE.
    `weights_kg` (one per regimen, or one for all) is needed only if a dose is in mg/kg.
    """
    if not regimens or not all(isinstance(regimen, Regimen) for regimen in regimens):
        raise ScenarioError(
            f"regimens: expected a non-empty list of Regimen, got {show(regimens)}")
    if weights_kg is None:
        if any(dose.per_kg for regimen in regimens for dose in regimen.doses):
            raise ScenarioError("weights_kg: needed because a dose is given in mg/kg")
        weights = np.ones(len(regimens))
    else:
        try:
            weights = np.asarray(weights_kg, dtype=float)
        except (TypeError, ValueError):
            raise ScenarioError(
                f"weights_kg: expected numbers (kg), got {show(weights_kg)}") from None
        if weights.ndim == 0:
            weights = np.full(len(regimens), weights)
        if weights.shape != (len(regimens),):
            raise ScenarioError(f"weights_kg: expected {len(regimens)} weights (one per regimen), "
                                f"got {weights.size}")
    rows = []
    for subject, (regimen, weight) in enumerate(zip(regimens, weights, strict=True), start=1):
        for dose in regimen.doses:
            amount = float(dose.amount_mg(weight))
            duration = dose.duration_h or 0.0
            rows.append((subject, dose.time_h, amount, amount / duration if duration else 0.0,
                         duration, 1 if cmt is None else cmt(dose.substance, dose.route), 1,
                         dose.substance, dose.route))
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


def write_event_table(table: pd.DataFrame, path: str | Path) -> None:
    """Write an event table as CSV (floats written exactly)."""
    table.to_csv(path, index=False)


def _cell(row: dict, column: str, where: str, optional: bool = False) -> float:
    """A numeric cell; if `optional`, a blank or '.' (NONMEM's missing value) counts as 0."""
    text = row.get(column, "").strip()
    if text in ("", "."):
        if optional:
            return 0.0
        raise ScenarioError(f"{where}, {column}: is empty; a number is needed")
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{where}, {column}: {show(text)} is not a number") from None
    if not math.isfinite(value):
        raise ScenarioError(f"{where}, {column}: must be finite, got {show(text)}")
    return value


def _dose_from_row(row: dict, where: str) -> Dose:
    drug = row["DRUG"].strip()
    time, amount = _cell(row, "TIME", where), _cell(row, "AMT", where, drug in NO_AMOUNT)
    if drug in NO_AMOUNT and amount != 0:
        raise ScenarioError(f"{where}, AMT: a {drug} dose takes no amount; give 0 or leave it "
                            f"empty, got {amount:g}")
    rate, duration = _cell(row, "RATE", where, True), _cell(row, "DUR", where, True)
    route = row["ROUTE"].strip()
    for column, value in (("RATE", rate), ("DUR", duration)):
        if value < 0:
            raise ScenarioError(
                f"{where}, {column}: {value:g} (a NONMEM special code or negative value) is not "
                "supported; give RATE > 0 and/or DUR > 0 for an infusion, 0 otherwise")
        if value and route not in INFUSION_ROUTES:
            raise ScenarioError(f"{where}, {column}: must be 0 for route {route!r} "
                                f"(only {', '.join(INFUSION_ROUTES)} takes a rate or duration)")
    if rate and duration and not math.isclose(amount, rate * duration,
                                              rel_tol=_RELATIVE_TOLERANCE, abs_tol=0.0):
        raise ScenarioError(f"{where}, RATE: AMT ({amount:g}) must equal RATE ({rate:g}) x DUR "
                            f"({duration:g})")
    infusion_h = duration or (amount / rate if rate else None)
    try:
        return Dose(drug, route, None if drug in NO_AMOUNT else amount, time_h=time,
                    duration_h=infusion_h)
    except ScenarioError as error:
        raise renamed(error, {field: f"{where}, {column}"
                              for field, column in _COLUMN_OF_FIELD.items()}) from None


def read_event_table(path: str | Path) -> list[Regimen]:
    """Regimens (amounts in mg) from an event-table CSV, one per ID in increasing ID order.

    Rows are numbered from 1 after the header. EVID 0 (observation) rows are skipped; EVID must
    be 0 or 1 (1 if the column is absent). Columns other than :data:`EVENT_COLUMNS`, and a
    column given twice, are refused (a misspelt RATE would be silently ignored otherwise).
    """
    if Path(path).is_dir():
        raise ScenarioError(f"event table: {path} is a folder, not a CSV file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, index_col=False).fillna("")
    except FileNotFoundError:
        raise ScenarioError(f"event table file not found: {path}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(f"{path}: not a readable CSV event table: {first_line}") from None
    # the header as read (pandas renames a repeated column to "AMT.1")
    names = [c.strip() for c in pd.read_csv(path, header=None, nrows=1, dtype=str,
                                             keep_default_na=False).iloc[0]]
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise ScenarioError(f"{path}: event table column(s) {', '.join(twice)} given twice")
    unknown = [c for c in names if c not in (*EVENT_COLUMNS, *IGNORED_COLUMNS)]
    if unknown:
        raise ScenarioError(f"{path}: event table column(s) {', '.join(map(repr, unknown))} not "
                            f"known; allowed: {', '.join(EVENT_COLUMNS)} (and "
                            f"{', '.join(IGNORED_COLUMNS)}, ignored)")
    missing = [column for column in _REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise ScenarioError(f"{path}: event table lacks column(s) {', '.join(missing)}; "
                            f"expected {', '.join(EVENT_COLUMNS)}")
    by_subject: dict[int, list[Dose]] = {}
    for number, row in enumerate(table.to_dict("records"), start=1):
        where = f"event table row {number}"
        evid = _cell(row, "EVID", where) if "EVID" in row else 1.0
        if evid == 0:
            continue
        if evid != 1:
            raise ScenarioError(f"{where}, EVID: {evid:g} is not supported; use 1 (dose) or "
                                "0 (observation, skipped)")
        subject = _cell(row, "ID", where)
        if subject < 1 or subject != int(subject):
            raise ScenarioError(f"{where}, ID: must be a whole number >= 1, got {subject:g}")
        by_subject.setdefault(int(subject), []).append(_dose_from_row(row, where))
    if not by_subject:
        raise ScenarioError(f"{path}: event table has no dose rows (EVID 1)")
    return [Regimen(tuple(by_subject[subject])) for subject in sorted(by_subject)]
