"""Calibration: the aggregate-data likelihood, and the fitted mechanism against its targets."""

import math
import tomllib
from pathlib import Path

from scipy.stats import binom, norm

from ketasim.clinical.targets import load_targets
from ketasim.evidence.calibrate import Target, nll_term, select_targets
from ketasim.runner import run_scenario
from ketasim.scenario import parse_scenario

EXAMPLE = Path(__file__).parents[1] / "examples" / "mechanism_single_infusion.toml"


def test_likelihood_matches_a_hand_computed_value():
    mean = Target("m", "change", 24.0, observed=-16.0, n=25, sd=10.0)  # SE = 2
    rate = Target("r", "response", 24.0, observed=0.6, n=10)  # k = 6
    # normal: 0.5 * ((-16 - -13) / 2)^2 + ln 2 + 0.5 ln(2 pi)
    by_hand_mean = 0.5 * 1.5**2 + math.log(2.0) + 0.5 * math.log(2 * math.pi)
    # binomial: -ln(C(10, 6) 0.5^6 0.5^4) = -ln(210 / 1024)
    by_hand_rate = -math.log(210 / 1024)
    assert abs(nll_term(mean, -13.0) - by_hand_mean) < 1e-12
    assert abs(nll_term(rate, 0.5) - by_hand_rate) < 1e-12
    assert abs(nll_term(mean, -13.0) + norm.logpdf(-16.0, -13.0, 2.0)) < 1e-12
    assert abs(nll_term(rate, 0.5) + binom.logpmf(6, 10, 0.5)) < 1e-12


def test_selection_uses_only_single_infusion_ketamine_arms():
    targets, skipped = select_targets()
    table = load_targets()
    rows = {r for t in targets for r in t.rows}
    assert rows and all("racemic" in table.loc[r, "drug"] for r in rows)
    assert not any(w in table.loc[r, "arm"].lower() for r in rows
                   for w in ("placebo", "midazolam", "saline"))
    assert {t.time_h for t in targets if t.fitted} == {24.0, 72.0, 168.0, 336.0}
    assert rows | {i for i, *_ in skipped} == set(range(len(table)))


def _pooled_interval(rows, n_sim):
    """Pooled observed response (n-weighted) and its 95% interval, widened by the simulated
    arm's own binomial error."""
    n = rows["n"].sum()
    p = float((rows["value"].astype(float) / 100 * rows["n"]).sum() / n)
    half = 1.96 * math.sqrt(p * (1 - p) * (1 / n + 1 / n_sim))
    return p - half, p + half


def test_fitted_single_infusion_hits_the_24_h_targets():
    n_sim = 400
    doc = tomllib.loads(EXAMPLE.read_text())
    doc["population"] |= {"n": n_sim, "seed": 11}
    doc["output"] = {"end": "3 d", "step": "24 h", "timepoints": ["24 h"]}
    clinic = run_scenario(parse_scenario(doc))[0].clinic
    at24 = next(r for r in clinic["endpoints"] if r["timepoint_h"] == 24.0)

    table = load_targets()
    targets, _ = select_targets(table)
    response_rows = table.loc[[t.rows[0] for t in targets
                               if t.kind == "response" and t.time_h == 24.0]]
    assert len(response_rows) >= 3
    lo, hi = _pooled_interval(response_rows, n_sim)
    assert lo <= at24["response_rate"] <= hi, (lo, at24["response_rate"], hi)

    change = next(t for t in targets if t.kind == "change" and t.time_h == 24.0)
    se = math.sqrt(change.se**2 + at24["sd_change"]**2 / n_sim)
    assert abs(at24["mean_change"] - change.observed) <= 1.96 * se, (at24, change)
