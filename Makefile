# coadv: `make run` sets everything up and materializes the whole graph on the embedded
# default data; `make test` runs the tests. Only Python 3.11+ and the package registries
# are needed: uv is installed into .tools/ and the locked environment into .venv/.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

COADV_HOME ?= $(CURDIR)/data
export COADV_HOME
export DAGSTER_HOME := $(COADV_HOME)/dagster
export DO_NOT_TRACK := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup run test test-fast bench lint ui clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced
	$(BIN)/python -m coadv_assets.bootstrap

run: setup
	$(BIN)/dagster job execute -m coadv_assets.definitions -j main_job
	$(BIN)/python -m coadv_assets.cli summary

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

test-fast: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

bench: setup
	$(BIN)/python -m coadv_assets.bench
	$(UV) sync --frozen --group bench --python $(PYTHON)
	$(BIN)/python -m coadv_assets.bench.feature_store

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

ui: setup
	$(BIN)/dagster dev -m coadv_assets.definitions

clean:
	rm -rf $(COADV_HOME) dbt_project/target dbt_project/logs
