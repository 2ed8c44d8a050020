# Two commands: `make run` serves the demo portal, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run dev test venv lock lint format messages bench clean

run: venv
	scripts/run

# Development: runserver with autoreload and one consumer, instead of gunicorn and the roles.
dev: venv
	scripts/run --dev

test: venv
	scripts/ensure-chromium
	scripts/test

venv: $(STAMP)

# Installs exactly the versions (and file hashes) of requirements/dev.lock: two installs a month
# apart get the same packages. The project itself is not a package (pyproject's `packages = []`).
$(STAMP): requirements/dev.lock
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements/dev.lock
	@touch $(STAMP)

# After changing a dependency in pyproject.toml: pin it (and everything it needs) again.
# `make lock UPGRADE=1` moves every pin to the newest version the ranges admit.
lock: venv
	$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links $(if $(UPGRADE),--upgrade) -o requirements/base.lock pyproject.toml
	$(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links $(if $(UPGRADE),--upgrade) --extra dev -o requirements/dev.lock pyproject.toml

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

# Figures, not assertions: the exam-day hot paths over real HTTP against an in-run floor, on
# SQLite and (when they answer) PostgreSQL + Redis; docs/performance.md. Options in ARGS, e.g.
# `make bench ARGS="--quick --databases sqlite"`.
bench: venv
	$(PY) -m bench $(ARGS)
