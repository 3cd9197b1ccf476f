"""Read times and amounts written with units ("40 min", "0.5 mg/kg"); pint is used here only.

Only common, unambiguous unit spellings are accepted (so a typo such as "hh", which pint reads
as hectohours, is an error rather than a silent factor of 100). Conversions are exact: the
number is read as a decimal and scaled by the exact ratio of the unit sizes.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from functools import cache

import pint

from ketasim.errors import ScenarioError

TIME_UNITS = ("s", "sec", "second", "seconds", "min", "mins", "minute", "minutes",
              "h", "hr", "hrs", "hour", "hours", "d", "day", "days", "week", "weeks")
MASS_UNITS = ("ug", "µg", "μg", "mcg", "microgram", "micrograms", "mg", "milligram",
              "milligrams", "g", "gram", "grams", "kg", "kilogram", "kilograms")
BODY_WEIGHT_UNIT = "kg"

_TIME_HINT = "write e.g. '40 min', '4 h' or '3.5 d' (units: s, min, h, d, week)"
_AMOUNT_HINT = ("write a mass such as '35 mg' or a mass per body weight such as '0.5 mg/kg' "
                "(units: ug, mg, g, kg; per kg)")
_MAX_TEXT = 64
_QUANTITY = re.compile(
    r"\s*(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?)"
    r"\s*(?:(?P<unit>[^\W\d_]+)(?:\s*/\s*(?P<per>[^\W\d_]+))?)?\s*"
)


@cache
def registry() -> pint.UnitRegistry:
    """The package's one pint registry, created on first use."""
    return pint.UnitRegistry()


def show(value: object) -> str:
    """A short, one-line rendering of a user's value for error messages."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."


def _size(unit: str) -> Fraction:
    """Exact size of a whitelisted unit in SI base units (pint's definitions are short decimals)."""
    magnitude = registry().Quantity(1, unit).to_base_units().magnitude
    return Fraction(f"{magnitude:.12g}")


def _describe(unit: str) -> str:
    """What pint thinks `unit` is, for an error message."""
    try:
        parsed = registry().parse_units(unit)
    except (pint.errors.PintError, ValueError):
        return "an unknown unit"
    return f"{parsed} ({parsed.dimensionality})"


def _split(text: object, field: str, what: str, hint: str) -> tuple[Fraction, str, str | None]:
    """Split `text` into an exact number, a unit and an optional 'per' unit, or fail clearly."""
    if isinstance(text, (bool, int, float)):
        raise ScenarioError(f"{field}: {show(text)} has no unit; {hint}")
    if not isinstance(text, str):
        raise ScenarioError(f"{field}: expected {what} as text, got {show(text)}; {hint}")
    match = _QUANTITY.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if match is None:
        raise ScenarioError(f"{field}: cannot read {show(text)} as {what}; {hint}")
    if not math.isfinite(float(match["number"])):
        raise ScenarioError(f"{field}: {show(text)} is not a finite number; {hint}")
    if match["unit"] is None:
        raise ScenarioError(f"{field}: {show(text)} has no unit; {hint}")
    return Fraction(match["number"]), match["unit"], match["per"]


def _to_float(value: Fraction, field: str, text: object) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ScenarioError(f"{field}: {show(text)} is too large") from None


def _check_unit(unit: str, allowed: tuple[str, ...], field: str, text: object, hint: str) -> None:
    if unit not in allowed:
        raise ScenarioError(
            f"{field}: in {show(text)}, {unit!r} is {_describe(unit)}, not accepted here; {hint}")


def _hours(text: object, field: str) -> float:
    """Any time written with a unit, in hours (sign kept)."""
    number, unit, per = _split(text, field, "a time", _TIME_HINT)
    if per is not None:
        raise ScenarioError(f"{field}: {show(text)} is not a time; {_TIME_HINT}")
    _check_unit(unit, TIME_UNITS, field, text, _TIME_HINT)
    return _to_float(number * _size(unit) / _size("h"), field, text)


def parse_time(text: str, field: str) -> float:
    """A time point such as '0 h', '40 min' or '3.5 d', in hours (>= 0)."""
    hours = _hours(text, field)
    if hours < 0:
        raise ScenarioError(f"{field}: must be 0 or later, got {show(text)}")
    return hours


def parse_duration(text: str, field: str) -> float:
    """A length of time such as '40 min', in hours (> 0)."""
    hours = _hours(text, field)
    if hours <= 0:
        raise ScenarioError(f"{field}: must be longer than 0, got {show(text)}")
    return hours


#: Smallest dose (mg, or mg/kg): assumption: 1 ng, a millionth of the smallest dose any trial of
#: ketamine or its comparators gives (~1 mg of midazolam) and still a thousand times the solver's
#: absolute tolerance (1e-9 mg); "1e-300 mg" is a typo, not a dose.
MIN_AMOUNT_MG = 1e-6


def parse_amount(text: str, field: str) -> tuple[float, bool]:
    """A dose: '35 mg' -> (35.0, False) in mg, or '0.5 mg/kg' -> (0.5, True) in mg/kg; > 0."""
    number, unit, per = _split(text, field, "an amount", _AMOUNT_HINT)
    _check_unit(unit, MASS_UNITS, field, text, _AMOUNT_HINT)
    if per is not None and per != BODY_WEIGHT_UNIT:
        raise ScenarioError(
            f"{field}: in {show(text)}, amounts per body weight must be per kg, not per {per!r}; "
            f"{_AMOUNT_HINT}")
    amount = _to_float(number * _size(unit) / _size("mg"), field, text)
    if amount <= 0:
        raise ScenarioError(f"{field}: must be more than 0, got {show(text)}")
    if amount < MIN_AMOUNT_MG:
        raise ScenarioError(f"{field}: {show(text)} is below {MIN_AMOUNT_MG * 1e6:g} ng "
                            f"{'per kg ' if per else ''}(no dose that small is given or "
                            "resolved by the solver's tolerances)")
    return amount, per is not None
