# make serve: set up, build library.db from seeds/, serve it on 127.0.0.1
# make test:  set up, run every test
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
PORT ?= 8001
SEEDS = $(wildcard seeds/*)

.PHONY: setup serve test db clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,publish]'
	touch $@

# Rebuilt from scratch when a seed or the ingest code changes; each file loads in one transaction.
library.db: $(VENV)/.installed $(SEEDS) $(wildcard ingest/*.py ingest/sources/*.py)
	rm -f library.db library.db.inspect.json
	$(BIN)/refsette ingest library.db $(SEEDS)

db: library.db

serve: library.db
	$(BIN)/refsette serve library.db --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n auto -q

clean:
	rm -rf $(VENV) library.db library.db.inspect.json *.egg-info
