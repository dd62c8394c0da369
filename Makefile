# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config.yaml
# Every dependency at the version (and hash) in the lock files; `make lock` refreshes them.
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
UV_VERSION := 0.13.9
# Quiet twice: only errors, not this machine's pip configuration warnings, before run's banner.
PIP_INSTALL := $(PY) -m pip install --quiet --quiet --disable-pip-version-check

.PHONY: run test lint screenshots bench bench-startup bench-flood bench-cluster cluster-demo lock lock-upgrade install uninstall clean

$(STAMP): pyproject.toml $(TEST_LOCK)
	@echo "Installing $(TEST_LOCK) into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP_INSTALL) --require-hashes -r $(TEST_LOCK)
	@$(PIP_INSTALL) --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m gateway run --demo --config $(CONFIG)

lint: $(STAMP)
	$(VENV)/bin/ruff check gateway tests
	$(VENV)/bin/mypy

# Three workers on two cores: most tests wait on ptys, subprocesses and browsers, not the CPU.
# A module stays on one worker, so its daemon or browser is started once.
PYTEST_ARGS ?= -n 3 --dist loadfile

# The PostgreSQL half of the store tests runs against GATEWAY_TEST_PG_URL; when it is not set
# and a PostgreSQL answers on 127.0.0.1:5432, against that one (GATEWAY_TEST_PG_URL= skips it).
LOCAL_PG_URL := postgresql+asyncpg://postgres@127.0.0.1:5432/test
PG_ANSWERS := import socket; socket.create_connection(("127.0.0.1", 5432), 2).close()

test: lint
	@if [ -z "$${GATEWAY_TEST_PG_URL+set}" ] && $(PY) -c '$(PG_ANSWERS)' 2>/dev/null; then \
		export GATEWAY_TEST_PG_URL='$(LOCAL_PG_URL)'; fi; \
	echo "PostgreSQL tests: $${GATEWAY_TEST_PG_URL:-skipped (GATEWAY_TEST_PG_URL is not set)}"; \
	$(PY) -m pytest $(PYTEST_ARGS)

# The README's screenshots, taken by the browser tests (a plain test run writes them to build/).
screenshots: $(STAMP)
	SMS_GATEWAY_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -p no:xdist -q tests/e2e

bench: $(STAMP)
	$(PY) bench/run.py

bench-startup: $(STAMP)
	$(PY) bench/startup.py

# Resolve pyproject.toml's dependencies again, keeping the pinned versions that still fit (add a
# dependency, then `make lock`); `make lock-upgrade` moves every pin to the newest release.
# One lock for every Python from 3.11 on (--universal); the test set keeps the runtime pins.
UV := build/uv/bin/uv
UV_COMPILE = $(UV) pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command 'make lock' --quiet $(UV_ARGS)

$(UV):
	$(PYTHON) -m venv build/uv
	build/uv/bin/python -m pip install --quiet --quiet uv==$(UV_VERSION)

lock: $(UV)
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra test -c $(LOCK) -o $(TEST_LOCK)

lock-upgrade:
	$(MAKE) lock UV_ARGS=--upgrade

# The request queue and the console under a flood of waiting requests (Chromium).
bench-flood: $(STAMP)
	$(PY) -m bench.flood

# Two nodes on the local PostgreSQL (docs/SCALING.md); PG_URL names the server to use.
PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

bench-cluster: $(STAMP)
	GATEWAY_TEST_PG_URL=$(PG_URL) $(PY) bench/cluster.py

cluster-demo: $(STAMP)
	$(PY) scripts/cluster_demo.py --server $(PG_URL)

# As root: the service into PREFIX (default /opt/sms-gateway); see docs/ADMIN.md.
install:
	DESTDIR="$(DESTDIR)" PREFIX="$(or $(PREFIX),/opt/sms-gateway)" scripts/install.sh $(INSTALL_ARGS)

uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(or $(PREFIX),/opt/sms-gateway)" scripts/uninstall.sh $(UNINSTALL_ARGS)

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
