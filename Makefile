# wise-async — every set-up step lives here; `.ci/run` calls `make test` on a clean clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Prism's dependency tree includes a usage-analytics package; keep it quiet and offline.
export SCARF_ANALYTICS := false

# The oldest supported Python: the generated client and wise_async are tested on it too (the code
# generator itself needs 3.11+). Found on PATH, else in pyenv's versions.
PYTHON310 ?= $(firstword $(shell python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10))
VENV310 := .venv310

SPEC := openapi/index.yaml
GENERATED := generated/wise_api/__init__.py
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
CODEGEN := $(wildcard codegen/*.py codegen/runtime/*.py codegen/templates/*.jinja codegen/templates/*/*.jinja) generator-config.yml

.PHONY: help demo install install-redis spec generate regenerate dist test test-py310 lint format bench clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  Variables: WISE_SPEC=<path or URL> (default ../shared/wise-openapi/index.yaml, else Wise's bundle)"

demo: $(INSTALLED) $(GENERATED) ## The main job: a narrated payout through the SDK against FakeWise on a loopback port
	$(PY) -m examples.payout_demo

install: $(INSTALLED) $(NODE_INSTALLED) install-redis ## Create .venv, install wise-async (editable) with dev tools, and Prism (npm ci)

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install-redis: ## Install redis-server (Debian package) unless present: the fleet tests start their own on a free port
	@command -v redis-server >/dev/null 2>&1 || { \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server; }
	@redis-server --version

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

spec: $(INSTALLED) ## Fetch the Wise OpenAPI bundle into openapi/index.yaml and compare it with openapi/spec.lock
	$(PY) -m codegen.spec_source

$(SPEC): | $(INSTALLED)
	$(PY) -m codegen.spec_source

generate: $(INSTALLED) $(SPEC) ## Normalize the spec and generate generated/wise_api (client, facade, operation table)
	$(PY) -m codegen.generate

$(GENERATED): $(SPEC) $(CODEGEN) | $(INSTALLED)
	$(PY) -m codegen.generate

regenerate: $(INSTALLED) ## Fetch the spec, generate, print the API changelog against openapi/surface.lock, update the locks
	$(PY) -m codegen.spec_source --regenerating
	$(PY) -m codegen.generate
	$(PY) -m codegen.surface openapi/surface.lock generated/wise_api/surface.lock --update
	$(PY) -m codegen.spec_source --update-lock

dist: $(INSTALLED) $(GENERATED) ## Build the wheel and sdist into dist/ (both carry generated/wise_api and py.typed)
	rm -rf dist
	$(PY) -m build --outdir dist .

test: install $(GENERATED) ## Install, fetch the spec, generate, and run every test (unit, trio, contract through Prism), then again on Python 3.10
	$(PY) -m codegen.surface openapi/surface.lock generated/wise_api/surface.lock
	$(PY) -m wise_async.testing answered
	$(PY) -m pytest
	$(MAKE) --no-print-directory test-py310

test-py310: $(GENERATED) ## The suite (less the generator's own tests) on Python 3.10, the oldest supported
	@test -n "$(PYTHON310)" || { echo "test-py310: no Python 3.10 found (set PYTHON310=/path/to/python3.10)"; exit 1; }
	test -x $(VENV310)/bin/python || $(PYTHON310) -m venv $(VENV310)
	$(VENV310)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(VENV310)/bin/python -m pytest -q -p no:cacheprovider --ignore=tests/codegen

lint: install $(GENERATED) ## ruff (format check + lint) and mypy --strict on wise_async
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(INSTALLED) ## Apply ruff formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install $(GENERATED) ## Import-time and memory benchmarks → bench/results.json
	$(PY) -m bench.run

clean: ## Remove build outputs (spec copy, generated code); keeps .venv and node_modules
	rm -rf generated dist openapi/index.yaml openapi/index.normalized.json
