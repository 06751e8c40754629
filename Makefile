# dagsmith: `make generate` and `make test` each work as the first command
# on a fresh clone; the virtual environment is created on demand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
AIRFLOW_VERSION := 3.3.2
CONSTRAINTS := constraints/airflow-$(AIRFLOW_VERSION)-py3.11.txt
DEV_STAMP := $(VENV)/.installed-dev
AIRFLOW_STAMP := $(VENV)/.installed-airflow-$(AIRFLOW_VERSION)
# Airflow 2 lives in a venv of its own; `dagsmith verify --python` drives it.
AIRFLOW2_VERSION := 2.11.2
AIRFLOW2_VENV := .venv-airflow2
AIRFLOW2_STAMP := $(AIRFLOW2_VENV)/.installed-$(AIRFLOW2_VERSION)

# dag-factory sends usage data unless told not to: nothing leaves this machine.
export DO_NOT_TRACK := 1
export SCARF_NO_ANALYTICS := true
export AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY := False

.DEFAULT_GOAL := help
.PHONY: help install install-airflow generate check validate verify deploy test test-airflow2 bench lint format clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(DEV_STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	@touch $@

# The git provider: the service tests serve a DAG repository as a GitDagBundle.
# dag-factory: the import from it is tested against dag-factory itself.
$(AIRFLOW_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) 'apache-airflow==$(AIRFLOW_VERSION)' 'apache-airflow-providers-git==1.0.1' -e '.[dag-factory]'
	@touch $@

$(AIRFLOW2_STAMP): constraints/airflow-$(AIRFLOW2_VERSION)-py3.11.txt
	@test -x $(AIRFLOW2_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW2_VENV)
	$(AIRFLOW2_VENV)/bin/python -m pip install --quiet -c $< 'apache-airflow==$(AIRFLOW2_VERSION)'
	@touch $@

install: $(DEV_STAMP) ## Create .venv and install dagsmith with its dev tools

install-airflow: $(AIRFLOW_STAMP) ## Add Apache Airflow (for verify and the integration tests)

# The environments example (examples/environments) is a project of its own.
EXAMPLE_SPECS := examples/environments/specs
# So is examples/uses-pack, whose templates come from the pack in
# examples/template-pack: installed (by pip, as a user would) into a folder of
# its own, so that no other project or test sees it.
PACK_SITE := $(VENV)/example-pack
PACK_STAMP := $(PACK_SITE)/.installed
PACK_SPECS := examples/uses-pack/specs
WITH_PACK := PYTHONPATH=$(CURDIR)/$(PACK_SITE)

$(PACK_STAMP): $(DEV_STAMP) $(wildcard examples/template-pack/* examples/template-pack/*/*)
	rm -rf $(PACK_SITE) examples/template-pack/build
	$(BIN)/python -m pip install --quiet --no-deps --target $(PACK_SITE) ./examples/template-pack
	@touch $@

generate: $(DEV_STAMP) $(PACK_STAMP) ## Write generated_dags/ from specs/ and templates/ (and the examples')
	$(BIN)/dagsmith generate
	$(BIN)/dagsmith generate --specs $(EXAMPLE_SPECS)
	$(WITH_PACK) $(BIN)/dagsmith generate --specs $(PACK_SPECS)

check: $(DEV_STAMP) $(PACK_STAMP) ## Fail, with a diff, when generated_dags/ is out of date
	$(BIN)/dagsmith check
	$(BIN)/dagsmith check --specs $(EXAMPLE_SPECS)
	$(WITH_PACK) $(BIN)/dagsmith check --specs $(PACK_SPECS)

validate: $(DEV_STAMP) ## Load, validate and render every spec; write nothing
	$(BIN)/dagsmith validate

verify: $(AIRFLOW_STAMP) ## Load generated_dags/ in a real Airflow DagBag
	$(BIN)/dagsmith verify

deploy: $(DEV_STAMP) ## Sync generated_dags/ into DAGS_FOLDER=/path/to/airflow/dags
	@test -n "$(DAGS_FOLDER)" || { echo "usage: make deploy DAGS_FOLDER=/path/to/airflow/dags" >&2; exit 2; }
	$(BIN)/dagsmith deploy --to "$(DAGS_FOLDER)"

test: $(AIRFLOW_STAMP) ## Run every test, Airflow integration included
	$(BIN)/python -m pytest

test-airflow2: $(AIRFLOW_STAMP) $(AIRFLOW2_STAMP) ## Verify the examples on Airflow 2.11 as well
	DAGSMITH_AIRFLOW2_PYTHON=$(CURDIR)/$(AIRFLOW2_VENV)/bin/python $(BIN)/python -m pytest -m airflow2

bench: $(DEV_STAMP) ## Performance figures as one table (minutes; builds a dag-factory venv once)
	cd bench && ../$(BIN)/python run.py --parse

lint: $(DEV_STAMP) ## ruff, black, mypy --strict and the import layers
	$(BIN)/ruff check generator tests bench
	$(BIN)/black --check --quiet generator tests bench
	$(BIN)/mypy --strict generator/dagsmith
	$(BIN)/lint-imports --no-cache
	$(BIN)/black --check --quiet generated_dags examples/*/generated_dags

format: $(DEV_STAMP) ## Format this repository's own code
	$(BIN)/ruff check --fix --quiet generator tests
	$(BIN)/black --quiet generator tests

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) $(AIRFLOW2_VENV) .dagsmith .pytest_cache .mypy_cache .ruff_cache .hypothesis
