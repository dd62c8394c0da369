# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CONFIG ?= config.yaml

.PHONY: run test lint bench bench-cluster cluster-demo install uninstall clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m gateway run --demo --config $(CONFIG)

lint: $(STAMP)
	$(VENV)/bin/ruff check gateway tests
	$(VENV)/bin/mypy

# Three workers on two cores: most tests wait on ptys, subprocesses and browsers, not the CPU.
# A module stays on one worker, so its daemon or browser is started once.
PYTEST_ARGS ?= -n 3 --dist loadfile

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run.py

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
