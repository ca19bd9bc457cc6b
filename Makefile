# chengguan — `make run` serves the demo city, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Two processes, one test file each at a time (a file's fixtures stay in one process);
# `make test PYTEST_ARGS=` runs in one process. The API fuzz tests always run in one process
# (schemathesis makes a test per operation only there).
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: run test lint bench install clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: $(BIN)/.installed
	$(BIN)/chengguan migrate --noinput
	$(BIN)/chengguan load_demo --if-empty
	$(BIN)/chengguan serve --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/chengguan makemigrations --check --dry-run
	$(BIN)/pytest -p no:xdist tests/test_api_fuzz.py
	$(BIN)/pytest $(PYTEST_ARGS) --ignore=tests/test_api_fuzz.py

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var/test-*.sqlite3*
