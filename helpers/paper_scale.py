"""``python -m helpers.paper_scale``: the paper-scale command line (see :mod:`helpers.paper`).

This module only forwards to :mod:`helpers.paper.cli` (so ``python -m``, ``torchrun -m`` and
``accelerate launch -m`` keep their short name) and re-exports the names a script needs.
"""

from __future__ import annotations

from helpers.paper.cli import main
from helpers.paper.config import DEFAULT_ALPHA, PaperScaleConfig, per_device_batch_size
from helpers.paper.data import GLUE_DATASET, GLUE_TASKS, glue_to_task, load_paper_task, tokenize_task_pairs
from helpers.paper.run import run
from helpers.paper.sources import check_model_source, hub_offline, model_label

__all__ = [
    "GLUE_DATASET",
    "GLUE_TASKS",
    "DEFAULT_ALPHA",
    "PaperScaleConfig",
    "check_model_source",
    "glue_to_task",
    "hub_offline",
    "load_paper_task",
    "main",
    "model_label",
    "per_device_batch_size",
    "run",
    "tokenize_task_pairs",
]

if __name__ == "__main__":
    raise SystemExit(main())
