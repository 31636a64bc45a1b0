# Two commands: `make run` opens the app, `make test` runs the whole suite.
# Both set up a local virtual environment first (only Python >= 3.11 and make are needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup bench clean bytecode

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit("crmtui needs Python >= 3.11, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) bytecode

# An editable install leaves our own modules uncompiled, and where PYTHONDONTWRITEBYTECODE is set
# (CI, these machines) Python compiles them again in every process: ~0.25 s of each app start.
# compileall writes what is missing or stale and is quick when nothing is.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q src

run: setup
	$(BIN)/crmtui $(ARGS)

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
