"""The claims command: each claim has data with citations, model numbers and a verdict."""

import pytest
from typer.testing import CliRunner

from ketasim.cli import app
from ketasim.evidence.claims import claims

pytestmark = pytest.mark.slow  # end to end: the claims with the model's numbers


def test_every_claim_cites_data_and_gives_model_numbers():
    found = claims(n=100)
    assert len(found) == 6
    for c in found:
        assert "n = " in c.data and any(ch.isdigit() for ch in c.model) and c.verdict


def test_claims_cli_and_bad_n():
    runner = CliRunner()
    assert runner.invoke(app, ["claims", "--n", "50"]).exit_code == 0
    bad = runner.invoke(app, ["claims", "--n", "5"])
    assert bad.exit_code == 2 and "--n" in bad.output
