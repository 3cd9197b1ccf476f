"""One figure style for the CLI, the reports and the app: Okabe & Ito's colour-blind-safe
palette as matplotlib's colour cycle (so ``C0``, ``C1``... are its colours), type readable at
slide size, and every figure saved as PNG, SVG and PDF."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from cycler import cycler

from ketasim.report.outdir import atomic

#: Okabe & Ito, Color Universal Design (2008): distinguishable with every common colour-vision
#: deficiency; yellow last (weak on white).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000",
           "#F0E442")
#: Highlight for values outside an interval.
VERMILLION = "#D55E00"
#: Formats every figure is written in (the PNG's path is returned).
FORMATS = ("png", "svg", "pdf")

# a label with a character the font lacks (an emoji in an arm's name) draws a box, not a
# warning on the user's terminal
warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
plt.rcParams.update({
    "axes.prop_cycle": cycler(color=PALETTE),
    "font.size": 11, "axes.titlesize": 11, "axes.labelsize": 11, "legend.fontsize": 9,
    "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.titlesize": 12,
    "axes.spines.top": False, "axes.spines.right": False, "svg.fonttype": "none",
})


def save(fig, path: Path, formats: tuple[str, ...] = FORMATS, dpi: int = 130) -> Path:
    """Write ``fig`` to ``path`` in each of ``formats`` (same stem) and close it; the PNG's
    path."""
    try:
        for fmt in formats:
            with atomic(path.with_suffix(f".{fmt}")) as partial:
                fig.savefig(partial, dpi=dpi, format=fmt)
    finally:
        plt.close(fig)
    return path.with_suffix(".png")
