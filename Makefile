# `make run`: fresh machine -> running collector on ./data plus an example run.
# `make run-cluster`: fresh machine -> PostgreSQL in ./data-cluster, two collectors on it, nginx in
# front on $(HOST):$(PORT), plus the example run logged through nginx (docs/collector.md).
# `make test`: fresh machine -> the JS unit tests, then the whole suite in two passes with mypy --strict
# beside the first (see `test` below); non-zero on a type error, any failure in either pass, or when
# no test ran.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PIP_STAMP := $(VENV)/.pip-stamp
HOST ?= 127.0.0.1
PORT ?= 8787
DATA ?= ./data
CLUSTER_DATA ?= ./data-cluster
# pytest-xdist workers of the suite's parallel pass (`make test TEST_WORKERS=0`: one process).
TEST_WORKERS ?= 2
# The suite's Python processes (pytest, its workers, every collector and CLI subprocess) cache
# bytecode and pytest's rewritten test modules in .cache/pycache, also where the environment
# sets PYTHONDONTWRITEBYTECODE: compiling the project anew costs each collector start ~0.2 s and
# each pytest process ~9 s of CPU. The source tree gets no __pycache__ folders.
TEST_ENV := env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=$(CURDIR)/.cache/pycache

UI_VENDOR := collector/rundial_collector/ui/vendor
UI_STAMP := $(UI_VENDOR)/.stamp
UPLOT_DIST := web/node_modules/uplot/dist

.PHONY: run run-cluster test test-venvs typecheck typecheck-start jstest jstest-start venv web chromium \
  postgres nginx bench clean

# The venv with a current pip: all that `test-venvs` needs (the pip that `venv` seeds takes twice
# the CPU to install the dev extra).
$(PIP_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	touch $@

# --no-compile: compiling every installed module (torch, pandas, sympy, scipy...) cost ~60 s of
# CPU, where a process writes the bytecode of the modules it imports on first import (the suite's
# in .cache/pycache, TEST_ENV below).
$(STAMP): pyproject.toml | $(PIP_STAMP)
	$(PY) -m pip install --quiet --no-compile -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The UI's third-party code (uPlot), pinned by web/package-lock.json, copied into a git-ignored
# folder that the collector serves at /ui/vendor/ and the wheel ships.
$(UI_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	rm -rf $(UI_VENDOR)
	mkdir -p $(UI_VENDOR)/uplot
	cp $(UPLOT_DIST)/uPlot.esm.js $(UPLOT_DIST)/uPlot.min.css web/node_modules/uplot/LICENSE \
	  $(UI_VENDOR)/uplot/
	touch $@

web: $(UI_STAMP)

# Debian's Chromium for the browser tests (tests/ui/), installed only when missing and only as
# root; never a browser download.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "chromium is missing (not root, not installing): tests/ui skip outside CI"; fi; \
	fi

# PostgreSQL 15's server (tests start throwaway clusters as the postgres user) and Debian's
# nginx-light (the load balancer of the several-collector tests and `make run-cluster`),
# installed only when missing and only as root.
postgres:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y postgresql-15; \
	  else echo "PostgreSQL 15 is missing (not root, not installing)"; exit 1; fi; \
	fi

nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y nginx-light; \
	  else echo "nginx is missing (not root, not installing)"; exit 1; fi; \
	fi

run: $(STAMP) web
	$(PY) examples/run_local.py --host $(HOST) --port $(PORT) --data-dir $(DATA)

run-cluster: $(STAMP) web postgres nginx
	$(PY) examples/run_cluster.py --host $(HOST) --port $(PORT) --data-dir $(CLUSTER_DATA)

# The suite in two passes, both always run: every test not marked `serial` on $(TEST_WORKERS)
# pytest-xdist workers (whole files per worker, so module-scoped collectors and browsers are
# started once; each worker has its own PostgreSQL cluster and session collector; the long
# files are handed out first, tests/helpers/file_order.py), then the `serial` tests (rates,
# latency or pause bounds, printed figures, nginx + collectors + PostgreSQL clusters) in one
# process on a quiet machine. The JS tests (from the start) and mypy (once the project is
# installed) run in the background beside the setup and the parallel pass (the pass's first
# files wait for the cached venvs' build anyway); both are waited for, and their output printed,
# before the serial pass.
# Fails when mypy, the JS tests or either pass fails, and when neither pass ran a test (pytest's
# exit 5 in both; one pass alone may select nothing, e.g. with PYTEST_ARGS naming one file).
# PYTEST_ARGS go to both passes.
test: jstest-start test-venvs typecheck-start web chromium postgres nginx
	@parallel=0; serial=0; \
	$(TEST_ENV) $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile \
	  --no-loadscope-reorder -m 'not serial' $(PYTEST_ARGS) || parallel=$$?; \
	$(call bg_result,jstest); $(call bg_result,typecheck); \
	$(TEST_ENV) $(PY) -m pytest -q -p no:cacheprovider -m serial $(PYTEST_ARGS) || serial=$$?; \
	echo "make test: mypy exit $$typecheck, JS tests exit $$jstest, parallel pass exit $$parallel," \
	  "serial pass exit $$serial"; \
	if [ "$$typecheck" != 0 ] || [ "$$jstest" != 0 ]; then exit 1; fi; \
	if [ $$parallel = 5 ] && [ $$serial = 5 ]; then echo "make test: no test ran"; exit 5; fi; \
	for code in $$parallel $$serial; do \
	  if [ $$code != 0 ] && [ $$code != 5 ]; then exit $$code; fi; \
	done

# The cached venvs of the compatibility tests (tests/helpers/venvs.py: rc1, and the real wandb,
# neptune and goodseed with torch), built in the background from the moment .venv has its pip,
# while the project installs into .venv and mypy and the JS tests run; a test that needs one
# waits for its build (a file lock). Log: .cache/test-venvs.log.
test-venvs: $(PIP_STAMP)
	mkdir -p .cache
	$(PY) -m tests.helpers.venvs > .cache/test-venvs.log 2>&1 &

typecheck: $(STAMP)
	$(PY) -m mypy

# `make test`'s checks in the background: $(call bg_start,NAME,COMMAND) starts COMMAND with its
# output in .cache/NAME.log, then its exit status in .cache/NAME.rc (written last); in a recipe's
# shell, $(call bg_result,NAME) waits for that status (at most BG_WAIT_SECONDS), prints the log
# and sets the shell variable NAME to the status ("none" when it never came).
BG_WAIT_SECONDS := 600
bg_start = mkdir -p .cache; rm -f .cache/$(1).rc; \
  ( $(2) > .cache/$(1).log 2>&1; echo $$? > .cache/$(1).rc.tmp; mv .cache/$(1).rc.tmp .cache/$(1).rc ) &
bg_result = for second in $$(seq $(BG_WAIT_SECONDS)); do [ -s .cache/$(1).rc ] && break; sleep 1; \
  done; $(1)=$$(cat .cache/$(1).rc 2>/dev/null || echo "none (not finished)"); \
  echo "make test: $(1) (exit $$$(1)):"; cat .cache/$(1).log

typecheck-start: $(STAMP)
	$(call bg_start,typecheck,$(PY) -m mypy)

# The UI's pure JS logic (smoothing, bucket merging, URL state...), against golden vectors in
# tests/golden/ that the Python tests share; node's own test runner, no packages.
jstest:
	node --test tests/js/

jstest-start:
	$(call bg_start,jstest,node --test tests/js/)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache web/node_modules $(UI_VENDOR)
