"""Experiment grids, presets and the command line that writes ``results.csv``.

Presets trade time for fidelity (chosen with ``--preset`` or ``$KDLS_PRESET``):

* ``smoke`` — tiny subsets, 1 layer students, one epoch: checks that everything runs (seconds).
* ``classroom`` (default) — full TREC training set, an L6 teacher and L2 students, short
  sequences, bf16: the paper's comparison in minutes on a 2-core laptop.
* ``full`` — longer training, several seeds, both tasks: closer to the paper (an hour or more).

Usage::

    python -m helpers.experiments --task trec --preset classroom --out build/reproduce
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.cache import atomic_write_bytes
from helpers.training import RunRecord, TrainConfig, run

__all__ = ["RESULT_COLUMNS", "Preset", "PRESETS", "get_preset", "teacher_config", "main_grid", "run_grid", "results_frame", "write_results", "main"]

RESULT_COLUMNS = [
    "task", "student", "teacher", "method", "alpha", "temperature", "seed",
    "accuracy", "entropy", "max_prob", "nll", "ece", "train_seconds",
]


@dataclass(frozen=True)
class Preset:
    """Budgets of one preset: model sizes, epochs, subsets, sequence length, seeds and grid."""

    name: str
    teacher: str = "L6"
    students: tuple[str, ...] = ("L2",)
    teacher_epochs: float = 2.0
    student_epochs: float = 3.0
    train_subset: int | None = None
    eval_subset: int | None = None
    max_length: int = 64
    batch_size: int = 32
    learning_rate: float = 1e-4
    seeds: tuple[int, ...] = (0,)
    ls_alphas: tuple[float, ...] = (0.1,)
    kd_alphas: tuple[float, ...] = (0.5,)
    kd_temperatures: tuple[float, ...] = (1.0,)
    notes: str = field(default="", compare=False)

    def base_config(self, task: str, **changes) -> TrainConfig:
        """A ``TrainConfig`` with this preset's shared budgets."""
        values = dict(task=str(task), train_subset=self.train_subset, eval_subset=self.eval_subset,
                      max_length=self.max_length, batch_size=self.batch_size, learning_rate=self.learning_rate)
        values.update(changes)
        return TrainConfig(**values)


PRESETS: dict[str, Preset] = {
    "smoke": Preset(
        name="smoke", teacher="L2", students=("L1",), teacher_epochs=1, student_epochs=1,
        train_subset=256, eval_subset=128, max_length=32, learning_rate=5e-4,
        notes="checks the pipeline end to end; numbers mean nothing",
    ),
    "classroom": Preset(
        name="classroom", teacher="L6", students=("L2",), teacher_epochs=2, student_epochs=3,
        max_length=48, notes="full TREC training set, one seed; minutes on a 2-core CPU",
    ),
    "full": Preset(
        name="full", teacher="L6", students=("L2", "L4"), teacher_epochs=5, student_epochs=5,
        max_length=64, seeds=(0, 1, 2), ls_alphas=(0.1, 0.3), kd_alphas=(0.5, 0.9), kd_temperatures=(1.0, 4.0),
        notes="closer to the paper: converged teacher, two student sizes, three seeds",
    ),
}


def get_preset(name: str | None = None) -> Preset:
    """The preset called ``name``, else ``$KDLS_PRESET``, else ``classroom``."""
    name = name or os.environ.get("KDLS_PRESET", "classroom")
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def teacher_config(task: str, preset: Preset) -> TrainConfig:
    """The preset's teacher: its teacher-size model trained with ERM (seed 0)."""
    return preset.base_config(task, student=preset.teacher, method="erm", epochs=preset.teacher_epochs)


def main_grid(task: str, preset: Preset) -> list[TrainConfig]:
    """Teacher, then for every student and seed: ERM, LS at each alpha, KD at each (alpha, tau)."""
    teacher = teacher_config(task, preset)
    grid = [teacher]
    for student in preset.students:
        for seed in preset.seeds:
            base = preset.base_config(task, student=student, seed=seed, epochs=preset.student_epochs)
            grid.append(base)
            grid += [base.replace(method="ls", alpha=a) for a in preset.ls_alphas]
            grid += [base.replace(method="kd", alpha=a, temperature=t, teacher=teacher)
                     for a in preset.kd_alphas for t in preset.kd_temperatures]
    return grid


def run_grid(configs: list[TrainConfig], progress: bool = True) -> list[RunRecord]:
    """Run (or load from the cache) every config in order."""
    records = []
    for number, config in enumerate(configs, 1):
        if progress:
            print(f"[{number}/{len(configs)}] {config.label()}", file=sys.stderr, flush=True)
        records.append(run(config, progress=progress))
    return records


def results_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run in the kit's ``results.csv`` schema."""
    return pd.DataFrame([r.row() for r in records], columns=RESULT_COLUMNS)


def write_results(frame: pd.DataFrame, out: Path) -> Path:
    """Write ``out/results.csv`` atomically; returns its path."""
    path = Path(out) / "results.csv"
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue().encode())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="trec", help="trec, rotten_tomatoes or a CSV path with text,label columns")
    parser.add_argument("--preset", default=None, help=f"one of {', '.join(PRESETS)} (default: $KDLS_PRESET or classroom)")
    parser.add_argument("--out", default="build/reproduce", type=Path, help="output folder for results.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        preset = get_preset(args.preset)
        records = run_grid(main_grid(args.task, preset), progress=not args.quiet)
    except ValueError as error:
        parser.error(str(error))
    frame = results_frame(records)
    path = write_results(frame, args.out)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(f"\nPreset {preset.name!r} on task {args.task!r} ({preset.notes}):\n")
        print(frame.drop(columns=["task"]).to_string(index=False))
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
