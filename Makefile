PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit install bench demo clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[all,test]"
	touch $(STAMP)

install: $(STAMP)

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[all,test,bench]"
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m benchmarks

demo: $(STAMP)
	$(BIN)/python examples/quickstart.py

lint: $(STAMP)
	$(BIN)/ruff check modelslab_core langchain_modelslab llama_index_modelslab tests benchmarks examples
	$(BIN)/ruff format --check modelslab_core langchain_modelslab llama_index_modelslab tests benchmarks examples docs README.md

typecheck: $(STAMP)
	$(BIN)/mypy modelslab_core langchain_modelslab llama_index_modelslab

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
