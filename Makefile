# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: install install-test run test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(PY)
	$(PIP) install -q -e .

install-test: $(PY)
	$(PIP) install -q -e ".[test,train,spark]" -e ./dev

## install and run `imner extract` with the shipped default model on the example case report
run: install
	$(VENV)/bin/imner extract examples/case_report.txt --output - 

## install and run the test suite
test: install-test
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
