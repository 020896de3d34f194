# The kit's commands. Everything runs inside .venv, created from requirements.txt on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= build/reproduce
STAMP  := $(VENV)/.installed

.PHONY: venv assets test reproduce lab test-browser bench clean-cache

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

assets: $(STAMP)  ## download and verify the pinned data and weights
	$(PY) -m helpers.assets

test: $(STAMP) assets  ## the whole test suite (notebooks included, smoke preset)
	$(PY) -m pytest -m "not browser"

reproduce: $(STAMP) assets  ## the kit's main job on the classroom preset (or KDLS_PRESET)
	$(PY) -m helpers.reproduce --out $(OUT)

lab: $(STAMP)  ## JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab --KernelManager.transport_encryption=auto notebooks/

test-browser: $(STAMP) assets  ## JupyterLab in headless Chromium: run notebook 01, move a slider
	$(PY) -m pytest -m browser -s

bench: $(STAMP) assets  ## training throughput: this kit's loop vs transformers.Trainer
	$(PY) bench/training_throughput.py

clean-cache:  ## forget cached runs (keeps downloaded assets)
	rm -rf data/cache/runs
