"""NCA against closed-form profiles, the WinNonlin best-fit rule, CSV validation and the CLI.

Exact references: mono-exponential C0 exp(-k t) (AUC0-inf = C0/k; the log-down trapezoid is
exact for it), bi-exponential (terminal rate = the slower one), Bateman oral profile
(AUC0-inf = F D / CL), and the Domino 1982 model's slowest eigenvalue.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ketasim.analysis.nca import (
    COLUMNS,
    auc,
    auc_inf,
    exposures,
    nca_table,
    read_concentrations,
    terminal_phase,
)
from ketasim.cli import app
from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError
from ketasim.models import get_model
from ketasim.models.pk.analytes import plasma_analytes
from ketasim.population.sampling import Population
from ketasim.simulation.engine import simulate

EXAMPLE = Path(__file__).parents[1] / "examples" / "concentrations.csv"
TIMES = np.array([0, 0.5, 1, 2, 3, 4, 6, 8, 12, 24.0])
runner = CliRunner()


def long_table(profiles: dict[str, np.ndarray], times=TIMES) -> pd.DataFrame:
    rows = [(i, t, c) for i, conc in profiles.items() for t, c in zip(times, conc, strict=True)]
    return pd.DataFrame(rows, columns=["ID", "TIME", "CONC"])


def test_mono_exponential_is_exact():
    c0, k = 50.0, 0.17
    conc = c0 * np.exp(-k * TIMES)
    tp = terminal_phase(conc, TIMES)
    assert tp.lambda_z_per_h == pytest.approx(k, rel=1e-10)
    assert tp.half_life_h == pytest.approx(math.log(2) / k, rel=1e-10)
    assert tp.n_points == TIMES.size - 1 and tp.r2_adj == pytest.approx(1.0, abs=1e-10)
    assert tp.reason == ""
    total, pct = auc_inf(conc, TIMES, tp.lambda_z_per_h)
    assert total == pytest.approx(c0 / k, rel=1e-10)
    assert pct == pytest.approx(100 * math.exp(-k * 24.0), rel=1e-9)
    row = nca_table(long_table({"A": conc})).iloc[0]
    assert row["auc_0_inf_ng_h_ml"] == pytest.approx(c0 / k, rel=1e-10)
    assert row["auc_0_t_ng_h_ml"] == pytest.approx(c0 / k * (1 - math.exp(-k * 24)), rel=1e-10)
    assert (row["cmax_ng_ml"], row["tmax_h"], row["tlast_h"]) == (c0, 0.0, 24.0)
    assert row["clast_ng_ml"] == pytest.approx(c0 * math.exp(-k * 24), rel=1e-12)
    assert row["n_lambda_z"] == 9 and row["note"] == ""


def test_bi_exponential_rule_picks_the_terminal_phase():
    t = np.array([0, 0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48.0])
    conc = 100 * np.exp(-1.5 * t) + 10 * np.exp(-0.1 * t)
    tp = terminal_phase(conc, t)
    assert tp.lambda_z_per_h == pytest.approx(0.1, rel=0.01)
    assert 3 <= tp.n_points < t.size - 1
    # a fit through every sample after Cmax would be badly off: the rule is what matters
    everything = -np.polyfit(t[1:], np.log(conc[1:]), 1)[0]
    assert abs(everything / 0.1 - 1) > 0.1


def test_bateman_oral_profile_auc_matches_dose_over_clearance():
    ka, k, f, dose_mg, cl = 1.5, 0.2, 0.8, 100.0, 10.0
    t = np.round(np.arange(0, 48.0001, 0.1), 10)
    conc = f * dose_mg * ka / (cl / k * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t)) * 1000
    tp = terminal_phase(conc, t)
    assert tp.lambda_z_per_h == pytest.approx(k, rel=0.005)
    assert auc_inf(conc, t, tp.lambda_z_per_h)[0] == pytest.approx(f * dose_mg / cl * 1000,
                                                                   rel=0.005)
    tmax = nca_table(long_table({"A": conc}, t))["tmax_h"][0]
    assert tmax == pytest.approx(math.log(ka / k) / (ka - k), abs=0.1)


@pytest.mark.parametrize(("conc", "why"), [
    ([1, 2, 4, 8], "0 positive samples after Cmax, need 3"),       # Cmax last
    ([8, 4, 2, 0], "2 positive samples after Cmax, need 3"),
    ([10, 5, 4, 6, 8], "terminal slope is not negative"),  # rising tail
    ([5, 5, 5, 5], "terminal slope is not negative"),      # flat: no round-off slope
    ([0, 0, 0, 0], "0 positive samples after Cmax, need 3"),
])
def test_not_estimable_is_explicit(conc, why):
    t = np.arange(len(conc), dtype=float)
    tp = terminal_phase(conc, t)
    assert np.isnan(tp.lambda_z_per_h) and np.isnan(tp.half_life_h) and np.isnan(tp.r2_adj)
    assert tp.n_points == 0 and tp.reason == f"lambda_z not estimable: {why}"
    row = nca_table(long_table({"A": np.array(conc, float)}, t)).iloc[0]
    assert np.isnan(row["auc_0_inf_ng_h_ml"]) and np.isnan(row["auc_extrap_pct"])
    assert row["note"] == tp.reason


def test_large_extrapolation_is_flagged():
    t = np.array([0, 1, 2, 3.0])
    row = nca_table(long_table({"A": 10 * np.exp(-0.05 * t)}, t)).iloc[0]
    assert row["auc_extrap_pct"] == pytest.approx(100 * math.exp(-0.15), rel=1e-9)
    assert row["note"].startswith("AUC0-inf is 86.1% extrapolated")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.3, 1.1), min_size=4, max_size=15), st.floats(1e-3, 1e3))
def test_scaling_conc_scales_auc_and_cmax_and_keeps_lambda_z(ratios, factor):
    """Profiles of random sample-to-sample ratios: mostly declining, some bumps."""
    conc, t = 50 * np.cumprod(ratios), np.cumsum(np.linspace(0.5, 2.0, len(ratios)))
    base, scaled = terminal_phase(conc, t), terminal_phase(conc * factor, t)
    assert scaled.n_points == base.n_points and scaled.reason == base.reason
    np.testing.assert_allclose(scaled.lambda_z_per_h, base.lambda_z_per_h, rtol=1e-9)
    assert auc(conc * factor, t) == pytest.approx(factor * auc(conc, t), rel=1e-12)
    one, many = nca_table(long_table({"A": conc}, t)), nca_table(long_table({"A": conc * factor},
                                                                             t))
    assert many["cmax_ng_ml"][0] == pytest.approx(factor * one["cmax_ng_ml"][0], rel=1e-12)
    np.testing.assert_allclose(many["auc_0_inf_ng_h_ml"], factor * one["auc_0_inf_ng_h_ml"],
                               rtol=1e-9)


def test_table_per_id_and_analyte_in_order_with_unsorted_times():
    rows = [("b", 2, 1.0, "ket"), ("b", 0, 4.0, "ket"), ("b", 1, 2.0, "ket"),
            ("a", 0, 3.0, "nor"), ("a", 1, 6.0, "nor"), ("b", 0, 1.0, "nor"), ("b", 1, 0.5, "nor")]
    table = nca_table(pd.DataFrame(rows, columns=["ID", "TIME", "CONC", "ANALYTE"]))
    assert list(table.columns) == ["ID", "ANALYTE", *COLUMNS]
    assert table[["ID", "ANALYTE"]].values.tolist() == [["b", "ket"], ["a", "nor"],
                                                        ["b", "nor"]]
    # b/ket halves every hour: AUC0-2 = (4 - 1) / ln 2 exactly (log-down)
    assert table["auc_0_t_ng_h_ml"][0] == pytest.approx(3 / math.log(2), rel=1e-12)
    assert table["tmax_h"][1] == 1.0


def domino(times, n=3, **tol):
    m = get_model("domino1982")
    dose = Dose("racemic", "iv_infusion", 0.5, per_kg=True, duration_h=2 / 3)
    res = simulate(m, Regimen((dose,)), Population(n, seed=3), times, **tol)
    p = {k: res[k].to_numpy() for k in m.parameter_names}
    lam = [-max(np.linalg.eigvals([[-(p["k10"][s] + p["k12"][s] + p["k13"][s]), p["k21"][s],
                                    p["k31"][s]], [p["k12"][s], -p["k21"][s], 0],
                                   [p["k13"][s], 0, -p["k31"][s]]]).real) for s in range(n)]
    auc_ref = 0.5 / (p["k10"] * p["V1_per_kg"]) * 1000  # dose / CL, ng*h/mL
    return exposures(res, plasma_analytes(m))["ketamine"], np.log(2) / np.array(lam), auc_ref


def test_exposures_match_the_model_half_life_and_dose_over_clearance():
    times = np.unique(np.r_[np.arange(0, 48.0001, 0.002), 2 / 3])
    found, half_life, auc_ref = domino(times, rtol=1e-8, atol=1e-12)
    # the 1e-4 adjusted-R² tolerance lets a little of the slower distribution phase into the
    # fit of noise-free data (0.15% here)
    np.testing.assert_allclose(found["half_life_h"], half_life, rtol=5e-3)
    np.testing.assert_allclose(found["auc_inf_ng_h_ml"], auc_ref, rtol=1e-4)


def test_exposures_ignore_solver_noise_in_a_long_tail():
    """Over 28 d ketamine falls to round-off (~1e-11 ng/mL, some < 0); the floor keeps it out."""
    found, half_life, _ = domino(np.arange(0, 672.0001, 0.25))
    np.testing.assert_allclose(found["half_life_h"], half_life, rtol=5e-3)


def test_exposures_nan_where_not_estimable():
    found, _, _ = domino(np.linspace(0, 2 / 3, 5))  # ends at the infusion's end: Cmax last
    assert np.isnan(found["half_life_h"]).all() and np.isnan(found["auc_inf_ng_h_ml"]).all()
    assert np.isfinite(found["auc_ng_h_ml"]).all()


def test_example_file_recovers_its_generating_exponentials():
    """examples/concentrations.csv: IV-bolus-like C0 exp(-ln2 t / t_half), 6 significant
    digits; S1 C0 100 ng/mL t_half 2.5 h, S2 150 and 3 h, S3 80 and 4 h."""
    table = nca_table(read_concentrations(EXAMPLE))
    np.testing.assert_allclose(table["half_life_h"], [2.5, 3.0, 4.0], rtol=1e-5)
    np.testing.assert_allclose(table["auc_0_inf_ng_h_ml"],
                               np.array([100 * 2.5, 150 * 3.0, 80 * 4.0]) / math.log(2),
                               rtol=1e-5)


def test_csv_names_are_case_insensitive_and_extra_columns_ignored(tmp_path):
    path = tmp_path / "c.CSV"
    path.write_text("\ufeffdose, Time ,id,conc\n5,0,x,8\n5,1,x,4\n\n5,2,x,2\n")
    data = read_concentrations(path)
    assert list(data.columns) == ["ID", "TIME", "CONC"] and list(data.index) == [1, 2, 4]
    assert nca_table(data)["auc_0_t_ng_h_ml"][0] == pytest.approx(6 / math.log(2), rel=1e-12)


BAD = [
    ("ID,TIME\n1,0\n1,1\n", "missing column(s) CONC (found: ID, TIME)"),
    ("", "missing column(s) ID, TIME, CONC (found: none)"),
    ("ID,TIME,CONC\n", "no data rows"),
    ("ID,TIME,time,CONC\n1,0,0,1\n", "column TIME appears twice"),
    ("ID,TIME,CONC\n1,0,5\n1,abc,3\n", "row 2: TIME must be a finite number (h), got 'abc'"),
    ("ID,TIME,CONC\n1,0,5\n1,1,x3\n", "row 2: CONC must be a finite number (ng/mL), got 'x3'"),
    ("ID,TIME,CONC\n1,0,5\n1,1,nan\n", "row 2: CONC must be a finite number"),
    ("ID,TIME,CONC\n1,0,5\n1,inf,3\n", "row 2: TIME must be a finite number"),
    ("ID,TIME,CONC\n1,-1,5\n1,1,3\n", "row 1: TIME must be >= 0, got -1"),
    ("ID,TIME,CONC\n1,0,5\n1,1,-0.5\n", "row 2: CONC must be >= 0, got -0.5"),
    ("ID,TIME,CONC\n1,0,5\n1,1,\n", "row 2: CONC is blank; blank (BLQ) is not supported: enter 0"),
    ("ID,TIME,CONC\n1,0,5\n ,1,3\n", "row 2: ID is blank"),
    ("ID,TIME,CONC\n1,0,5\n1,1,3\n1,1,4\n", "row 3: repeats the ID and TIME (1 h)"),
    ("ID,TIME,CONC,ANALYTE\n1,0,5,k\n1,0,4,k\n", "row 2: repeats the ID/ANALYTE and TIME (0 h)"),
    ("ID,TIME,CONC\n1,0,5\n1,1,3\n2,0,4\n", "row 3: the only sample of ID 2; NCA needs at"),
    ("ID,TIME,CONC\n1,0,5\n\n1,2\n", "row 3: 2 fields, but the header has 3"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_csv_gives_one_line_naming_row_or_column(tmp_path, text, message):
    path = tmp_path / "conc.csv"
    path.write_text(text)
    with pytest.raises(KetasimError) as err:
        read_concentrations(path)
    assert str(err.value).startswith(f"{path}: {message}"), str(err.value)
    assert "\n" not in str(err.value)


def test_bad_files(tmp_path):
    with pytest.raises(KetasimError, match=r"no such file"):
        read_concentrations(tmp_path / "missing.csv")
    (tmp_path / "c.txt").write_text("ID,TIME,CONC\n1,0,1\n1,1,0.5\n")
    with pytest.raises(KetasimError, match=r"not a \.csv file"):
        read_concentrations(tmp_path / "c.txt")
    (tmp_path / "b.csv").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(KetasimError, match=r"not a readable UTF-8 CSV file"):
        read_concentrations(tmp_path / "b.csv")


def test_python_inputs_are_checked():
    with pytest.raises(KetasimError, match=r"^time_h: "):
        terminal_phase([3, 2, 1], [0, 2, 1])
    with pytest.raises(KetasimError, match=r"^conc: need a finite value"):
        terminal_phase([3, 2], [0, 1, 2])
    with pytest.raises(KetasimError, match=r"^conc: need a finite value >= 0"):
        terminal_phase([3, 2, -1e-12], [0, 1, 2])
    with pytest.raises(KetasimError, match=r"^conc: expected one profile"):
        terminal_phase(np.ones((2, 3)), [0, 1, 2])
    with pytest.raises(KetasimError, match=r"^lambda_z_per_h: "):
        auc_inf([3, 2, 1], [0, 1, 2], -0.1)
    with pytest.raises(KetasimError, match=r"^table: expected a pandas DataFrame, not dict"):
        nca_table({"ID": [1]})
    frame = pd.DataFrame({"ID": [1, 1], "TIME": [0.0, 1.0], "CONC": [1.0, np.nan]})
    with pytest.raises(KetasimError, match=r"^table: row 2: CONC is blank"):
        nca_table(frame)


def test_cli_prints_the_table_and_writes_csv_and_json(tmp_path):
    out = tmp_path / "nca.csv"
    result = runner.invoke(app, ["nca", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "half_life_h" in result.output and "S3" in result.output and "2.5 " in result.output
    written = pd.read_csv(out)
    assert list(written.columns) == ["ID", *COLUMNS]
    np.testing.assert_allclose(written["half_life_h"], [2.5, 3.0, 4.0], rtol=1e-5)
    result = runner.invoke(app, ["nca", str(EXAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["ID"] for r in rows] == ["S1", "S2", "S3"]
    assert rows[1]["half_life_h"] == pytest.approx(3.0, rel=1e-5)


def test_cli_json_writes_null_where_not_estimable(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("ID,TIME,CONC\n1,0,0\n1,1,5\n")
    result = runner.invoke(app, ["nca", str(path), "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["lambda_z_per_h"] is None and row["note"].startswith("lambda_z not estimable")


@pytest.mark.parametrize(("args", "field"), [
    (["nca", "missing.csv"], "missing.csv: no such file"),
    (["nca", "{bad}"], "row 1: TIME must be a finite number"),
    (["nca", str(EXAMPLE), "--out", str(EXAMPLE)], "--out: is the input FILE"),
    (["nca", str(EXAMPLE), "--out", "{dir}/no/such/dir/x.csv"], "error: --out: the folder "),
])
def test_cli_errors_are_one_line_with_exit_2(tmp_path, args, field):
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,CONC\n1,soon,5\n1,1,3\n")
    args = [a.format(bad=bad, dir=tmp_path) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and field in lines[0], lines
    assert EXAMPLE.read_text().startswith("ID,TIME,CONC\nS1,0,100\n")
