# Two commands matter: `make up` (the whole supergraph at http://localhost:4000/graphql)
# and `make test` (every test against real engines). Both install what is missing.
SHELL := /bin/bash
PYTHON_VERSION := 3.11
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
NODE_MODULES := gateway/node_modules/.package-lock.json

.PHONY: up test install schema lint bench clean help

help:
	@echo "make up      - install what is missing, start engines, subgraphs and the gateway on :4000"
	@echo "make test    - install what is missing, lint, type-check and run every test"
	@echo "make schema  - export each subgraph's SDL and compose the supergraph"
	@echo "make bench   - run the benchmarks whose figures are in the README"

$(UV):
	python$(PYTHON_VERSION) -m venv $(TOOLS) 2>/dev/null || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

$(NODE_MODULES): gateway/package.json gateway/package-lock.json
	cd gateway && npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.synced $(NODE_MODULES)

up: install
	$(PY) -m stack up

schema: install
	$(PY) -m stack schema

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest

bench: install
	$(PY) bench/cql_bench.py --seconds 10

clean:
	rm -rf $(VENV) $(TOOLS) gateway/node_modules
