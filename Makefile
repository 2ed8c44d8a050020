# Two commands: `make run` serves the demo portal, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test venv lint format messages bench clean

run: venv
	scripts/run

# Development: runserver with autoreload and one consumer, instead of gunicorn and the roles.
dev: venv
	scripts/run --dev

test: venv
	scripts/ensure-chromium
	scripts/test

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Re-extract and compile the Persian catalogue after changing user-facing strings.
messages: venv
	$(PY) manage.py makemessages -l fa --no-wrap --no-location --ignore=.venv --ignore=tests --ignore=var
	$(PY) manage.py compilemessages -l fa --ignore=.venv

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Figures, not assertions: concurrent answer saves and launch reads (see bench/).
bench: venv
	$(PY) bench/exam_answers.py
