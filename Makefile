# Two commands on a fresh machine (Python >= 3.10 and make):
#   make demo   install into .venv and evaluate the bundled briefing
#   make test   install into .venv and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# torch is pinned to the CPU build through the constraints file: an unpinned
# `torch` would pull a multi-GB CUDA build.
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt

.PHONY: install demo test test-fast regress bench clean-venv

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e '.[test,ctranslate2,ray]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/harness run

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m 'not slow'

# The regression gate on the bundled briefing against the committed baseline,
# with the built-in cleaners' labelled cases; JUnit XML for CI to display.
regress: $(STAMP)
	mkdir -p test-artifacts
	$(BIN)/harness regress --baseline baselines/briefing-default.json \
		$(foreach f,$(wildcard tests/cases/*.yaml),--cases $(f)) --junit test-artifacts/regress.xml

bench: $(STAMP)
	$(BIN)/python bench/run_benchmarks.py

clean-venv:
	rm -rf $(VENV)
