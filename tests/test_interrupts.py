"""Bad luck: a run interrupted by SIGINT or SIGTERM exits 130 with one line and leaves no file
that looks complete (no summary.json, no partial file); a run too large for memory is refused
up front, under a memory limit, with one line naming the field."""

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCENARIO = ROOT / "examples" / "single_infusion.toml"
pytestmark = pytest.mark.slow


def _ketasim(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ketasim.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_exits_130_and_leaves_no_complete_looking_output(sig, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")  # an earlier run's: must not stay beside new files
    proc = _ketasim("simulate", str(SCENARIO), "--out", str(out), "--quiet")
    deadline = time.time() + 120
    while not (out / ".ketasim.lock").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)  # mid-run: the simulation takes well over 3 s
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), err
    assert "Traceback" not in err
    assert not (out / "summary.json").exists()
    assert not list(out.glob(".*.partial")) and not (out / "timecourse.parquet").exists()


def _limit_memory() -> None:
    four_gib = 4 * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (four_gib, four_gib))


def test_a_run_too_large_for_memory_is_refused_under_a_memory_limit(tmp_path):
    case = ROOT / "tests" / "bad_inputs" / "ten_years.toml"
    proc = _ketasim("simulate", str(case), "--out", str(tmp_path / "o"), "--quiet",
                    preexec_fn=_limit_memory)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    assert err.strip().startswith("error: output.step: ") and "GiB" in err, err
    assert len(err.strip().splitlines()) == 1
