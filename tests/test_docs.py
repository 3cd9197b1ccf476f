"""The README's example runs as it is; generated docs match the code; every example runs."""

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ketasim.dosing import KETAMINE
from ketasim.models import MODEL_NAMES
from ketasim.scenario.files import load_scenario
from ketasim.simulation.runner import run_scenario

pytestmark = pytest.mark.slow  # subprocesses: the README example and generated pages

ROOT = Path(__file__).parents[1]


def test_readme_python_example_runs_as_it_is():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "V1_per_kg" in proc.stdout


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_reference_pages_are_generated_from_the_models(name):
    exe = Path(sys.executable).with_name("ketasim")
    page = subprocess.run([str(exe), "params", name, "--markdown"], capture_output=True,
                          text=True, check=True).stdout
    assert (ROOT / "docs" / "models" / "reference" / f"{name}.md").read_text() == page, \
        "run `make docs`"


SCENARIOS = sorted(p for p in (ROOT / "examples").glob("*.toml")
                   if not p.name.startswith("sweep_"))  # sweep files: tests/test_sweep.py


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_every_example_runs_with_a_small_population(path):
    scenario = load_scenario(path)
    small = replace(scenario, population=replace(scenario.population, n=5))
    arms = run_scenario(small)
    assert len(arms) == len(scenario.arms)
    for arm, result in zip(scenario.arms, arms, strict=True):  # ketamine arms expose everyone
        if any(d.substance in KETAMINE for d in arm.regimen.doses):
            assert result.exposure["ketamine"]["cmax_ng_ml"].min() > 0


def test_every_public_name_is_documented():
    import ketasim

    for name in ketasim.__all__:
        obj = getattr(ketasim, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"ketasim.{name} has no docstring"


def test_claims_page_is_generated_by_the_claims_command():
    exe = Path(sys.executable).with_name("ketasim")
    page = subprocess.run([str(exe), "claims", "--markdown"], capture_output=True, text=True,
                          check=True).stdout
    assert (ROOT / "docs" / "claims.md").read_text() == page, "run `make docs`"
    assert page.count("- **Verdict:**") == 6
