# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-fast bench docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ketasim simulate examples/single_infusion.toml --out results/demo
	@echo "demo outputs are in results/demo/: summary.json, timecourse.parquet, ratings.parquet; figures outcomes, relapse, cascade, ketamine_plasma, norketamine_plasma (.png, .svg, .pdf)"

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto

# the edit-test loop: everything but the statistical and subprocess-heavy tests (marked slow)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

docs: $(STAMP)
	@mkdir -p docs/models/reference
	@for m in $$($(BIN)/python -c "from ketasim.models import MODEL_NAMES; print(*MODEL_NAMES)"); do \
		$(BIN)/ketasim params $$m --markdown > docs/models/reference/$$m.md; done
	$(BIN)/ketasim claims --markdown > docs/claims.md

clean:
	rm -rf results .pytest_cache .hypothesis
