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
JVM_JARS := $(TOOLS)/jvm
ENGINE_JARS := $(JVM_JARS)/kafka/.resolved $(JVM_JARS)/cassandra/.resolved
# light: orders on this project's cqlserver (up in seconds); real: on Apache Cassandra.
ENGINES ?= light

.PHONY: up test test-unit install up-packages test-packages bench-packages schema schema-check schema-release lint deadcode bench reconcile replay-dlq clean help

help:
	@echo "make up      - install what is missing, start engines, subgraphs and the gateway on :4000"
	@echo "               (ENGINES=real: orders on Apache Cassandra instead of the cqlserver)"
	@echo "make test    - install what is missing, lint, type-check and run every test"
	@echo "make test-unit - the fast tier: the tests that need no engine (under 30 s)"
	@echo "make schema  - export each subgraph's SDL and compose the supergraph"
	@echo "make schema-check   - fail on a change that breaks the released API schema"
	@echo "make schema-release - make the current API schema the released one (schema/)"
	@echo "make deadcode - list unused code (vulture; what frameworks call: tests/deadcode/whitelist.py)"
	@echo "make bench   - run the benchmarks whose figures are in the README (ARGS=--quick:"
	@echo "               short runs; ARGS='--url http://...' measures a running shop)"
	@echo "make reconcile - check the running shop's books (stock, money, the processor's ledger)"
	@echo "make replay-dlq GROUP=items TOPIC=shop.order [ARGS=--list]"
	@echo "             - re-deliver the events a consumer group parked on <topic>.dlq"

$(UV):
	python$(PYTHON_VERSION) -m venv $(TOOLS) 2>/dev/null || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (containers, CI), Python would
# otherwise compile every library anew on each run, half the fast tier's collection time.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

$(NODE_MODULES): gateway/package.json gateway/package-lock.json
	cd gateway && npm ci --no-audit --no-fund --loglevel=error

# The JVM engines (Apache Kafka, Apache Cassandra): their jars, resolved from Maven Central by
# the pinned build files in engines/ (see engines/README.md).
$(JVM_JARS)/%/.resolved: engines/%/pom.xml
	@command -v mvn >/dev/null || { echo "Maven and Java 17 are needed for Kafka and Cassandra:" \
	  "apt-get install -y maven openjdk-17-jdk-headless"; exit 1; }
	rm -rf $(JVM_JARS)/$*
	mvn -q -B -f $< dependency:copy-dependencies -DincludeScope=runtime \
	  -DoutputDirectory=$(CURDIR)/$(JVM_JARS)/$*
	touch $@

# One Maven at a time: Maven 3.8's local repository (~/.m2) is not safe for two processes
# downloading into it at once, as make's -j would otherwise run them on a fresh machine.
$(JVM_JARS)/cassandra/.resolved: | $(JVM_JARS)/kafka/.resolved

install: $(VENV)/.synced $(NODE_MODULES) $(ENGINE_JARS)

# What a command needs is installed and checked side by side: npm (disk), Maven and apt-get
# (network) and the type checker (CPU) wait on different things (a fresh clone's steps before
# make test's pytest took 62 s one after the other, 50 s side by side, with the Debian packages
# already there); -O keeps each step's output together.
SIDE_BY_SIDE := $(MAKE) --no-print-directory -j4 -O

# Debian packages, named program=package: payments and accounts run on MariaDB (make up and the
# benchmark start one of their own under .data/mariadb, the tests a throwaway one) unless
# MYSQL_URL names a MySQL server; the GraphiQL test (tests/e2e/test_graphiql_subscription.py)
# drives headless Chromium; the benchmark's load generator is wrk (bench/load.py).
MARIADB := $(if $(MYSQL_URL),,mariadbd=mariadb-server)
UP_PACKAGES := $(MARIADB)
TEST_PACKAGES := $(MARIADB) chromium=chromium
BENCH_PACKAGES := $(MARIADB) wrk=wrk

# $(call debian_packages,PROGRAM=PACKAGE ...): the missing ones are installed together, in one
# apt-get run, as root (CI); otherwise this says what to install.
define debian_packages
	@missing=""; \
	for wanted in $(1); do \
	  program=$${wanted%%=*}; \
	  command -v $$program >/dev/null || [ -x /usr/sbin/$$program ] || missing="$$missing $${wanted#*=}"; \
	done; \
	if [ -z "$$missing" ]; then \
	  exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing$$missing (apt-get install) ..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "Missing Debian packages: run 'sudo apt-get install -y$$missing'."; \
	  case "$$missing" in *mariadb-server*) echo "Or set MYSQL_URL=mysql+aiomysql://user:password@host:port" \
	    "to run payments and accounts on a MySQL server.";; esac; \
	  exit 1; \
	fi
endef

up-packages:
	$(call debian_packages,$(UP_PACKAGES))

test-packages:
	$(call debian_packages,$(TEST_PACKAGES))

bench-packages:
	$(call debian_packages,$(BENCH_PACKAGES))

up:
	+$(SIDE_BY_SIDE) install up-packages
	$(PY) -m stack up --engines $(ENGINES)

schema: install
	$(PY) -m stack schema

# The public API schema is versioned: schema/supergraph.public.graphql is what clients were
# promised; schema-check (run by make test) fails on a breaking change, naming it.
schema-check: install
	$(PY) -m stack schema-check

schema-release: install
	$(PY) -m stack schema-release

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Unused code (vulture, [tool.vulture] in pyproject.toml); also a test (tests/deadcode).
deadcode: $(VENV)/.synced
	$(VENV)/bin/vulture

test:
	+$(SIDE_BY_SIDE) install test-packages lint schema-check
	$(PY) -m pytest

# The fast tier: the tests that need no engine and no other process (tests/conftest.py marks
# the others "engine"), in well under 30 seconds; engine fixtures fail there if asked for.
test-unit: $(VENV)/.synced
	SHOP_TESTS_UNIT=1 $(PY) -m pytest -m "not engine and not e2e" -q --ignore=tests/e2e --ignore=tests/gateway

# The product on the light engines (with py-spy profiles), then on Apache Cassandra, then the
# CQL server alone (README, Performance). ARGS are passed to both product runs.
bench:
	+$(SIDE_BY_SIDE) install bench-packages
	$(PY) -m bench --profile $(ARGS)
	$(PY) -m bench --engines real $(ARGS)
	$(PY) bench/cql_bench.py --seconds $(if $(findstring --quick,$(ARGS)),3,10)

# Checks the books of the running local stack (or of the deployment the ITEMS_*, ORDERS_*,
# PAYMENTS_* and SHOP_PROCESSOR_* variables point at); exits 1 on any discrepancy.
reconcile: $(VENV)/.synced
	$(PY) -m ops.reconcile
# Re-delivers the events consumer group GROUP parked on TOPIC.dlq, once their cause is fixed
# (README, "Events that cannot be handled"). ARGS=--list only prints them;
# SHOP_KAFKA_BOOTSTRAP points it at another Kafka.
replay-dlq: $(VENV)/.synced
	@if [ -z "$(GROUP)" ] || [ -z "$(TOPIC)" ]; then \
	  echo "usage: make replay-dlq GROUP=<consumer group> TOPIC=<topic, e.g. shop.order> [ARGS=--list]"; \
	  exit 2; \
	fi
	$(PY) -m shopkit.events.replay --group "$(GROUP)" --topic "$(TOPIC)" $(ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) gateway/node_modules
