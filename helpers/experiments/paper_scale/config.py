"""The configuration of one paper-scale run: :class:`PaperScaleConfig`, the command line's only source.

Every option of ``python -m helpers.experiments.paper_scale`` is a field here; its default and its help text
(``field(metadata={"help": ...})``) are written once, and :mod:`helpers.experiments.paper_scale.cli` generates the
parser from them. The training objective (``method``, ``alpha``, ``temperature``) is validated
once, by building the run's :class:`helpers.maths.losses.Objective` (``config.objective``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from helpers.maths.losses import METHODS, Objective

__all__ = ["DEFAULT_ALPHA", "TEACHER_SEED", "PaperScaleConfig", "world_size", "per_device_batch_size"]

#: ``alpha`` when none is given: the paper's settings (ERM has no soft part).
DEFAULT_ALPHA = {"erm": 0.0, "ls": 0.1, "kd": 0.5}
#: The fine-tuned teacher's seed, whatever the student's.
TEACHER_SEED = 0


def _help(text: str, **extra) -> dict:
    return {"help": text, **extra}


@dataclass(frozen=True)
class PaperScaleConfig:
    """Everything that determines one paper-scale run (the command line's options, in this order).

    ``alpha`` (None: 0 for ERM, 0.1 for LS, 0.5 for KD) weights the soft part; ``temperature``
    is KD's. ``batch_size`` is global; ``lr`` is AdamW's peak learning rate (linear warm-up over
    the first 10% of steps, then linear decay, weight decay 0.01, gradient clipping at 1.0).
    ``objective`` is derived (not an option): the run's validated :class:`helpers.maths.losses.Objective`.
    """

    task: str = field(metadata=_help("sst2, mrpc, qnli, mnli (GLUE) or a CSV path (text,label or text,text_pair,label)"))
    student: str = field(metadata=_help("student model: local folder or hub name (pretrained, not fine-tuned)"))
    out: Path = field(metadata=_help("output folder: results.csv, runs/, teachers/"))
    method: str = field(default="erm", metadata=_help("training objective of the student", choices=METHODS))
    alpha: float | None = field(default=None, metadata=_help("weight of the soft part (default: erm 0, ls 0.1, kd 0.5)"))
    temperature: float = field(default=1.0, metadata=_help("KD softmax temperature"))
    teacher: str | None = field(
        default=None, metadata=_help("KD: teacher model, fine-tuned here with ERM first (cached in OUT/teachers)"))
    teacher_checkpoint: str | None = field(
        default=None,
        metadata=_help("KD: folder of a teacher already fine-tuned on this task, same label order (e.g. one in OUT/teachers)"))
    epochs: float = field(default=3.0, metadata=_help("epochs of the student's training"))
    teacher_epochs: float = field(default=3.0, metadata=_help("epochs of the teacher's fine-tuning"))
    batch_size: int = field(default=32, metadata=_help("global batch size (all processes and accumulation steps)"))
    lr: float = field(default=2e-5, metadata=_help("peak learning rate (AdamW: linear warm-up over the first tenth of the steps, then linear decay)"))
    max_length: int = field(default=128, metadata=_help("tokens per example (pairs truncated longest-first)"))
    seed: int = field(default=0, metadata=_help(f"student seed (the teacher always uses seed {TEACHER_SEED})"))
    bf16: bool = field(default=False, metadata=_help("bf16 mixed precision (GPUs from Ampere on, CPUs with AMX)"))
    train_subset: int | None = field(
        default=None, metadata=_help("train on a fixed random subset of this many examples"))
    grad_accum: int = field(default=1, metadata=_help("gradient accumulation steps"))
    precompute_teacher_logits: bool = field(
        default=False, metadata=_help("KD: run the teacher once per split beforehand instead of inside every training step"))
    quiet: bool = field(default=False, metadata=_help("no progress bars or messages"))
    objective: Objective = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alpha = DEFAULT_ALPHA.get(self.method, 0.0) if self.alpha is None else self.alpha
        objective = Objective(self.method, alpha, self.temperature)  # the one validation of method, alpha and tau
        object.__setattr__(self, "objective", objective)
        object.__setattr__(self, "alpha", objective.alpha)
        object.__setattr__(self, "temperature", objective.temperature)
        object.__setattr__(self, "out", Path(self.out))
        if objective.needs_teacher and (self.teacher is None) == (self.teacher_checkpoint is None):
            raise ValueError("method='kd' needs exactly one of --teacher (fine-tuned here first) or --teacher-checkpoint")
        for name in ("epochs", "teacher_epochs", "lr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {name}={value!r}")
        for name in ("batch_size", "max_length", "grad_accum"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
        if self.train_subset is not None and (
            isinstance(self.train_subset, bool) or not isinstance(self.train_subset, int) or self.train_subset < 1
        ):
            raise ValueError(f"train_subset must be a positive integer or None, got train_subset={self.train_subset!r}")
        if self.precompute_teacher_logits and not objective.needs_teacher:
            raise ValueError("--precompute-teacher-logits is only used with method='kd'")
        per_device_batch_size(self.batch_size, self.grad_accum, world_size())

    @property
    def uses_teacher(self) -> bool:
        return self.objective.needs_teacher


def world_size() -> int:
    """Number of processes of this run (``WORLD_SIZE``, set by ``torchrun`` and ``accelerate launch``)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def per_device_batch_size(batch_size: int, grad_accum: int, processes: int) -> int:
    """The per-process micro-batch size giving the global ``batch_size``; ValueError unless it divides."""
    share = processes * grad_accum
    if batch_size % share:
        raise ValueError(
            f"batch_size={batch_size} (global) must be divisible by processes x grad_accum = {processes} x {grad_accum}"
        )
    return batch_size // share
