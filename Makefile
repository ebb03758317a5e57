# Convive: `make run` (demo on SQLite) and `make test` (the whole suite). See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint format bench messages check-python check-browser clean

check-python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "Convive needs Python 3.11: '$(PYTHON)' was not found (set PYTHON=/path/to/python3.11)."; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "Convive needs Python 3.11; '$(PYTHON)' is $$($(PYTHON) --version)."; exit 1; }

$(VENV)/.runtime: requirements.txt pyproject.toml | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.runtime
	@mkdir -p var
	$(BIN)/convive migrate --noinput
	$(BIN)/convive load_demo --if-empty
	$(BIN)/convive demo_logins
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/convive runserver 127.0.0.1:$(PORT)

check-browser:
	@test -x /usr/bin/chromium || { \
	  echo "The browser tests drive Debian's Chromium, which is not installed."; \
	  echo "Install it with:  sudo apt-get install -y chromium"; exit 1; }

test: $(VENV)/.dev check-browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/convive makemigrations --check --dry-run

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(VENV)/.dev
	$(BIN)/python scripts/messages.py

bench: $(VENV)/.dev
	@for script in bench/*.py; do \
	  [ "$$script" = bench/common.py ] && continue; \
	  echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var staticfiles artifacts .pytest_cache .ruff_cache
