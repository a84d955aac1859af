# Tokui: `make demo` runs the demo shop, `make test` runs the tests.
# Every target creates the virtual environment it needs in .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= tokui-workspace
DEMO_CUSTOMERS ?= 20000
DEMO_YEARS ?= 2
DEMO_SEED ?= 42

.PHONY: demo test lint bench venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	TOKUI_HOME=$(HOME_DIR) $(BIN)/tokui demo generate --customers $(DEMO_CUSTOMERS) --years $(DEMO_YEARS) --seed $(DEMO_SEED)
	TOKUI_HOME=$(HOME_DIR) $(BIN)/tokui refresh
	@echo ""
	@echo "  Tokui demo:  http://127.0.0.1:8000/"
	@echo "  login:       admin@example.com / tokui-demo-2026"
	@echo "  (Ctrl-C stops the server)"
	@echo ""
	TOKUI_HOME=$(HOME_DIR) $(BIN)/tokui serve --host 127.0.0.1 --port 8000

# Tests sharing an expensive resource (one Spark session) carry an xdist_group mark.
test: $(VENV)/.installed-test
	$(BIN)/pytest -n auto --dist loadgroup

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .mypy_cache .ruff_cache
