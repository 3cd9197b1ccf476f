"""Figures of simulated results (matplotlib, written to PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ketasim.simulation.runner import ArmResult


def concentration_figure(arms: list[ArmResult], output: str, path: Path, ylabel: str,
                         title: str = "", zoom_h: float = 24.0) -> Path:
    """Median and 5-95% band of ``output`` per arm: first ``zoom_h`` h (linear), and on a log
    scale up to when the upper band falls below 0.1% of its peak (or the end)."""
    fig, (near, whole) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for k, arm in enumerate(arms):
        time = arm.data["time"].to_numpy()
        p5, p50, p95 = np.percentile(arm.data[output].to_numpy(), [5, 50, 95], axis=0)
        colour = f"C{k}"
        for ax in (near, whole):
            ax.fill_between(time, p5, p95, color=colour, alpha=0.25, lw=0)
            kept = arm.data.sizes["subject"]
            of = f"{kept:,}" if kept == arm.n else f"{kept:,} of {arm.n:,}"
            ax.plot(time, p50, color=colour, lw=1.6,
                    label=f"{arm.label}: median, 5-95% band (n={of})")
    end = float(arms[0].data["time"][-1])
    near.set_xlim(0, min(zoom_h, end))
    near.set_title(f"first {min(zoom_h, end):g} h")
    upper = [np.percentile(a.data[output].to_numpy(), 95, axis=0) for a in arms]
    peak = max(float(u.max()) for u in upper)
    time = arms[0].data["time"].to_numpy()
    visible = time[np.any([u > 1e-3 * peak for u in upper], axis=0)]
    last = min(end, 1.1 * float(visible[-1])) if visible.size else end
    whole.set_yscale("log")
    whole.set_ylim(peak * 1e-4, peak * 2)
    whole.set_xlim(0, last)
    whole.set_title(f"0-{last:.3g} h, log scale (to 0.1% of peak)")
    for ax in (near, whole):
        ax.set_xlabel("time since first dose (h)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    near.legend(fontsize=8, loc="upper right")
    fig.suptitle(title)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


#: Panels of the cascade figure: (title, [(output, label)], y label).
CASCADE = (
    ("drug", [("ketamine_plasma_ng_ml", "plasma"), ("ketamine_brain_ng_ml", "brain")],
     "ketamine (ng/mL)"),
    ("NMDA block", [("nmda_occupancy", "interneurons"),
                    ("nmda_occupancy_pyramidal", "pyramidal cells")], "occupancy (0-1)"),
    ("glutamate surge", [("glutamate_rel", "glutamate"), ("ampa_drive", "AMPA drive")],
     "relative to baseline"),
    ("BDNF and mTORC1", [("bdnf_rel", "BDNF"), ("mtorc1_rel", "mTORC1")],
     "relative to baseline"),
    ("synapses", [("spine_density_rel", "spine density")], "relative to healthy"),
    ("inflammation", [("inflammation_index", "IL-6-like index")], "index"),
    ("mood", [("depression_severity", "severity")], "fraction of baseline"),
)


def cascade_figure(data, path: Path, title: str = "") -> Path:
    """The cascade of the first subject of ``data``, dose to mood, on one shared (log) time
    axis in hours."""
    one = data.isel(subject=0)
    time = one["time"].to_numpy()
    keep = time > 0
    panels = [(t, [(o, lab) for o, lab in lines if o in one], y) for t, lines, y in CASCADE]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 1.7 * len(panels) + 0.6), sharex=True,
                             constrained_layout=True)
    for ax, (name, lines, ylabel) in zip(np.atleast_1d(axes), panels, strict=True):
        for k, (output, label) in enumerate(lines):
            ax.plot(time[keep], one[output].to_numpy()[keep], color=f"C{k}", lw=1.5,
                    label=label)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(name, fontsize=9, loc="left")
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=7, loc="upper right")
    last = np.atleast_1d(axes)[-1]
    last.set_xscale("log")
    last.set_xlabel("time since first dose (h, log scale)")
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
