"""The validation report: ``validation.json``, figures (PNG) and ``report.html``, one page with
the figures inlined (base64) and no network resources."""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from ketasim.analysis.statistics import normal_quantile
from ketasim.evidence import calibrate, validate
from ketasim.evidence.claims import Claim
from ketasim.evidence.targets import load_targets

#: Plot families by endpoint kind: axis label and factor from the stored unit.
_FAMILIES = {
    "change": ("change (points)", 1.0),
    "relative_change": ("change (% of baseline)", 100.0),
    "response": ("share of patients (%)", 100.0),
    "remission": ("share of patients (%)", 100.0),
    "sensitivity": ("share of patients (%)", 100.0),
    "relapse_days": ("days", 1.0),
}
_INSIDE, _OUTSIDE = "#2a7ab0", "#d1495b"


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


def study_figure(study: str, rows: list[dict], path: Path) -> Path:
    """One panel per family of the study's endpoints: per arm and endpoint, the predicted median
    and 90% interval next to the published value and its own 90% interval, by time."""
    families = list(dict.fromkeys(_family(r["kind"]) for r in rows))
    fig, axes = plt.subplots(1, len(families), figsize=(4.6 * len(families), 4.4),
                             constrained_layout=True, squeeze=False)
    for ax, family in zip(axes[0], families, strict=True):
        mine = [r for r in rows if _family(r["kind"]) == family]
        whens = list(dict.fromkeys(_when(r) for r in sorted(mine, key=lambda r: r["time_h"])))
        series = list(dict.fromkeys((r["arm"], r["endpoint"]) for r in mine))
        width = 0.7 / len(series)
        handles = []
        for k, key in enumerate(series):
            colour = f"C{k}"
            pts = sorted((r for r in mine if (r["arm"], r["endpoint"]) == key),
                         key=lambda r: r["time_h"])
            factor = _FAMILIES[pts[0]["kind"]][1]
            x = np.array([whens.index(_when(r)) for r in pts]) + (k - (len(series) - 1) / 2) * width
            pred = np.array([r["predicted"] for r in pts]) * factor
            lo = pred - np.array([r["p5"] for r in pts]) * factor
            hi = np.array([r["p95"] for r in pts]) * factor - pred
            ax.errorbar(x - width / 5, pred, yerr=[lo, hi], fmt="s", color=colour, ms=6, lw=3,
                        alpha=0.55, capsize=0)
            obs = np.array([r["observed"] for r in pts]) * factor
            err = np.array([[r["observed"] - r["observed_interval"][0],
                             r["observed_interval"][1] - r["observed"]]
                            if r["observed_interval"] else [0.0, 0.0] for r in pts]).T * factor
            ax.errorbar(x + width / 5, obs, yerr=err, fmt="o", color="black", mfc=colour,
                        ms=6, lw=1, capsize=3)
            handles.append(Line2D([], [], color=colour, marker="s", lw=3, alpha=0.7,
                                  label=f"{key[0]}: {key[1]}"))
        handles += [Line2D([], [], color="grey", marker="s", lw=3, alpha=0.55,
                           label="predicted: median, 90% interval"),
                    Line2D([], [], color="black", marker="o", mfc="white", lw=1,
                           label="published: value, 90% CI")]
        ax.set_xticks(range(len(whens)), whens)
        ax.set_xlim(-0.6, len(whens) - 0.4)
        ax.set_ylabel(family)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(handles=handles, fontsize=7.5, loc="upper center",
                  bbox_to_anchor=(0.5, -0.1), frameon=False)
    fig.suptitle(study, fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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


def render_html(result: dict, claims: list[Claim], figures: dict[str, Path]) -> str:
    """The report page; ``figures`` maps ``"overview"`` and each study to its PNG."""
    rows = result["endpoints"]
    table = load_targets()
    fitted = [r for r in rows if r["fitted"]]
    held = [r for r in rows if not r["fitted"]]
    params = result["parameters"]
    z = normal_quantile(0.5 + validate.INTERVAL / 2)
    param_rows = []
    for k in params["names"]:
        value, sd = params["values"][k], params["sd_log"][k]
        lo, hi = np.clip(value * np.exp([-z * sd, z * sd]), *calibrate.BOUNDS[k])
        param_rows.append([f"<code>{k}</code>", f"{value:.4g}", f"{sd:.3f}",
                           f"{lo:.4g} to {hi:.4g}"])
    endpoint_rows = [[html.escape(r["study"]), html.escape(r["arm"]), html.escape(r["endpoint"]),
                      _when(r), str(r["n"]), _fmt(r, r["observed"]), _fmt(r, r["predicted"]),
                      f"{_fmt(r, r['p5'])} to {_fmt(r, r['p95'])}",
                      "yes" if r["inside"] else "<strong>no</strong>",
                      "fitted" if r["fitted"] else
                      ("shown, not fitted" if r["source"] == "calibration" else "scenario"),
                      ", ".join(map(str, r["rows"]))] for r in rows]
    studies = []
    for study in dict.fromkeys(r["study"] for r in rows):
        citation = table.loc[next(r for r in rows if r["study"] == study)["rows"][0], "citation"]
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
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ketasim validation report</title>
<style>{_CSS}</style></head><body>
<h1>ketasim validation report</h1>
<p>Generated by <code>ketasim validate</code> on {result['date']}; model
<code>{result['model']}</code> as calibrated (docs/validation/calibration.md).</p>
{notes}
<h2>Summary</h2>
<p class="big"><strong>{result['n_inside']} of {result['n_endpoints']}</strong> published
values ({100 * result['fraction_inside']:.0f}%) lie inside the model's {share} prediction
interval: {sum(r['inside'] for r in fitted)} of {len(fitted)} fitted endpoints and
{sum(r['inside'] for r in held)} of {len(held)} not fitted (the 2-h row and the scenarios the
calibration never saw). A model whose intervals are right would have about {share} inside.</p>
<p>Each interval is what a trial of the row's size would observe: {result['parameter_draws']}
parameter sets drawn from the calibration's uncertainty, each simulated in a virtual TRD
population of at least {result['patients_per_arm_min']} patients per arm
({result['population_factor']} times the arm's largest n if more), from which
{result['resamples']} trial-sized groups are resampled per endpoint (seed {result['seed']}).
Predicted = median; interval = 5th to 95th percentile. Arms (model
<code>{result['model']}</code> unless noted): {arms}.</p>
<table><thead><tr><th>parameter</th><th>calibrated value</th><th>SD of ln(value)</th>
<th>90% range (within the fit's bounds)</th></tr></thead><tbody>
{"".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in param_rows)}
</tbody></table>
<p class="cite">Covariance: {html.escape(params['method'])} ({params['date']}).</p>
<h2>Observed against predicted</h2>
{_img(figures['overview'], 'observed against predicted')}
<h2>Per study</h2>
<p>Squares and thick bars: predicted median and {share} interval; circles with black bars:
published value and its own {share} CI (from its SE, or Wilson's interval for a rate).</p>
{"".join(studies)}
<h2>Every endpoint</h2>
{_table(["study", "arm", "endpoint", "time", "n", "observed", "predicted",
         f"{share} interval", "inside", "role", "manifest rows"], endpoint_rows,
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
    out.mkdir(parents=True, exist_ok=True)
    rows = result["endpoints"]
    figures = {"overview": observed_vs_predicted_figure(rows, out / "observed_vs_predicted.png")}
    for study in dict.fromkeys(r["study"] for r in rows):
        figures[study] = study_figure(study, [r for r in rows if r["study"] == study],
                                      out / f"study_{study}.png")
    data = out / "validation.json"
    data.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    page = out / "report.html"
    page.write_text(render_html(result, claims, figures), encoding="utf-8")
    return [data, page, *figures.values()]
