# The few verbs a person needs. A fresh machine needs only python3 (3.11), pip and make:
# the first target bootstraps uv in .tools/ and the locked environment in .venv/.
VENV := .venv
UV := .tools/bin/uv
UV_VERSION := 0.13.9

# tests/test_ui.py drives headless Chromium; RECURWISE_CHROMIUM names another executable.
CHROMIUM := $(or $(RECURWISE_CHROMIUM),/usr/bin/chromium)

.PHONY: demo test test-fast ui lint format clean bench bench-quick browser

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: every process of a build (ours, each dbt run) imports Dagster, dbt,
# GX and pandas; without .pyc files, and where PYTHONDONTWRITEBYTECODE is set, each one
# recompiles them from source (about 6 s a process here).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python3.11 --compile-bytecode
	touch $@

demo: $(VENV)/.synced  ## build the bundled demo snapshots into data/warehouse.duckdb
	$(VENV)/bin/recurwise demo

test: $(VENV)/.synced browser  ## the whole test suite (unit, dbt, end-to-end)
	$(VENV)/bin/python -m pytest

test-fast: $(VENV)/.synced  ## pure functions and the dbt unit tests on an empty warehouse, no build
	$(VENV)/bin/python -m pytest -m "not slow" -n 2 --dist loadfile

# Debian's chromium for the browser test, where this machine allows it (root + apt-get).
# Where it does not, the test is skipped with its reason (it fails in CI: .ci/run).
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$(CHROMIUM)" != /usr/bin/chromium ]; then \
	  echo "note: RECURWISE_CHROMIUM=$(CHROMIUM) does not exist: tests/test_ui.py will be skipped"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for tests/test_ui.py (apt-get install chromium)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	    || echo "warning: apt-get could not install chromium: tests/test_ui.py will be skipped"; \
	else \
	  echo "note: no $(CHROMIUM) and no root apt-get here: tests/test_ui.py will be skipped" \
	    "(install it with: apt-get update && apt-get install -y chromium)"; \
	fi

ui: $(VENV)/.synced  ## the Dagster UI on http://127.0.0.1:3000; its daemon builds the demo into data/
	$(VENV)/bin/recurwise ui --landing seeds/demo --warehouse data/warehouse.duckdb

bench: $(VENV)/.synced  ## the benchmark at 10k, 100k and 1M accounts (long)
	$(VENV)/bin/python benchmarks/run.py

bench-quick: $(VENV)/.synced  ## one small benchmark run, to check the script
	$(VENV)/bin/python benchmarks/run.py --quick

lint: $(VENV)/.synced  ## ruff on the Python code, sqlfluff (dbt templater, duckdb) on the SQL
	$(VENV)/bin/ruff check dagster_project synthetic_crm tests benchmarks
	$(VENV)/bin/ruff format --check dagster_project synthetic_crm tests benchmarks
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests

format: $(VENV)/.synced
	$(VENV)/bin/ruff format dagster_project synthetic_crm tests benchmarks
	$(VENV)/bin/ruff check --fix dagster_project synthetic_crm tests benchmarks

clean:
	rm -rf data dbt_project/target dbt_project/logs .pytest_cache
