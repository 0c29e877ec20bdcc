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

# Every supported Python runs the suite: 3.11 in .venv (which also runs the code generator, 3.11+), the
# others in .venv310, .venv312, .venv313 with the test extras. Each is found on PATH, else in pyenv's
# versions (override with PYTHON3_10=/path/to/python3.10 and so on).
OTHER_PYTHONS := 3.10 3.12 3.13
find_python = $(or $(PYTHON$(subst .,_,$(1))),$(firstword $(shell python$(1) -c 'import sys; print(sys.executable)' 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python$(1))))
venv_of = .venv$(subst .,,$(1))
RESULTS := .test-results
# "N passed, M skipped" from a pytest log's closing line
passed_in = sed -nE 's/^=* *([0-9]+ passed.*) in [0-9.]+s.*/\1/p' $(1) | tail -1

SPEC := openapi/index.yaml
GENERATED := generated/wise_api/__init__.py
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
CODEGEN := $(wildcard codegen/*.py codegen/runtime/*.py codegen/templates/*.jinja codegen/templates/*/*.jinja) generator-config.yml

.PHONY: help demo install install-redis spec generate regenerate dist test test-3.11 $(addprefix test-,$(OTHER_PYTHONS)) test-wheel lint format bench bench-instructions clean

help: ## Show this help
	@grep -hE '^[a-z0-9.-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'
	@echo "  make $(addprefix test-,$(OTHER_PYTHONS)): the suite (less the generator's and fleet load tests) on that Python"
	@echo "  Variables: WISE_SPEC=<path or URL> (default: the lock's URL, else ../shared/wise-openapi/index.yaml, else Wise's bundle)"

demo: $(INSTALLED) $(GENERATED) ## The main job: a narrated payout through the SDK against FakeWise on a loopback port (WISE_OTEL_CONSOLE=tree: each step's trace)
	$(PY) -m examples.payout_demo

install: $(INSTALLED) $(NODE_INSTALLED) install-redis ## Create .venv, install wise-async (editable) with dev tools, and Prism and pyright (npm ci)

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

spec: $(INSTALLED) ## Fetch the Wise OpenAPI bundle into openapi/index.yaml; stops unless it is the one openapi/spec.lock names
	$(PY) -m codegen.spec_source

$(SPEC): | $(INSTALLED)
	$(PY) -m codegen.spec_source

generate: $(INSTALLED) $(SPEC) ## Normalize the locked spec and generate generated/wise_api (client, facade, operation table)
	$(PY) -m codegen.generate

$(GENERATED): $(SPEC) $(CODEGEN) | $(INSTALLED)
	$(PY) -m codegen.generate

regenerate: $(INSTALLED) ## Fetch the spec, generate, print the API changelog against openapi/surface.lock, update the locks
	$(PY) -m codegen.spec_source --regenerating
	$(PY) -m codegen.generate --adopt
	$(PY) -m codegen.surface openapi/surface.lock generated/wise_api/surface.lock --update
	$(PY) -m codegen.spec_source --update-lock

dist: $(INSTALLED) $(GENERATED) ## Build the wheel and sdist into dist/ (both carry generated/wise_api and py.typed)
	rm -rf dist
	$(PY) -m build --outdir dist .

test: install $(GENERATED) ## Everything: surface lock, the suite on Python 3.11, 3.10, 3.12, 3.13, then the built wheel from outside
	$(PY) -m codegen.spec_source --verify
	$(PY) -m codegen.surface openapi/surface.lock generated/wise_api/surface.lock
	$(PY) -m wise_async.testing answered
	$(PY) -m wise_async.testing rules --quiet
	@rm -rf $(RESULTS)
	$(MAKE) --no-print-directory test-3.11
	@# the other Pythons and the wheel, two at a time (one per core); each one's output when it is done
	$(MAKE) --no-print-directory --keep-going -j2 --output-sync=target $(addprefix test-,$(OTHER_PYTHONS)) test-wheel
	@echo "── summary"; grep -h '^fastapi example:\|^typing:\|^runtime:' $(RESULTS)/python3.11.log; cat $(RESULTS)/python*.summary
	@grep -h '^wheel:' $(RESULTS)/wheel.log
	@awk '{ total += $$3 } END { print "total: " total " passed, 0 failed" }' $(RESULTS)/python*.summary

test-3.11: install $(GENERATED) ## The whole suite (unit, trio, real sockets, FastAPI example, contract through Prism, codegen) on Python 3.11
	@mkdir -p $(RESULTS)
	set -o pipefail; $(PY) -m pytest -p no:cacheprovider 2>&1 | tee $(RESULTS)/python3.11.log
	@echo "python 3.11: $$($(call passed_in,$(RESULTS)/python3.11.log))" | tee $(RESULTS)/python3.11.summary

# On the other Pythons: the suite less the generator's own tests (openapi-python-client needs 3.11+),
# the multi-process fleet load tests (minutes of Redis and process timing, the same on every Python;
# the fleet's token store, rate limiter and dedupe tests still run) and the type checkers' pass over
# tests/typing (mypy and pyright check for Python 3.10 whichever Python runs them; the run-time twin runs).
OTHER_PYTHONS_SKIP := --ignore=tests/codegen --ignore=tests/fleet/test_fleet_processes.py \
	--ignore=tests/typing/test_typing_programs.py
# The property tests' full 2,400 calls run on 3.11; the other Pythons run a sample of the same strategies.
OTHER_PYTHONS_PROPERTY_EXAMPLES := 300

define test_other_python
test-$(1): $(NODE_INSTALLED) $(GENERATED) install-redis ## The suite (less the generator's tests and fleet load tests) on Python $(1)
	@test -n "$$(call find_python,$(1))" || { echo "test-$(1): no Python $(1) found (set PYTHON$(subst .,_,$(1))=/path/to/python$(1))"; exit 1; }
	test -x $(call venv_of,$(1))/bin/python || $$(call find_python,$(1)) -m venv $(call venv_of,$(1))
	test $(call venv_of,$(1))/.installed -nt pyproject.toml || { $(call venv_of,$(1))/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' && touch $(call venv_of,$(1))/.installed; }
	@mkdir -p $(RESULTS)
	set -o pipefail; WISE_PROPERTY_EXAMPLES=$(OTHER_PYTHONS_PROPERTY_EXAMPLES) $(call venv_of,$(1))/bin/python -m pytest -q -p no:cacheprovider $(OTHER_PYTHONS_SKIP) 2>&1 | tee $(RESULTS)/python$(1).log
	@echo "python $(1): $$$$($(call passed_in,$(RESULTS)/python$(1).log))" | tee $(RESULTS)/python$(1).summary
endef
$(foreach version,$(OTHER_PYTHONS),$(eval $(call test_other_python,$(version))))

test-wheel: dist ## Install the built wheel in a clean venv outside the tree: imports, py.typed, a FakeWise call, mypy --strict
	@mkdir -p $(RESULTS)
	set -o pipefail; $(PY) tests/packaging/check_wheel.py --python "$(call find_python,3.10)" dist 2>&1 | tee $(RESULTS)/wheel.log

lint: install $(GENERATED) ## ruff (format check + lint) and mypy --strict on wise_async
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(INSTALLED) ## Apply ruff formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install $(GENERATED) ## Import time, per-call cost and paging beside raw httpx, calls in flight beside aiohttp, generation, memory → bench/results.json
	$(PY) -m bench.run

bench-instructions: install $(GENERATED) ## Paging's profile in instructions per page (callgrind; needs valgrind, takes minutes) → bench/instructions.json
	$(PY) -m bench.instructions

clean: ## Remove build outputs (spec copy, generated code); keeps .venv and node_modules
	rm -rf generated dist $(RESULTS) openapi/index.yaml openapi/index.normalized.json
