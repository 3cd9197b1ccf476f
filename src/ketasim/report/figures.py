"""Figures of simulated results (matplotlib, written to PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, cast

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr

from ketasim.clinical.endpoints import ASSESS_H, kaplan_meier, relapse_times, responding
from ketasim.clinical.visits import Ratings
from ketasim.report.style import save
from ketasim.scenario.definition import Criteria


class Drawn(Protocol):
    """What the figures need of an arm (a :class:`~ketasim.simulation.runner.ArmResult`, or one
    read back from a result folder by :mod:`ketasim.report.saved`): its label, size, kept time
    courses (``data``: subject x time), ratings and last dose (h)."""

    @property
    def label(self) -> str: ...
    @property
    def n(self) -> int: ...
    @property
    def data(self) -> xr.Dataset: ...
    @property
    def ratings(self) -> Ratings | None: ...
    @property
    def last_dose_h(self) -> float: ...


def concentration_figure(arms: Sequence[Drawn], output: str, path: Path, ylabel: str,
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
    return save(fig, path)


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
    return save(fig, path)


def outcome_figure(arms: Sequence[Drawn], criteria: Criteria, path: Path, title: str = "") -> Path:
    """Per arm, through the rated visits: mean MADRS with the 5-95% range of patients, and the
    shares responding and remitting (``criteria``)."""
    fig, (scores, rates) = plt.subplots(1, 2, figsize=(11, 4.3), constrained_layout=True)
    for k, arm in enumerate(a for a in arms if a.ratings is not None):
        r = cast(Ratings, arm.ratings)
        madrs, days = r.points("madrs"), r.times_h / 24.0
        p5, p95 = np.percentile(madrs, [5, 95], axis=0)
        scores.fill_between(days, p5, p95, color=f"C{k}", alpha=0.2, lw=0)
        scores.plot(days, madrs.mean(axis=0), color=f"C{k}", lw=1.8,
                    label=f"{arm.label}: mean, 5-95% of patients")
        response = responding(madrs, madrs[:, :1], criteria.response_fraction).mean(axis=0)
        rates.plot(days, 100 * response, color=f"C{k}", lw=1.8, label=f"{arm.label}: response")
        rates.plot(days, 100 * (madrs <= criteria.remission_max).mean(axis=0), color=f"C{k}",
                   lw=1.8, ls="--", label=f"{arm.label}: remission")
    scores.set_ylabel("MADRS (points)")
    rates.set_ylabel("share of patients (%)")
    rates.set_ylim(0, 100)
    rates.set_title(f"response (>= {100 * criteria.response_fraction:.0f}% fall), remission "
                    f"(MADRS <= {criteria.remission_max:g})", fontsize=10)
    for ax in (scores, rates):
        ax.set_xlabel("days since the first dose")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def relapse_figure(arms: Sequence[Drawn], criteria: Criteria, path: Path, title: str = ""
                   ) -> Path:
    """Kaplan-Meier share of responders (24 h after each arm's last dose) still responding."""
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    for k, arm in enumerate(a for a in arms if a.ratings is not None):
        r = cast(Ratings, arm.ratings)
        madrs = r.points("madrs")
        if arm.last_dose_h + ASSESS_H >= r.times_h[-1]:
            continue
        responder, days, seen = relapse_times(madrs, madrs[:, 0], r.times_h,
                                              arm.last_dose_h, criteria.response_fraction)
        if not responder.any():
            ax.plot([], [], color=f"C{k}", label=f"{arm.label}: no responder")
            continue
        t, s = kaplan_meier(days[responder], seen[responder])
        ax.step(np.r_[0.0, t], 100 * np.r_[1.0, s], where="post", color=f"C{k}", lw=1.8,
                label=f"{arm.label} ({responder.sum()} responders of {responder.size})")
    ax.set_ylim(0, 102)
    ax.set_xlabel("days since the last dose")
    ax.set_ylabel("responders still responding (%)")
    ax.set_title("time to relapse among responders (Kaplan-Meier; relapse: response lost on "
                 "2 consecutive visits)", fontsize=9)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    return save(fig, path)
