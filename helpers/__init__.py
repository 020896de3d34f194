"""Helpers of the KD-vs-LS teaching kit.

**In a notebook**, import what you need from the package itself -- no folder to learn::

    from helpers import entropy, distillation_loss, get_preset, run_grid, temperature_app

The names are listed once, in ``helpers/__init__.pyi`` (with the module each comes from); ``lazy_loader`` loads a
name's module on first use, editors and type checkers read the real signatures through the same file, and
``dir(helpers)`` and ``__all__`` list the names. Exercise checks (``check_<name>``) also come from
:mod:`helpers.teaching.exercises`, which finds its exercise modules itself.

**Architecture map.** Seven layers, from the top; a module imports only from its own layer and those below
(checked by import-linter: ``[tool.importlinter]`` in pyproject.toml, run by tests/test_architecture.py).
Each folder's ``__init__`` lists its modules.

========================  ====================================================================================
``pipeline/``             whole-kit runs and what ships: reproducing, executing and copying the notebooks, the
                          shipped results, grading a class, nbgrader, the lecture deck
``teaching/``             the teaching UI: slider apps and their browser twins, the grid explorer, the exercises
                          (one module each, found by ``exercises/__init__``). Never imports the pipeline.
``experiments/``          presets, their grids and runner, the command lines, pooled classes, sweeps,
                          representations, ``paper_scale/`` (GLUE with the Trainer, on GPUs)
``reporting/``            verdicts and findings (tables and sentences), figures, the data and model overviews
``learning/``             data, models, the run cache, results, the two tiers (fine-tuned, frozen-feature), the
                          Hugging Face Trainer subclass, loading the shipped results
``infrastructure/``       settings (every environment variable, read once), pinned assets, precision, FLOPs,
                          progress bars
``maths/``                losses, metrics, calibration, statistics and fits, the pre-declared hypotheses, closed
                          forms, the demo simulations
========================  ====================================================================================

**Commands.** A command is a module with a ``main(argv=None) -> int``, started with ``python -m`` on its dotted
name (``python -m helpers.pipeline.grade``; a package has a ``__main__``, so that ``python -m helpers.experiments``
and ``torchrun -m helpers.experiments.paper_scale`` work) or with the console script an install puts beside Python
(``kdls-grade``; pyproject.toml's ``[project.scripts]`` lists them all, README's commands table too). The short
names of the last release (``_DEPRECATED_COMMANDS`` below: ``python -m helpers.grade`` ...) still run, for this
release only, after a one-line notice on stderr naming the new spelling.

Importing the package makes the Hugging Face libraries offline (``HF_HUB_OFFLINE=1``,
``HF_DATASETS_OFFLINE=1``; only where unset) so that nothing ever waits on an unreachable hub: these two
must be set before those libraries are imported, which is why this happens here and nowhere else. Set
``KDLS_ALLOW_HUB=1`` before importing to allow hub downloads.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

import lazy_loader

if os.environ.get("KDLS_ALLOW_HUB", "0") != "1":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"

# The flat API, read from helpers/__init__.pyi: each name's module is imported on first use.
_stub_getattr, _, _STUB_NAMES = lazy_loader.attach_stub(__name__, __file__)
_EXERCISES = "helpers.teaching.exercises"

# The last release's command names -> the module each now is; helpers/<old name>.py runs it after a notice. Goes
# in the next release (with those files).
_DEPRECATED_COMMANDS: dict[str, str] = {
    "grade": "helpers.pipeline.grade",
    "shipped": "helpers.pipeline.shipped",
    "notebooks": "helpers.pipeline.notebooks",
    "assets": "helpers.infrastructure.assets",
    "paper_scale": "helpers.experiments.paper_scale",
}


def _exercise_checks() -> list[str]:
    """The ``check_<name>`` functions :mod:`helpers.teaching.exercises` found (one per exercise module)."""
    return [name for name in importlib.import_module(_EXERCISES).__all__ if name.startswith("check_")]


def _public_names() -> list[str]:
    """``__all__``: the stub's names and every exercise check, sorted."""
    return sorted({*_STUB_NAMES, *_exercise_checks()})


def __getattr__(name: str) -> Any:
    if name == "__all__":  # computed when asked, so that ``import helpers`` stays light and new exercises count
        return _public_names()
    if name in _STUB_NAMES:
        return _stub_getattr(name)
    if name.startswith("check_") and name in _exercise_checks():
        return getattr(importlib.import_module(_EXERCISES), name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return _public_names()


def _deprecated_command(old: str) -> Callable[..., int]:
    """The ``main`` of the command ``helpers.<old>`` now is, after a one-line notice on stderr naming the new one."""
    new = _DEPRECATED_COMMANDS[old.removeprefix("helpers.")]
    script = "kdls-" + new.rpartition(".")[2].replace("_", "-")
    print(f"note: helpers.{old.removeprefix('helpers.')} is deprecated and goes in the next release; "
          f"use `python -m {new}` or `{script}`", file=sys.stderr)
    module = importlib.import_module(new)
    if not hasattr(module, "main"):  # a package: its __main__ holds the command
        module = importlib.import_module(f"{new}.__main__")
    return module.main
