"""Large populations stream: chunked runs give the same numbers as one in-memory run."""

import json

import numpy as np
import pandas as pd
import pytest

from ketasim.analysis.nca import exposures
from ketasim.dosing import Dose, Regimen
from ketasim.errors import KetasimError
from ketasim.models import get_model
from ketasim.models.pk.analytes import plasma_analytes
from ketasim.population.sampling import Population
from ketasim.report import simulation as outputs
from ketasim.scenario.files import parse_scenario
from ketasim.simulation import engine
from ketasim.simulation.engine import iter_simulate, simulate

DOC = {"name": "stream", "substance": "racemic",
       "doses": [{"route": "iv_infusion", "amount": "0.5 mg/kg", "duration": "40 min"}],
       "population": {"n": 40, "seed": 5},
       "output": {"end": "1 d", "step": "30 min", "timepoints": ["40 min", "24 h"]}}


def test_chunks_match_one_run(monkeypatch):
    m = get_model("domino1982")
    reg = Regimen((Dose("racemic", "iv_bolus", 0.3, per_kg=True),))
    times = np.linspace(0, 12, 25)
    whole = simulate(m, reg, Population(30, seed=2), times)
    monkeypatch.setattr(engine, "MAX_CHUNK", 7)
    chunks = list(iter_simulate(m, reg, Population(30, seed=2), times))
    assert [c.sizes["subject"] for c in chunks] == [7, 7, 7, 7, 2]
    assert chunks[3]["subject"].values.tolist() == list(range(21, 28))
    joined = np.concatenate([c["ketamine_plasma_ng_ml"].to_numpy() for c in chunks])
    assert np.array_equal(joined, whole["ketamine_plasma_ng_ml"].to_numpy())


def test_simulate_refuses_results_too_large_for_memory(monkeypatch):
    monkeypatch.setattr(engine, "MEMORY_BYTES", 10_000)
    with pytest.raises(KetasimError, match="iter_simulate"):
        simulate(get_model("domino1982"), Regimen((Dose("racemic", "iv_bolus", 10.0),)),
                 Population(100), np.linspace(0, 1, 20))


def test_large_run_writes_the_kept_subjects_and_keeps_exact_summaries(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "MAX_CHUNK", 9)
    scenario = parse_scenario(DOC)
    arms, paths, _notes = outputs.run_and_write(scenario, tmp_path, keep_subjects=10)
    table = pd.read_parquet(paths[0])
    assert len(table) == 10 * scenario.output.times().size
    assert table["subject"].nunique() == 10
    assert arms[0].data.sizes["subject"] == 10 and arms[0].n == 40
    summary = json.loads(paths[1].read_text())
    assert any("first 10 of 40" in n for n in summary["notes"])
    # the summary covers all 40 subjects, exactly as an in-memory run computes it
    model = get_model(scenario.model)
    full = simulate(model, scenario.arms[0].regimen, scenario.population,
                    scenario.output.times())
    cmax = exposures(full, plasma_analytes(model))["ketamine"]["cmax_ng_ml"]
    assert summary["arms"][0]["pk"]["ketamine"]["cmax_ng_ml"]["median"] == np.median(cmax)
    at_24 = full["ketamine_plasma_ng_ml"].sel(time=24.0).to_numpy()[:10]
    written = table[table["time_h"] == 24.0]["ketamine_plasma_ng_ml"]
    assert np.array_equal(written, at_24.astype(np.float32))  # stored as float32
    # every subject streamed to the file when asked
    _, paths, _ = outputs.run_and_write(scenario, tmp_path / "all", keep_subjects=10,
                                        full_timecourse=True)
    table = pd.read_parquet(paths[0])
    assert table["subject"].nunique() == 40 and len(table) == 40 * scenario.output.times().size


def test_a_metric_no_subject_has_is_left_out_of_the_summary(tmp_path):
    """Output ending with the infusion: no terminal phase, so no half-life (never NaN)."""
    doc = {**DOC, "output": {"end": "40 min", "step": "10 min"}}
    _, paths, _ = outputs.run_and_write(parse_scenario(doc), tmp_path)
    ketamine = json.loads(paths[1].read_text())["arms"][0]["pk"]["ketamine"]
    assert "half_life_h" not in ketamine and "cmax_ng_ml" in ketamine
