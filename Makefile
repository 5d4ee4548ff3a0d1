# Developer workflow.  Needs only python3 (>= 3.11) and network access to PyPI.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.imurep-dev-installed

.PHONY: demo test lint bench venv clean

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the package metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The demo never touches your training history (--no-store; report stores nothing).
demo: $(STAMP)
	$(BIN)/imurep analyze recordings/demo_hip.csv --placement hip --no-store
	@mkdir -p out
	$(BIN)/imurep report recordings/demo_hip.csv --placement hip --out out/demo_report
	@echo "open out/demo_report/report.html (or report.pdf, session.png, set-N.png) to see the report"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	@set -e; for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
