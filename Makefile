# Tangkal: `make run` serves a hub on http://127.0.0.1:5000 (SQLite), `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test test-pg lint migrate venv bench demo clean translations

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

migrate: $(STAMP)
	$(PY) -m flask --app wsgi db upgrade
	$(PY) -m flask --app wsgi keys init

# gunicorn reads gunicorn.conf.py: HUB_URL from the bind address unless set, report scheduler per worker.
run: migrate
	HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn wsgi:app

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -q

test-pg: $(STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(PY) -m pytest -n 2 --dist loadfile -q

# The demo partners' .env files name the hub at http://HOST:PORT, as make run serves it (or HUB_URL).
demo: migrate
	HOST=$(HOST) PORT=$(PORT) $(PY) -m flask --app wsgi demo

bench: $(STAMP)
	$(PY) bench/run_all.py

# The console's catalogues: extract its messages, merge them into id and en, compile the .mo files (committed).
translations: $(STAMP)
	cd hub/console && ../../$(VENV)/bin/pybabel extract -F babel.cfg -k _l --no-location --sort-output -o translations/messages.pot .
	cd hub/console && ../../$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-location --width 120
	cd hub/console && ../../$(VENV)/bin/pybabel compile -d translations

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
