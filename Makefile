# Two commands on a fresh machine: `make run` and `make test`.
# `make run` installs only what the bot needs; `make test`, `make lint` and `make bench` add
# the test and lint tools (pytest, hypothesis, ruff, mypy) to the same virtualenv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
RUN_STAMP ?= $(VENV)/.installed-run
DEV_STAMP ?= $(VENV)/.installed-dev

.PHONY: run check test bench lint venv clean

$(RUN_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

venv: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(PY) -m bot

check: $(RUN_STAMP)
	$(PY) -m bot --check

test: $(DEV_STAMP)
	$(PY) -m pytest

bench: $(DEV_STAMP)
	$(PY) -m bench

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy bot handlers storage scheduler

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
