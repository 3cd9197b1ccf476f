"""Property: any scenario document gives a Scenario or one ScenarioError line, nothing else.

Documents are valid scenarios with a few random edits (a value replaced by a valid or invalid
one of any type, a key deleted, misspelt or added), so that every layer of checking is reached.
"""

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from ketasim.dosing import ROUTES, SUBSTANCES
from ketasim.errors import ScenarioError
from ketasim.scenario.definition import Scenario
from ketasim.scenario.files import parse_scenario

INFUSION = {"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min", "at": ["0 h"]}
BOLUS = {"route": "iv_bolus", "amount": "35 mg", "start": "1 d", "every": "3.5 d", "count": 4}
WEEKLY = {"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "1 h", "per_week": 2,
          "weeks": 2}
POPULATION = {"n": 100, "cohort": "trd", "seed": 1, "weight_kg": 70}
OUTPUT = {"end": "28 d", "step": "1 h", "timepoints": ["40 min", "24 h", "7 d"]}
BASES = (
    {"name": "one arm", "substance": "racemic", "model": "domino1982",
     "doses": [INFUSION, BOLUS], "population": POPULATION, "output": OUTPUT},
    {"name": "two arms", "substance": "racemic",
     "arms": [{"label": "a", "doses": [INFUSION]},
              {"label": "b", "substance": "racemic", "doses": [BOLUS, WEEKLY]}],
     "population": POPULATION, "output": OUTPUT},
)

NUMBERS = st.sampled_from(["0", "-1", "0.5", "40", "1e-400", "1e999", "3.5", "1e308", ".5"])
UNITS = st.sampled_from(["", " mg", " mg/kg", " ug/kg", " g", " mL", " h", " min", " d",
                         " weeks", " hh", " mg/lb", "mg / kg", " s", " kg", " parsec"])
QUANTITY = st.builds(lambda number, unit: number + unit, NUMBERS, UNITS)
def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


#: Text that rich would read as markup or emoji, and values of the wrong shape or size.
MARKUP = st.sampled_from(["[/x]", "[bold]", "[/bold]", "[[arms]]", ":smile:", "assign:V:",
                          "[red]x[/red]", "\\[x]"])
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(),
                 st.text(max_size=12), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), MARKUP,
                 st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**400]),
                 st.builds(_nested, st.sampled_from([5, 600])),  # a new list each draw
                 st.lists(MARKUP, max_size=2), st.dictionaries(MARKUP, MARKUP, max_size=2))
ANY = st.one_of(QUANTITY, JUNK, st.lists(QUANTITY, max_size=3))
COUNT = st.one_of(st.integers(-2, 30), st.just(20_000))
#: Values worth trying per key, valid and invalid; any key may also get ANY.
VALUES = {
    "route": st.sampled_from((*ROUTES, "iv", "IV_BOLUS", "")),
    "substance": st.sampled_from((*SUBSTANCES, "ketamine")),
    "model": st.sampled_from(("domino1982", "nope")),
    "label": st.sampled_from(("a", "b", "", " ")),
    "count": COUNT, "per_week": COUNT, "weeks": COUNT,
    "n": st.integers(-5, 20_000_000), "seed": st.integers(-3, 2**70),
    "cohort": st.sampled_from(("trd", "healthy", "kids")),
    "weight_kg": st.one_of(st.floats(-10, 500), st.integers(0, 1000)),
    "at": st.lists(QUANTITY, max_size=4), "timepoints": st.lists(QUANTITY, max_size=4),
    "doses": st.lists(st.sampled_from((INFUSION, BOLUS, WEEKLY, {})), max_size=3),
    "arms": st.lists(st.fixed_dictionaries({"label": st.text(max_size=2),
                                            "doses": st.just([BOLUS])}), max_size=2),
}
KEYS = st.sampled_from([*sorted(VALUES), "amount", "duration", "start", "every", "end", "step",
                        "name", "label", "population", "output"])


def slots(node) -> list:
    """Every (container, key) pair inside a document."""
    found = []
    items = node.items() if isinstance(node, dict) else \
        enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append((node, key))
        found.extend(slots(value))
    return found


@st.composite
def documents(draw) -> object:
    """A base scenario after 0-4 random edits, or (rarely) not a table at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(JUNK)
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 4))):
        container, key = draw(st.sampled_from(slots(doc)))
        edit = draw(st.sampled_from(("value", "value", "delete", "misspell", "add")))
        if edit == "value":
            container[key] = copy.deepcopy(draw(st.one_of(VALUES.get(key, ANY), ANY)))
        elif isinstance(container, list):
            container.pop(key)
        elif edit == "delete":
            del container[key]
        elif edit == "misspell":
            cut = draw(st.integers(0, len(key)))
            container[key[:cut] + key[cut + 1:] or "x"] = container.pop(key)
        else:
            container[draw(KEYS)] = draw(ANY)
    return doc


@settings(max_examples=300, deadline=None, derandomize=True)
@given(documents())
def test_parse_scenario_returns_or_raises_one_line(doc):
    try:
        result = parse_scenario(doc, "fuzz.toml")
    except ScenarioError as error:
        message = str(error)
        assert message.startswith("fuzz.toml: ") and "\n" not in message and len(message) < 600
    else:
        assert isinstance(result, Scenario)
        assert result.output.times()[-1] == result.output.end_h


def test_unedited_bases_parse():
    single, two = (parse_scenario(copy.deepcopy(base)) for base in BASES)
    assert [d.time_h for d in single.arms[0].regimen.doses] == [0.0, 24.0, 108.0, 192.0, 276.0]
    assert [len(arm.regimen.doses) for arm in two.arms] == [1, 8]
    assert two.population.fixed == {"weight_kg": 70}
