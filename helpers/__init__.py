"""Helpers of the KD-vs-LS teaching kit: assets, data, models, losses, metrics, training, plots.

Importing the package makes the Hugging Face libraries offline (``HF_HUB_OFFLINE=1``,
``HF_DATASETS_OFFLINE=1``) so that nothing ever waits on an unreachable hub; set
``KDLS_ALLOW_HUB=1`` before importing to allow hub downloads.

Architecture map: layers from the top; a module imports only from its own layer and those below
(checked by import-linter: ``[tool.importlinter]`` in pyproject.toml, tests/test_architecture.py).

* pipeline -- ``reproduce`` (``make reproduce``), ``notebooks`` (headless execution), ``slides``,
  ``shipped`` (the shipped results), ``environment`` (notebook 00's check), ``grade`` and
  ``assignment`` (grading a class), ``live_charts`` (the slider apps as browser charts).
* teaching UI -- ``explorer``, ``exercises`` (self-checks, worked solutions), ``widgets`` (slider apps).
  Never imports the pipeline.
* reporting -- ``experiment_plots``, ``overview`` (notebook 05's tables), ``plotting`` (one style;
  every function returns its Figure).
* experiments -- ``experiments`` (presets, grids, the results.csv command line), ``paper_scale`` (entry
  point) > ``sweeps`` (alpha/tau grids, teachers of set confidence), ``representations`` (penultimate
  layer), ``paper`` (the GPU / GLUE path) > ``trainer`` (the Hugging Face Trainer).
* training and cache -- ``training`` (fine-tuned tier) and ``features`` (frozen-feature tier)
  > ``results`` (results.csv schema, locked merging writer) > ``cache`` (checksummed records keyed by
  config, task file, asset pins and a code fingerprint; one lock per run).
* data and models -- ``data`` (tasks, CSVs, tokenization), ``models`` (MiniLM teacher, students).
* infrastructure -- ``assets`` (pinned, verified downloads), ``precision`` (bf16/fp32), ``flops``
  (FLOP accounting), ``progress`` (bars) > ``settings`` (every environment variable, read in one place).
* maths and statistics -- ``calibration``, ``theory``, ``analysis`` (verdicts) > ``metrics``,
  ``hypotheses`` > ``losses`` (ERM, LS, KD; the one Objective), ``statistics`` (seed intervals).

A new module goes on the line of pyproject.toml's layers that matches what it does and imports.
"""

import os

if os.environ.get("KDLS_ALLOW_HUB", "0") != "1":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
