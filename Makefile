# Two commands on a fresh machine (Python >= 3.10 and make):
#   make demo   install into .venv and evaluate the bundled briefing
#   make test   install into .venv and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# constraints.txt pins every version (torch==2.13.0 included); it does not
# choose torch's *build*. On Linux, PyPI's torch wheel is the CUDA build, which
# pulls several GB of NVIDIA libraries. So torch is installed first, on its
# own, with PyTorch's documented CPU wheel index as an extra index: pip then
# picks 2.13.0+cpu, which sorts above PyPI's 2.13.0. A GPU user sets e.g.
#   make install TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
# or TORCH_INDEX_URL= (empty) for PyPI's default build. When the index cannot
# be reached (an offline machine with the wheel on local disk or a mirror), pip
# skips it, without retries, and takes torch from the other indexes.
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
# The extras installed into .venv: the test tools, the optional ctranslate2
# backend and Ray, so that the test suite (and CI) covers them; their tests
# skip when they are missing (make install EXTRAS=test). `pip install harness`
# needs none of them.
EXTRAS ?= test,ctranslate2,ray
PIP_INSTALL := $(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt

.PHONY: install demo test test-fast regress bench clean-venv

$(STAMP): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --no-deps $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL) --retries 0 --timeout 15) torch
	$(PIP_INSTALL) -e '.[$(EXTRAS)]'
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
	$(BIN)/harness regress --baseline baselines/briefing-clean-only.json \
		$(foreach f,$(wildcard tests/cases/*.yaml),--cases $(f)) --junit test-artifacts/regress.xml

bench: $(STAMP)
	$(BIN)/python bench/run_benchmarks.py

clean-venv:
	rm -rf $(VENV)
