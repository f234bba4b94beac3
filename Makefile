# `make run`: fresh machine -> running collector on ./data plus an example run.
# `make test`: fresh machine -> mypy --strict, then the whole suite; non-zero on any failure or
# when no test ran.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8787
DATA ?= ./data

.PHONY: run test typecheck venv bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) examples/run_local.py --host $(HOST) --port $(PORT) --data-dir $(DATA)

test: typecheck
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

typecheck: $(STAMP)
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
