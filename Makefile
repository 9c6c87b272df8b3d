# The two commands of the README:
#   make run    start the whole product on the embedded default (embedded PostgreSQL, LocalExecutor)
#   make test   install everything and run the whole test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.taskcenter-installed
PYTEST_ARGS ?=
# The load benchmark's rounds; `make bench` keeps them short. The README's figures are a full run:
#   make bench-load LOAD_ARGS='--clients 10,50,100 --seconds 60'
LOAD_ARGS ?= --clients 10,50,100 --seconds 15
# The scale benchmark's options (benchmarks/bench_scale.py --help); the issue's sizes are
#   make bench-scale SCALE_ARGS='--plans 10000'
SCALE_ARGS ?=

.PHONY: run run-cluster test lint install system-deps bench bench-load bench-scale clean

run: install
	bash scripts/install-system-deps.sh run
	$(BIN)/taskcenter run --home .taskcenter --examples-dir dags --plugins-dir plugins

# The CeleryExecutor topology, each component its own host (network namespace and disk; needs
# root): the machine's PostgreSQL ($$TASKCENTER_DB_URL) and Redis ($$TASKCENTER_BROKER_URL).
run-cluster: install
	bash scripts/install-system-deps.sh run
	$(BIN)/taskcenter run-cluster --home .taskcenter-cluster --examples-dir dags --plugins-dir plugins

test: install system-deps lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The contracts CI enforces (configured in pyproject.toml): ruff (style, bugbear, complexity <= 12),
# mypy (strict on taskcenter.domain and taskcenter.services), import-linter (the rings of the package).
# Every step runs even when an earlier one fails, so one run lists every finding; the target fails
# if any did. PYTHONPATH makes each tool read this checkout (not whatever the venv has installed).
LINT_PATHS := plugins api_plugin tests benchmarks dags setup.py
lint: install
	status=0; \
	$(BIN)/ruff check $(LINT_PATHS) || status=1; \
	PYTHONPATH=plugins:. $(BIN)/mypy -p taskcenter -p api_plugin || status=1; \
	PYTHONPATH=plugins:. $(BIN)/lint-imports || status=1; \
	exit $$status

install: $(STAMP)

$(STAMP): setup.cfg setup.py pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	mkdir -p build
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

# Debian packages the test suite needs (the real Quartz jar for the cron differential test, Chromium
# for the SCREENSHOT and APP_EMAIL job types).
system-deps:
	bash scripts/install-system-deps.sh test

bench: install
	$(BIN)/python benchmarks/bench_cron.py
	$(BIN)/python benchmarks/bench_plan_create.py
	$(BIN)/python benchmarks/bench_load.py $(LOAD_ARGS)

# N clients x T seconds of the compat API mix and of Airflow's own API on one new instance.
bench-load: install
	$(BIN)/python benchmarks/bench_load.py $(LOAD_ARGS)

# N plans on one instance (idle cost, changes, a burst, fire lateness, lists, creation and memory),
# against native Airflow in the same run: about 20 minutes at --plans 200, more at the default N (1,000).
bench-scale: install
	$(BIN)/python benchmarks/bench_scale.py $(SCALE_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
