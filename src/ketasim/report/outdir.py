"""Output folders: a checked path, one run at a time, every file written whole.

A run writes each file under a temporary name beside it and renames it when complete
(:func:`atomic`), so an interrupted run leaves no file that looks complete; ``summary.json`` is
written last and marks a complete run. :func:`claim` checks the folder (``--out`` errors are one
line), locks it against a second run and removes an earlier run's outputs, so no stale figure
stays beside new results.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from ketasim.errors import KetasimError

#: Outputs of a run (``run_and_write``) that a new run into the same folder removes first.
OUTPUT_GLOBS = ("summary.json", "timecourse.parquet", "ratings.parquet", "*.png", "*.svg",
                "*.pdf", ".*.partial")
_LOCK = ".ketasim.lock"


def _problem(exc: OSError) -> str:
    return exc.strerror or exc.__class__.__name__


def prepare(out: Path, option: str = "--out") -> Path:
    """Create the folder ``out`` (and its parents); one-line errors naming ``option``."""
    if out.exists() and not out.is_dir():
        raise KetasimError(f"{option}: {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise KetasimError(f"{option}: {out} lies under a file, not a folder") from None
    except OSError as exc:
        raise KetasimError(f"{option}: cannot create {out}: {_problem(exc)}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise KetasimError(f"{option}: {out} is not writable")
    return out


@contextlib.contextmanager
def claim(out: Path, globs: tuple[str, ...] = OUTPUT_GLOBS) -> Iterator[Path]:
    """:func:`prepare` ``out``, hold its lock (another run into it is refused) and remove an
    earlier run's outputs (``globs``) for the time of the block."""
    prepare(out)
    try:
        lock = open(out / _LOCK, "w")
    except OSError as exc:
        raise KetasimError(f"--out: cannot write to {out}: {_problem(exc)}") from None
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KetasimError(f"--out: another ketasim run is writing to {out}; wait for it "
                               "or choose another folder") from None
        for pattern in globs:
            for old in out.glob(pattern):
                old.unlink(missing_ok=True)
        yield out


@contextlib.contextmanager
def atomic(path: Path, option: str = "--out") -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to ``path`` when the block ends normally and
    removed otherwise; a write error is a one-line error naming ``option``."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        raise KetasimError(f"{option}: cannot write {path}: {_problem(exc)}") from None
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole (:func:`atomic`)."""
    with atomic(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return path
