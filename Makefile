# Two commands a user needs: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test install install-dev clean

$(VENV)/.installed-dev: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install-dev: $(VENV)/.installed-dev

demo: install-dev
	$(PY) -m workbench.demo

test: install-dev
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
