"""The validation report: ``validation.json``, figures (PNG) and ``report.html``, one page with
the figures inlined (base64) and no network resources."""

from __future__ import annotations

import base64
import html
import json
import re
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ketasim.evidence import calibrate, validate
from ketasim.evidence.claims import Claim
from ketasim.report.outdir import prepare, write_text
from ketasim.report.style import PALETTE, VERMILLION, save

#: Plot families by endpoint kind: axis label and factor from the stored unit.
_FAMILIES = {
    "change": ("change (points)", 1.0),
    "relative_change": ("change (% of baseline)", 100.0),
    "response": ("share of patients (%)", 100.0),
    "remission": ("share of patients (%)", 100.0),
    "sensitivity": ("share of patients (%)", 100.0),
    "relapse_days": ("days", 1.0),
}
_INSIDE, _OUTSIDE = PALETTE[0], VERMILLION


def _family(kind: str) -> str:
    return _FAMILIES[kind][0]


def _when(row: dict) -> str:
    """Time label: hours below a day, else days; relapse medians are after the course."""
    if row["kind"] == "relapse_days":
        return "after the course"
    h = row["time_h"]
    return f"{h:g} h" if h < 24 else f"{h / 24:g} d"


def _fmt(row: dict, x: float | None) -> str:
    if x is None:
        return ""
    factor = _FAMILIES[row["kind"]][1]
    if factor == 100.0:
        return f"{100 * x:.1f}%"
    return f"{x:.1f}"


def _markdown(text: str) -> str:
    """Escaped text with Markdown ``**bold**`` and ```code``` as HTML."""
    out = html.escape(text)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


#: Ticks of a VPC's time axis (h, log scale).
_TICKS = ((2, "2 h"), (4, "4 h"), (12, "12 h"), (24, "1 d"), (72, "3 d"), (168, "7 d"),
          (336, "14 d"), (672, "28 d"), (1344, "56 d"))


def _observed_bars(r: dict) -> list[float]:
    f = _FAMILIES[r["kind"]][1]
    ci = r["observed_interval"]
    return [f * (r["observed"] - ci[0]), f * (ci[1] - r["observed"])] if ci else [0.0, 0.0]


def _legend(text: str, n: int) -> str:
    """A legend entry: ``text`` shortened to one line of a panel, with the arm's n."""
    return f"{textwrap.shorten(text, 48, placeholder='...')} (n {n})"


def _published(ax, x: float, r: dict, colour: str) -> None:
    """The published value of ``r`` at ``x`` with its 90% CI, edged in vermillion if outside
    the predicted interval."""
    ax.errorbar(x, r["observed"] * _FAMILIES[r["kind"]][1],
                yerr=np.array([_observed_bars(r)]).T, fmt="o", ms=6, capsize=3, lw=1,
                color="black", mfc=colour, mec="black" if r["inside"] else VERMILLION,
                mew=1 if r["inside"] else 2)


def study_figure(study: str, rows: list[dict], bands: list[dict], path: Path) -> Path:
    """Visual predictive check of one study: per family of its endpoints, each arm's predicted
    median and 90% band through time (a trial of the arm's size, log time axis) under the
    published values with their own 90% CI; endpoints without a time course (relapse medians,
    sensitivities) as predicted interval beside the published value."""
    timed = [r for r in rows if r["kind"] in validate.VPC_KINDS]
    other = [r for r in rows if r["kind"] not in validate.VPC_KINDS]
    families = list(dict.fromkeys(_family(r["kind"]) for r in timed))
    panels = len(families) + bool(other)
    fig, axes = plt.subplots(1, panels, figsize=(4.8 * panels, 4.4), constrained_layout=True,
                             squeeze=False)
    series = list(dict.fromkeys((r["arm"], r["endpoint"]) for r in rows))
    colour = {key: PALETTE[k % len(PALETTE)] for k, key in enumerate(series)}
    for ax, family in zip(axes[0], families, strict=False):
        for b in (b for b in bands if _family(b["kind"]) == family):
            f, key = _FAMILIES[b["kind"]][1], (b["arm"], b["endpoint"])
            c = colour.get(key, "grey")
            ax.fill_between(b["times_h"], np.multiply(b["p5"], f), np.multiply(b["p95"], f),
                            color=c, alpha=0.22, lw=0)
            ax.plot(b["times_h"], np.multiply(b["p50"], f), color=c, lw=1.6,
                    label=_legend(f"{b['arm'].removeprefix(study + ': ')}: {b['endpoint']}",
                                  b["n"]))
        for r in (r for r in timed if _family(r["kind"]) == family):
            _published(ax, r["time_h"], r, colour[(r["arm"], r["endpoint"])])
        times = [r["time_h"] for r in timed if _family(r["kind"]) == family] + [
            t for b in bands if _family(b["kind"]) == family for t in b["times_h"]]
        ticks = [t for t in _TICKS if min(times) / 1.3 <= t[0] <= max(times) * 1.3]
        ax.set_xscale("log")
        ax.set_xlim(min(times) / 1.3, max(times) * 1.3)
        ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks])
        ax.minorticks_off()
        ax.set_xlabel("time since the (first) dose")
        ax.set_ylabel(family)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.14),
                  frameon=False)
    if other:
        ax = axes[0][-1]
        for k, r in enumerate(other):
            f = _FAMILIES[r["kind"]][1]
            c = colour[(r["arm"], r["endpoint"])]
            pred = r["predicted"] * f
            ax.errorbar(k - 0.12, pred, yerr=[[pred - r["p5"] * f], [r["p95"] * f - pred]],
                        fmt="s", color=c, ms=6, lw=3, alpha=0.55)
            _published(ax, k + 0.12, r, c)
        ax.set_xticks(range(len(other)), [textwrap.fill(f"{r['arm']}: {r['endpoint']}", 26)
                                          for r in other], fontsize=7)
        ax.set_xlim(-0.6, len(other) - 0.4)
        ax.set_ylabel("days or share of patients (%)")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{study}: predicted median and 90% band (lines, shading) and published "
                 "values with their 90% CI (points; red edge: outside)", fontsize=9.5)
    return save(fig, path)


def observed_vs_predicted_figure(rows: list[dict], path: Path) -> Path:
    """Published value (its 90% CI) against the predicted median (90% prediction interval), one
    panel per family; blue inside the interval, red outside; circles fitted, triangles not."""
    families = list(dict.fromkeys(_family(r["kind"]) for r in rows))
    columns = min(2, len(families))
    lines = -(-len(families) // columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.8 * columns, 4.6 * lines),
                             constrained_layout=True, squeeze=False)
    for ax in axes.flat[len(families):]:
        ax.set_visible(False)
    for ax, family in zip(axes.flat, families, strict=False):
        lims = []
        for r in (r for r in rows if _family(r["kind"]) == family):
            f = _FAMILIES[r["kind"]][1]
            x, y = r["predicted"] * f, r["observed"] * f
            ci = r["observed_interval"]
            yerr = [[y - ci[0] * f], [ci[1] * f - y]] if ci else None
            ax.errorbar(x, y, xerr=[[x - r["p5"] * f], [r["p95"] * f - x]], yerr=yerr,
                        fmt="o" if r["fitted"] else "^", ms=6, lw=1, alpha=0.8,
                        color=_INSIDE if r["inside"] else _OUTSIDE)
            lims += [r["p5"] * f, r["p95"] * f, y, *(c * f for c in ci or ())]
            if not r["inside"]:
                ax.annotate(f"{r['study'].split('_')[0]} {_when(r)}", (x, y), fontsize=6.5,
                            xytext=(4, 3), textcoords="offset points", color=_OUTSIDE)
        lo, hi = min(lims), max(lims)
        pad = 0.05 * (hi - lo or 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="grey", lw=0.8, ls="--")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_xlabel(f"predicted {family}")
        ax.set_ylabel(f"published {family}")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(handles=[
        Line2D([], [], color=_INSIDE, marker="o", ls="none", label="inside, fitted"),
        Line2D([], [], color=_INSIDE, marker="^", ls="none", label="inside, not fitted"),
        Line2D([], [], color=_OUTSIDE, marker="o", ls="none", label="outside, fitted"),
        Line2D([], [], color=_OUTSIDE, marker="^", ls="none", label="outside, not fitted")],
        fontsize=7.5, loc="upper left")
    return save(fig, path)


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _table(header: list[str], body: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    rows = "".join(f'<tr class="{c}">' + "".join(f"<td>{v}</td>" for v in row) + "</tr>"
                   for row, c in zip(body, classes or [""] * len(body), strict=True))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { margin-bottom: 0.2em; }
.cite { color: #555; font-size: 0.85em; margin: 0 0 0.5em; }
.big { font-size: 1.3em; }
img { max-width: 100%; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
tr.outside td { background: #fbe9eb; }
td.num { text-align: right; white-space: nowrap; }
code { background: #f3f3f3; padding: 0 0.2em; }
"""


#: How a row not fitted takes part, by its endpoint's ``source``.
_ROLES = {"calibration": "shown, not fitted", "scenario": "scenario",
          "literature": "literature, predicted"}


def render_html(result: dict, claims: list[Claim], figures: dict[str, Path]) -> str:
    """The report page; ``figures`` maps ``"overview"`` and each study to its PNG."""
    rows = result["endpoints"]
    fitted = [r for r in rows if r["fitted"]]
    held = [r for r in rows if not r["fitted"]]
    params = result["parameters"]
    param_rows = [[f"<code>{k}</code>", f"{params['values'][k]:.4g}" if k in params["values"]
                   else "", *(f"{x:.4g}" for x in q)] for k, q in params["posterior"].items()]
    endpoint_rows = [[html.escape(r["study"]), html.escape(r["arm"]), html.escape(r["endpoint"]),
                      _when(r), str(r["n"]), _fmt(r, r["observed"]), _fmt(r, r["predicted"]),
                      f"{_fmt(r, r['p5'])} to {_fmt(r, r['p95'])}",
                      "yes" if r["inside"] else "<strong>no</strong>",
                      f"{_fmt(r, r['loso_p5'])} to {_fmt(r, r['loso_p95'])}",
                      "yes" if r["loso_inside"] else "<strong>no</strong>",
                      "fitted" if r["fitted"] else
                      _ROLES[r["source"]],
                      ", ".join(map(str, r["rows"]))] for r in rows]
    studies = []
    for study in dict.fromkeys(r["study"] for r in rows):
        citation = next(r for r in rows if r["study"] == study)["citation"]
        studies.append(f"<h3>{html.escape(study)}</h3><p class='cite'>{html.escape(citation)}"
                       f"</p>{_img(figures[study], study)}")
    skipped = [[str(s["row"]), html.escape(s["label"]), html.escape(s["reason"])]
               for s in result["not_simulated"]]
    claim_rows = [[html.escape(c.claim), html.escape(c.data), html.escape(c.model),
                   html.escape(c.verdict)] for c in claims]
    arms = "; ".join(html.escape(a) + ("" if m == result["model"] else f" (<code>{m}</code>)")
                     for a, m in result["arms"].items())
    notes = "".join(f"<p><strong>Note:</strong> {html.escape(x)}</p>" for x in result["notes"])
    share = f"{100 * result['interval']:.0f}%"
    goals = result["targets"]
    goal_rows = [[f"{label} inside their {share} intervals", f">= {100 * g['goal']:.0f}%",
                  f"{g['inside']} of {g['of']} ({100 * g['inside'] / g['of']:.0f}%)",
                  "yes" if g["inside"] >= g["goal"] * g["of"] else "<strong>no</strong>"]
                 for label, g in (("calibration values", goals["calibration"]),
                                  ("values predicted without their study", goals["loso"]))]
    study_rows = [[html.escape(p["study"]), "yes" if p["in_calibration"] else "no",
                   str(p["endpoints"]), str(p["inside"]), str(p["loso_inside"]),
                   f"{p['effective_draws']:.1f} of {result['parameter_draws']}"]
                  for p in result["studies"]]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ketasim validation report</title>
<style>{_CSS}</style></head><body>
<h1>ketasim validation report</h1>
<p>Generated by <code>ketasim validate</code> on {result['date']}; model
<code>{result['model']}</code> as calibrated (docs/validation/calibration.md).</p>
{notes}
<h2>Targets</h2>
{_table(["target", "goal", "result", "met"], goal_rows)}
<p>Studies whose values are all outside their leave-one-study-out intervals:
{", ".join(map(html.escape, goals["studies_all_outside"])) or "none"}. Missed rows are listed
in red in the tables below; the reasons are in the limits at the end and in
docs/validation/report.md.</p>
<h2>Summary</h2>
<p class="big"><strong>{result['n_inside']} of {result['n_endpoints']}</strong> published
values ({100 * result['fraction_inside']:.0f}%) lie inside the model's {share} prediction
interval: {sum(r['inside'] for r in fitted)} of {len(fitted)} fitted endpoints and
{sum(r['inside'] for r in held)} of {len(held)} not fitted (pooled rates, rows before 24 h and
the scenarios the calibration never saw). A model whose intervals are right would have about
{share} inside.</p>
<p>Each interval is what a new trial of the row's size would observe: {result['parameter_draws']}
parameter sets drawn from the calibration's posterior ({html.escape(params['method'])},
{params['date']}), each simulated in a virtual population of at least
{result['patients_per_arm_min']} patients per arm ({result['population_factor']} times the arm's
largest n if more; the trial's own population where recorded), from which {result['resamples']}
trial-sized groups are resampled per endpoint, each with its own between-study effect (the
posterior's heterogeneity; seed {result['seed']}). Predicted = median; interval = 5th to 95th
percentile. <em>Without its study</em>: the same samples reweighted to the posterior without the
endpoint's study (importance weights 1 / that study's likelihood at each draw; the effective
number of draws is in the table below). Arms (model <code>{result['model']}</code> unless
noted): {arms}.</p>
<table><thead><tr><th>parameter</th><th>model value (MAP)</th><th>posterior 5%</th>
<th>median</th><th>95%</th></tr></thead><tbody>
{"".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in param_rows)}
</tbody></table>
<h2>Leave one study out</h2>
{_table(["study", "in the calibration", "endpoints", "inside", "inside without the study",
         "effective draws"], study_rows,
        ["outside" if p["loso_inside"] == 0 else "" for p in result["studies"]])}
<h2>Observed against predicted</h2>
{_img(figures['overview'], 'observed against predicted')}
<h2>Per study</h2>
<p>Visual predictive checks: lines and shading, the predicted median and {share} band of
what a trial of the arm's size would observe through time; points, the published values with
their own {share} CI (from the SE, or Wilson's interval for a rate), a red edge when outside
the interval. Relapse medians and sensitivities: squares with thick bars, the predicted
median and interval.</p>
{"".join(studies)}
<h2>Every endpoint</h2>
{_table(["study", "arm", "endpoint", "time", "n", "observed", "predicted",
         f"{share} interval", "inside", "without its study", "inside", "role",
         "manifest rows"], endpoint_rows,
        ["" if r["inside"] else "outside" for r in rows])}
<details><summary>{len(skipped)} manifest rows not simulated, and why</summary>
{_table(["row", "target", "reason"], skipped)}</details>
<h2>The claims, with data and model</h2>
<p>From <code>ketasim claims</code> (docs/claims.md): published data (cited) and the model's
numbers for each public claim.</p>
{_table(["claim", "data", "model", "verdict"], claim_rows)}
<h2>Limits</h2>
<h3>Of the calibration</h3>
<ul>{"".join(f"<li>{_markdown(x)}</li>" for x in calibrate.LIMITS)}</ul>
<h3>Of this validation</h3>
<ul>{"".join(f"<li>{_markdown(x)}</li>" for x in validate.LIMITS)}</ul>
</body></html>
"""


def write(result: dict, claims: list[Claim], out: Path) -> list[Path]:
    """Write ``validation.json``, the figures and ``report.html`` to ``out``; return the paths."""
    prepare(out)
    rows = result["endpoints"]
    figures = {"overview": observed_vs_predicted_figure(rows, out / "observed_vs_predicted.png")}
    for study in dict.fromkeys(r["study"] for r in rows):
        figures[study] = study_figure(study, [r for r in rows if r["study"] == study],
                                      [b for b in result["vpc"] if b["study"] == study],
                                      out / f"study_{study}.png")
    data = out / "validation.json"
    write_text(data, json.dumps(result, indent=1, allow_nan=False) + "\n")
    page = write_text(out / "report.html", render_html(result, claims, figures))
    return [data, page, *figures.values()]
