# The kit's commands. Everything runs inside .venv, created from requirements.txt on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= build/reproduce
STAMP  := $(VENV)/.installed
# Which torch build `make venv` installs (tools/select_torch.py): auto = PyTorch's CPU build on Linux
# without an NVIDIA GPU, the regular wheel elsewhere; cpu | default | cuda override it.
TORCH_VARIANT ?= auto
BROWSER_STAMP := $(VENV)/.installed-browser
BOOK_STAMP    := $(VENV)/.installed-book
# `make book` renders these executed notebooks (those `make reproduce` wrote) into build/book/
BOOK_SOURCE ?= $(OUT)/notebooks

.PHONY: venv assets test test-fast reproduce lab test-browser slides bench clean-cache book test-book

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/select_torch.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) tools/select_torch.py --install --variant "$(TORCH_VARIANT)" --requirements requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

assets: $(STAMP)  ## download and verify the pinned data and weights
	$(PY) -m helpers.infrastructure.assets

# The suite runs in parallel processes, one per core (pytest-xdist; tests/conftest.py shares the cores out and
# says which tests one worker takes together: --dist loadscope). PYTEST_WORKERS=1: one process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = $(if $(filter 1,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadscope)

test: $(STAMP) assets  ## the whole test suite (notebooks included, smoke preset), in parallel processes
	$(PY) -m pytest -m "not browser" $(PYTEST_PARALLEL)

test-fast: $(STAMP) assets  ## the edit-test loop: everything but notebook execution and the browser
	$(PY) -m pytest -m "not browser and not notebook and not slow" $(PYTEST_PARALLEL)

reproduce: $(STAMP) assets  ## the kit's main job on the classroom preset (or KDLS_PRESET)
	$(PY) -m helpers.pipeline.reproduce --out $(OUT)

lab: $(STAMP) assets  ## JupyterLab on the notebooks (downloads and verifies the data and weights first)
	$(VENV)/bin/jupyter lab --KernelManager.transport_encryption=auto notebooks/

$(BROWSER_STAMP): $(STAMP) requirements-browser.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-browser.txt
	@touch $(BROWSER_STAMP)

$(BOOK_STAMP): $(STAMP) requirements-book.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-book.txt
	@touch $(BOOK_STAMP)

test-browser: $(BROWSER_STAMP) assets  ## JupyterLab in headless Chromium: run notebook 01, move a slider
	$(PY) -m pytest -m browser -s --ignore=tests/browser/test_book.py

book: $(BOOK_STAMP)  ## static site of the executed notebooks (BOOK_SOURCE, default: make reproduce's) in build/book/
	$(PY) tools/build_book.py --source $(BOOK_SOURCE) --out build/book

test-book: $(BROWSER_STAMP)  ## the built book in headless Chromium, network blocked (after make book); its live charts move
	BOOK_REQUIRED=1 BOOK_SOURCE=$(BOOK_SOURCE) $(PY) -m pytest -m browser -s tests/browser/test_book.py \
		tests/browser/test_live_charts_in_browser.py::test_live_chart_in_the_book

slides: $(STAMP)  ## lecture deck of notebooks 01-03 (reveal.js, works offline) in build/slides/; the first build needs npm
	$(PY) -m helpers.pipeline.slides --out build/slides --preset $${KDLS_PRESET:-smoke}

bench: $(STAMP) assets  ## training throughput: kit loop vs transformers.Trainer (fp32, and bf16 where native)
	$(PY) bench/training_throughput.py --precision native

clean-cache:  ## forget cached runs (keeps downloaded assets)
	rm -rf data/cache/runs

.PHONY: assignment
assignment: $(STAMP)  ## nbgrader source version of the exercise notebooks in build/assignment/ (README: Running a course three ways)
	$(PY) -m helpers.pipeline.assignment --out build/assignment

# The two editions of the wheel (helpers/infrastructure/editions.py, setup.py): the student edition (no worked
# solutions, hidden grading cases, TEACHING.md or solutions/) is what a class installs; the instructor edition is
# everything. Each goes into its own folder, so that the two files (one name) are never mixed up. Built with
# .venv's pinned setuptools (no build isolation: offline).
.PHONY: wheel-student wheel-instructor
wheel-student: $(STAMP)  ## the wheel students install, in dist/student/ (KDLS_EDITION=student: no answers in it)
	KDLS_EDITION=student $(PY) -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation -w dist/student .

wheel-instructor: $(STAMP)  ## the whole kit as a wheel, in dist/instructor/ (solutions, TEACHING.md, hidden cases)
	KDLS_EDITION=instructor $(PY) -m pip wheel --disable-pip-version-check -q --no-deps --no-build-isolation -w dist/instructor .
