"""Shipped results: a finished run of a preset (``full`` by default), committed under ``helpers/learning/shipped_results/`` (package data).

A teaching kit should show what its biggest preset gives without anyone spending hours on a laptop.
``python -m helpers.pipeline.shipped --preset full`` runs (or loads from the run cache) the preset's
fine-tuning grid on every task, its frozen-feature grid and its inheritance experiment, and writes::

    helpers/learning/shipped_results/<preset>/results.csv       one row per run (helpers.learning.results schema, plus run_id)
    helpers/learning/shipped_results/<preset>/inheritance.csv   the feature tier's inheritance frame (helpers.experiments.sweeps)
    helpers/learning/shipped_results/<preset>/expectations.csv  every KD teacher's and ERM student's validation entropy: the inputs of
                                            the pre-declared predictions (helpers.experiments.sweeps.kd_expectations)
    helpers/learning/shipped_results/<preset>/predictions.npz   per run: test-set probabilities (float16, ``p<run_id>``),
                                            per task: test labels (``labels_<task>``)
    helpers/learning/shipped_results/<preset>/provenance.json   commit, the command, and each part (a task's fine-tuned
                                            grid, the feature tier) with the machine, precision, date and seconds
    helpers/learning/shipped_results/<preset>/runs/             every finished fine-tuned run, written as it completes
                                            (helpers.pipeline.ship_store; in the repository, not the wheel): an
                                            interrupted regeneration continues from the committed folder

No model weights: the predictions are all the plots need (entropies, reliability diagrams).
``load_shipped()`` (:mod:`helpers.learning.shipped`, where the files live) reads them back; the notebooks show
them beside the live numbers, labelled as shipped.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from helpers.infrastructure.assets import REPO_ROOT
from helpers.learning.cache import atomic_write_bytes
from helpers.learning.results import results_frame, write_results
from helpers.learning.shipped import SHIPPED_DIR
from helpers.pipeline import ship_store

__all__ = ["ship", "main"]


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _finetune_records(task: str, preset, out: Path, progress: bool) -> tuple[list, dict]:
    """The fine-tuned grid of ``task``, resumable through the store in ``out`` (:mod:`helpers.pipeline.ship_store`):
    stored teachers are copied into the run cache, stored students are read back, and every run trained here is
    written into the store the moment it finishes. Returns the records in grid order and this part's provenance."""
    from helpers.experiments.grid import main_grid, teacher_configs
    from helpers.experiments.runner import run_grid
    from helpers.infrastructure.progress import progress as progress_bar
    from helpers.learning.finetune import cached_run, run

    started = time.perf_counter()
    grid = main_grid(task, preset)
    teachers = list(dict.fromkeys([*teacher_configs(task, preset),
                                   *(c.teacher for c in grid if getattr(c, "teacher", None) is not None)]))
    copied = ship_store.seed_teachers(out, teachers)
    missing = [config for config in teachers if cached_run(config) is None]
    whole_runs: dict = {}  # a ladder's rungs are one training: run together, stored as soon as that training ends
    for config in teachers:
        whole = config.replace(epochs=config.schedule_epochs) if config.schedule_epochs is not None else config
        whole_runs.setdefault(whole, []).append(config)
    by_config = {}
    for rungs in whole_runs.values():
        by_config.update(zip(rungs, run_grid(rungs, progress=progress)))
        for config in rungs:
            ship_store.save_teacher(out, config)
    records, trained = [], len(missing)
    for config in progress_bar(grid, desc=f"{task}: fine-tuned runs", disable=not progress):
        if config in by_config:
            records.append(by_config[config])
            continue
        stored = ship_store.load_student(out, config)
        if stored is None:
            stored = run(config, progress=False)
            ship_store.save_student(out, stored)
            trained += 1
        records.append(stored)
    part = {"part": f"finetune {task}", **_machine(), "runs": len(grid), "runs_trained_here": trained,
            "teachers_from_store": copied, "seconds": round(time.perf_counter() - started, 1)}
    return records, part


def _machine() -> dict:
    from helpers.infrastructure.precision import resolve_precision

    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": _cpu(),
            "threads": torch.get_num_threads(), "precision": resolve_precision(), "torch": torch.__version__}


def _earlier_parts(out: Path) -> list[dict]:
    """The parts recorded by earlier (interrupted or resumed) runs into ``out``'s provenance."""
    try:
        return list(json.loads((out / "provenance.json").read_text(encoding="utf-8")).get("parts", []))
    except (OSError, ValueError):
        return []


def ship(preset_name: str, out: Path, progress: bool = True) -> Path:
    """Run (or load) the preset's grids and write the shipped files into ``out``; returns ``out``.

    Resumable: each finished fine-tuned run is written into ``out/runs/`` as it completes, so an interrupted
    regeneration continues (on this machine or another, from the committed folder) where it stopped. The provenance
    lists every part with the machine and time that computed it, earlier runs' parts included."""
    from helpers.experiments.grid import feature_grid, feature_teachers, teacher_configs
    from helpers.experiments.presets import get_preset
    from helpers.experiments.runner import feature_data, run_feature_grid
    from helpers.experiments.sweeps import inheritance_frame, kd_expectations, teacher_confidence_teachers

    preset = get_preset(preset_name)
    out = Path(out)
    parts = _earlier_parts(out)
    started = time.perf_counter()
    frames, probabilities, labels = [], {}, {}
    for task in preset.tasks:
        records, part = _finetune_records(task, preset, out, progress)
        parts.append(part)
        frames.append((results_frame(records, teachers=teacher_configs(task, preset)), records))
    tier = preset.features
    inheritance = []
    for task in tier.tasks:
        part_started = time.perf_counter()
        data = feature_data(task, preset, progress=progress)
        grid = feature_grid(preset)
        records = run_feature_grid(grid, data, progress=progress)
        frames.append((results_frame(records, teachers=feature_teachers(preset)), records))
        teachers = teacher_confidence_teachers(tier.teacher(), tier.inheritance_ls_alphas, tier.inheritance_epochs,
                                               tier.inheritance_scales)
        inheritance.append(inheritance_frame(data, tier.student(tier.student_layers[-1]), teachers, tier.inheritance_alpha,
                                             tier.inheritance_temperature, tier.inheritance_seeds, progress=progress))
        parts.append({"part": f"features {task}", **_machine(), "runs": len(grid),
                      "seconds": round(time.perf_counter() - part_started, 1)})
    rows = []
    for frame, records in frames:
        for row, record in zip(frame.to_dict("records"), records):
            run_id = len(rows)
            rows.append({**row, "run_id": run_id})
            probabilities[f"p{run_id}"] = torch.softmax(record.logits["test"].float(), dim=-1).numpy().astype(np.float16)
            labels[f"labels_{row['task']}"] = record.labels["test"].numpy().astype(np.int16)
    write_results(pd.DataFrame(rows), out / "results.csv")
    buffer = io.StringIO()
    (pd.concat(inheritance, ignore_index=True) if inheritance else pd.DataFrame()).to_csv(buffer, index=False)
    atomic_write_bytes(out / "inheritance.csv", buffer.getvalue().encode())
    buffer = io.StringIO()
    pd.concat([kd_expectations(records) for _, records in frames], ignore_index=True).to_csv(buffer, index=False)
    atomic_write_bytes(out / "expectations.csv", buffer.getvalue().encode())
    arrays = io.BytesIO()
    np.savez_compressed(arrays, **probabilities, **labels)
    atomic_write_bytes(out / "predictions.npz", arrays.getvalue())
    provenance = {
        "preset": preset.name, "notes": preset.notes, "commit": _commit(), **_machine(),
        "wall_seconds": round(sum(part.get("seconds", 0.0) for part in parts), 1),
        "last_run_seconds": round(time.perf_counter() - started, 1),
        "command": f"python -m helpers.pipeline.shipped --preset {preset.name}",
        "parts": parts,
        "note": ("wall_seconds sums the parts, each timed where it ran (a part resumed from the store counts only "
                 "the work done in that run); runs/ holds every finished fine-tuned run, so an interrupted "
                 "regeneration continues from the committed folder"),
    }
    atomic_write_bytes(out / "provenance.json", json.dumps(provenance, indent=1).encode())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.shipped", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="full")
    parser.add_argument("--out", type=Path, default=None, help="default: helpers/learning/shipped_results/<preset>")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    out = ship(args.preset, args.out or SHIPPED_DIR / args.preset, progress=not args.quiet)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
