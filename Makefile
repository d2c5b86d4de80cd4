# Monitoring as code. `make generate` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: bytecode generate test deep check lint format clean tools e2e bench diff help
.DEFAULT_GOAL := help

help: ## Show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# Python writes no bytecode where PYTHONDONTWRITEBYTECODE is set (this workplace sets it),
# and then compiles every module of the editable install again in each process: about
# 0.15 s of a one-spec run, paid by every `python -m generator` a test starts. Compiling
# once here keeps that cost at a check of the files' times.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q generator

generate: bytecode ## Regenerate out/ from slo_specs/
	$(BIN)/python -m generator generate

tools: ## Install every engine: Prometheus 2.42/2.53/3.5, VictoriaMetrics, Alertmanager 0.25/0.28/0.33
	tests/install_tools.sh

test: bytecode tools ## Prove the artifacts on every engine (promtool, vmalert, amtool, Alertmanager)
	$(BIN)/python -m pytest -q -n 2 --maxschedchunk=1 -m "not e2e"  # make e2e runs the real-server tests

deep: bytecode tools ## The property tests at full depth and the engine cases make test rotated away (CI runs it)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q -n 2 --maxschedchunk=1 -m "(hypothesis or deep or deep_only) and not e2e"

# E2E_ENGINE: prometheus-3.5 (default), prometheus-2.53, prometheus-2.42 or victoriametrics.
E2E_ENGINE ?= prometheus-3.5
e2e: bytecode tools ## Rules and dashboard on a real engine (E2E_ENGINE=...) with synthetic history
	E2E_ENGINE=$(E2E_ENGINE) $(BIN)/python -m pytest -q -m e2e tests/e2e

bench: bytecode tools ## Measure generation, SLO-evaluation and test-suite cost; writes tests/bench/*.md
	$(BIN)/python -m tests.bench.run

check: bytecode ## Fail with a diff when the committed out/ is stale
	$(BIN)/python -m generator check

# Exit 1 only means "there are changes": make succeeds then, and fails on a real error (2).
diff: $(STAMP) ## Review out/ as Markdown against the merge base with main (BASE=<ref>)
	$(BIN)/python -m generator diff $(if $(BASE),--base $(BASE)) || [ $$? -eq 1 ]

lint: $(STAMP) ## ruff check and ruff format --check
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator tests

format: $(STAMP) ## Reformat the code
	$(BIN)/ruff format generator tests
	$(BIN)/ruff check --fix generator tests

clean: ## Remove the virtualenv, tools and caches (not out/)
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
