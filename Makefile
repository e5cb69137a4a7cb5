# Two commands on a fresh machine:  `make run` (the main job) and `make test` (the test suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch 2.13.0 is the CPU wheel on this project's machines; see README for a CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: run test test-fast bench clean browser

$(BIN)/gankit: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: $(BIN)/gankit
	$(BIN)/gankit train

test: $(BIN)/gankit browser
	$(BIN)/ruff check gankit tests benchmarks
	$(BIN)/python -m pytest -q

# the dashboard's browser tests drive Debian's chromium through Playwright (no browser
# download); where it cannot be installed (no root, no apt) those tests skip and say why
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: chromium could not be installed; the dashboard's browser tests will skip"

# the tests not marked slow, for the edit–run loop: two workers of one torch thread each
test-fast: $(BIN)/gankit
	$(BIN)/ruff check gankit tests benchmarks
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow" -n 2

bench: $(BIN)/gankit
	$(BIN)/python benchmarks/train_step.py

clean:
	rm -rf $(VENV) runs .pytest_cache
