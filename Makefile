# newsgen: two set-up commands (make build, make test) and a preview (make serve).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
NPM_STAMP := node_modules/.installed

.PHONY: build test serve lint typecheck clean install test-tools bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Bytecode for the package, refreshed before each run: an editable install ships none, and where
# PYTHONDONTWRITEBYTECODE is set (as on this machine) every run would recompile 20 modules
# (40 ms of a 0.2 s rebuild).
PYC := $(BIN)/python -m compileall -q generator

install: $(STAMP)

build: $(STAMP)
	$(PYC)
	$(BIN)/newsgen build

serve: $(STAMP)
	$(PYC)
	$(BIN)/newsgen serve

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests; never `playwright install` (its CDN is unreachable).
/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null

test-tools: $(TEST_STAMP) $(NPM_STAMP) /usr/bin/chromium

lint: $(TEST_STAMP)
	$(BIN)/ruff check generator tests benchmarks

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

test: test-tools lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(PYC)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf public .public.staging .public.previous .cache .pytest_cache .mypy_cache
