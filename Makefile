# Two commands on a fresh machine:  `make run` (the main job) and `make test` (the test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch 2.13.0 is the CPU wheel on this project's machines; see README for a CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: run test test-fast bench clean

$(BIN)/gankit: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/gankit
	$(BIN)/gankit train

test: $(BIN)/gankit
	$(BIN)/ruff check gankit tests benchmarks
	$(BIN)/python -m pytest -q

test-fast: $(BIN)/gankit  ## the tests not marked slow, for the edit–run loop
	$(BIN)/ruff check gankit tests benchmarks
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(BIN)/gankit
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf $(VENV) runs .pytest_cache
