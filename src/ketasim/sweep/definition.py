"""Sweep files (TOML): a base scenario and axes of values, read into a grid of scenarios.

::

    name = "dose x cohort"
    scenario = "single_infusion.toml"   # the base scenario, relative to this file
    chunk = 2000                         # subjects per task (optional)

    [axes]                               # a scenario key (dotted, list items by index): values
    "doses.0.amount" = ["0.25 mg/kg", "0.5 mg/kg"]
    "population.cohort" = ["trd", "elderly"]

The grid is every combination of the axes' values (the first axis varies slowest). Each value
is checked on its own against the base scenario, so that an error names its axis, then every
combination is checked as a scenario.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ketasim.errors import ScenarioError
from ketasim.scenario.definition import Scenario
from ketasim.scenario.files import parse_scenario
from ketasim.units import show

#: Largest grid run without ``--yes`` (scenarios).
MAX_POINTS = 1_000
#: Subjects per task by default.
DEFAULT_CHUNK = 5_000
_KEYS = {"name", "scenario", "chunk", "axes"}


@dataclass(frozen=True)
class Point:
    """One scenario of the grid: its index, its axis values and its scenario document."""

    index: int
    values: dict[str, Any]
    doc: dict

    def scenario(self) -> Scenario:
        return parse_scenario(self.doc, None)


@dataclass(frozen=True)
class Sweep:
    name: str
    axes: dict[str, list]
    points: tuple[Point, ...]
    chunk: int

    @property
    def fingerprint(self) -> str:
        """Identifies the sweep's work: its scenarios and chunk size (for ``--resume``)."""
        text = json.dumps({"chunk": self.chunk, "points": [p.doc for p in self.points]},
                          sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _set(doc: dict, path: str, value: Any) -> None:
    """Set the dotted ``path`` (list items by index) of ``doc`` to ``value``, in place."""
    keys = path.split(".")
    node: Any = doc
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[:depth + 1])
        if isinstance(node, list):
            if not (key.isdigit() and int(key) < len(node)):
                raise ScenarioError(f"axes.{path}: {where} is not an item of a list of "
                                    f"{len(node)}")
            index: int | str = int(key)
        elif isinstance(node, dict):
            index = key
            if not last:
                node.setdefault(key, {})
        else:
            raise ScenarioError(f"axes.{path}: {'.'.join(keys[:depth])} holds a value, "
                                "not a table or list")
        if last:
            node[index] = value
        else:
            node = node[index]


def parse_sweep(doc: dict, base_dir: Path = Path("."), source: str = "<sweep>") -> Sweep:
    """A sweep from its TOML document; the base scenario path is relative to ``base_dir``."""
    unknown = set(doc) - _KEYS
    if unknown:
        raise ScenarioError(f"{sorted(unknown)[0]}: unknown key in {source} (expected one of "
                            f"{', '.join(sorted(_KEYS))})")
    base = doc.get("scenario")
    if isinstance(base, str):
        path = base_dir / base
        try:
            base = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ScenarioError(f"scenario: cannot read {path}: {exc}") from None
    if not isinstance(base, dict):
        raise ScenarioError("scenario: expected a scenario file path or a [scenario] table, "
                            f"got {show(base)}")
    parse_scenario(base, "scenario")
    axes = doc.get("axes")
    if not (isinstance(axes, dict) and axes):
        raise ScenarioError(f"axes: expected a table of at least one axis, got {show(axes)}")
    for axis, values in axes.items():
        if not (isinstance(values, list) and values):
            raise ScenarioError(f"axes.{axis}: expected a non-empty list of values, got "
                                f"{show(values)}")
        for k, value in enumerate(values):
            one = copy.deepcopy(base)
            _set(one, axis, value)
            try:
                parse_scenario(one, None)
            except ScenarioError as exc:
                raise ScenarioError(f"axes.{axis}[{k}]: {exc}") from None
    chunk = doc.get("chunk", DEFAULT_CHUNK)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ScenarioError(f"chunk: expected a whole number of subjects >= 1, got {show(chunk)}")
    name = doc.get("name", "sweep")
    if not isinstance(name, str):
        raise ScenarioError(f"name: expected text, got {show(name)}")
    points = []
    for index, combination in enumerate(itertools.product(*axes.values())):
        values = dict(zip(axes, combination, strict=True))
        point_doc = copy.deepcopy(base)
        for axis, value in values.items():
            _set(point_doc, axis, value)
        point = Point(index, values, point_doc)
        try:
            point.scenario()
        except ScenarioError as exc:
            shown = ", ".join(f"{a} = {show(v)}" for a, v in values.items())
            raise ScenarioError(f"axes: the combination {shown}: {exc}") from None
        points.append(point)
    return Sweep(name, axes, tuple(points), chunk)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"sweep file: cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"sweep file: {path} is not valid TOML: {exc}") from None
    return parse_sweep(doc, path.parent, str(path))
