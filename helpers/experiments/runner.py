"""Running a grid: every run of the fine-tuned tier through the results cache, every head of the frozen-feature tier
through its in-memory cache, and the frozen features a preset's heads read."""

from __future__ import annotations

import sys

from helpers.experiments.presets import Preset
from helpers.learning.frozen_features import FeatureSet, encode_features
from helpers.learning.features import HeadConfig, HeadRecord, run_heads
from helpers.learning.finetune import RunRecord, TrainConfig, run, run_with_checkpoints

__all__ = ["run_grid", "feature_data", "run_feature_grid"]


def run_grid(configs: list[TrainConfig], progress: bool = True) -> list[RunRecord]:
    """Run (or load from the cache) every config in order. Checkpoint configs (``schedule_epochs`` set) are made
    first, by one training of their whole run per run (:func:`helpers.learning.finetune.run_with_checkpoints`)."""
    whole_runs: dict[TrainConfig, list[float]] = {}
    for config in configs:
        if config.schedule_epochs is not None:
            whole_runs.setdefault(config.replace(epochs=config.schedule_epochs), []).append(config.epochs)
    for whole, checkpoints in whole_runs.items():
        if progress:
            print(f"[teacher ladder] {whole.label()} with checkpoints after "
                  f"{', '.join(f'{e:g}' for e in sorted(checkpoints))} epochs", file=sys.stderr, flush=True)
        run_with_checkpoints(whole, tuple(checkpoints), progress=progress)
    records = []
    for number, config in enumerate(configs, 1):
        if progress:
            print(f"[{number}/{len(configs)}] {config.label()}", file=sys.stderr, flush=True)
        records.append(run(config, progress=progress))
    return records


def feature_data(task: str, preset: Preset, progress: bool = True) -> FeatureSet:
    """The task's frozen features with the preset's feature budgets (cached on disk)."""
    tier = preset.features
    return encode_features(task, max_length=tier.max_length, train_subset=tier.train_subset,
                           eval_subset=tier.eval_subset, progress=progress)


def run_feature_grid(configs: list[HeadConfig], data: FeatureSet, progress: bool = True) -> list[HeadRecord]:
    """Every head's record in order: those not in the in-memory cache train together (``run_heads``), with a progress
    bar."""
    return run_heads(configs, data, progress=progress)

