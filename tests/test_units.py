"""Times and amounts with units: exact conversions and one-line errors naming the field."""

import pytest

from ketasim.errors import ScenarioError
from ketasim.units import parse_amount, parse_duration, parse_time, registry


def fails(call, *args, field: str, says: str) -> str:
    """Assert `call(*args, field)` raises a one-line ScenarioError naming `field` and `says`."""
    with pytest.raises(ScenarioError) as info:
        call(*args, field)
    message = str(info.value)
    assert message.startswith(f"{field}: ") and "\n" not in message
    assert says in message
    return message


@pytest.mark.parametrize("text, hours", [
    ("40 min", 40 / 60), ("4 h", 4.0), ("3.5 d", 84.0), ("2 weeks", 336.0), ("0 h", 0.0),
    ("90 s", 0.025), ("1.5 hours", 1.5), ("1 week", 168.0), ("0.5e1 min", 5 / 60),
    ("  12h ", 12.0), ("2 days", 48.0),
])
def test_parse_time_gives_hours(text, hours):
    assert parse_time(text, "t") == hours


def test_conversions_are_exact():
    assert parse_amount("0.035 g", "a") == (35.0, False)
    assert parse_amount("500 ug/kg", "a") == (0.5, True)
    assert parse_amount("500 µg / kg", "a") == (0.5, True)
    assert parse_amount("0.5 mcg/kg", "a") == (0.0005, True)
    assert parse_time("10 min", "t") == 1 / 6


@pytest.mark.parametrize("text, expected", [
    ("0.5 mg/kg", (0.5, True)), ("35 mg", (35.0, False)), ("0.035 g", (35.0, False)),
    ("500 ug/kg", (0.5, True)), ("1 kg", (1e6, False)), ("2 milligrams", (2.0, False)),
])
def test_parse_amount(text, expected):
    amount, per_kg = parse_amount(text, "a")
    assert (amount, per_kg) == expected and isinstance(amount, float)


@pytest.mark.parametrize("value, says", [
    ("4", "has no unit"), (4, "has no unit"), (4.0, "has no unit"), (True, "has no unit"),
    (None, "expected a time as text"), (["4 h"], "expected a time as text"),
    ("-1 h", "must be 0 or later"), ("soon", "cannot read 'soon' as a time"),
    ("4 hh", "'hh' is hectohour"), ("4 kg", "'kg' is kilogram ([mass])"),
    ("4 h/kg", "is not a time"), ("1e999 h", "not a finite number"), ("nan h", "cannot read"),
    ("1e308 weeks", "too large"), ("4 h" + " " * 100, "cannot read"), ("4 parsec", "not accepted"),
    ("4 fortnights", "not accepted"),
])
def test_parse_time_rejects(value, says):
    message = fails(parse_time, value, field="output.end", says=says)
    assert "'4 h'" in message or "too large" in message or "or later" in message


def test_time_error_lists_examples():
    message = fails(parse_time, "soon", field="doses[2].at[0]", says="'40 min', '4 h' or '3.5 d'")
    assert "units: s, min, h, d, week" in message


@pytest.mark.parametrize("value, says", [
    ("0 h", "must be longer than 0"), ("-40 min", "must be longer than 0"), (40, "has no unit"),
])
def test_parse_duration_rejects(value, says):
    fails(parse_duration, value, field="doses[0].duration", says=says)


def test_parse_duration_accepts_positive():
    assert parse_duration("40 min", "d") == 40 / 60


@pytest.mark.parametrize("value, says", [
    ("0.5", "has no unit"), (0.5, "has no unit"), (35, "has no unit"),
    ("0.5 mL", "'mL' is milliliter"), ("2 h", "'h' is hour"), ("0 mg", "must be more than 0"),
    ("-1 mg", "must be more than 0"), ("1e-400 mg", "must be more than 0"),
    ("1e999 mg", "not a finite number"), ("lots", "cannot read 'lots' as an amount"),
    ("0.5 mg/mL", "must be per kg, not per 'mL'"), ("0.5 mg/lb", "must be per kg"),
    ("0.5 gr", "'gr' is grain"), ("1 mg/kg/d", "cannot read"), ({"mg": 1}, "as text"),
    ("0.5 mg*kg", "cannot read"),
])
def test_parse_amount_rejects(value, says):
    message = fails(parse_amount, value, field="arms[1].doses[0].amount", says=says)
    if "more than 0" not in message:
        assert "'35 mg'" in message and "'0.5 mg/kg'" in message


def test_registry_is_created_once():
    assert registry() is registry()
