# Every target sets up .venv on its own when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CHROMIUM := /usr/bin/chromium
NATS_SERVER := /usr/sbin/nats-server

.PHONY: demo test lint typecheck pytest bench clean chromium nats-server

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "segmentry needs Python 3.11 or newer" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# make demo DEMO_ARGS="--port 8001" passes options on (see segmentry demo --help)
demo: $(STAMP)
	$(BIN)/segmentry demo $(DEMO_ARGS)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

pytest: $(STAMP) chromium nats-server
	$(BIN)/pytest -n 2 --dist loadgroup

# The web page's browser tests drive Debian's Chromium (Playwright never downloads
# a browser of its own). Installing it needs root, as CI has; elsewhere the browser
# tests skip with the reason when it is missing.
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	  else \
	    echo "$(CHROMIUM) is missing and installing it needs root: the browser tests will skip" >&2; \
	  fi; }

# The delivery tests start their own nats-server (Debian's package) to stop and restart
# it; in CI (as root) it is installed when missing, and without it they fail there.
nats-server:
	@command -v nats-server >/dev/null || test -x $(NATS_SERVER) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's nats-server for the delivery tests"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nats-server; \
	  else \
	    echo "$(NATS_SERVER) is missing and installing it needs root: the NATS tests will skip" >&2; \
	  fi; }

bench: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
