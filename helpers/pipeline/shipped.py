"""Shipped results: a finished run of a preset (``full`` by default), committed under ``helpers/pipeline/shipped_results/`` (package data).

A teaching kit should show what its biggest preset gives without anyone spending hours on a laptop.
``python -m helpers.shipped --preset full`` runs (or loads from the run cache) the preset's
fine-tuning grid on every task, its frozen-feature grid and its inheritance experiment, and writes::

    helpers/pipeline/shipped_results/<preset>/results.csv       one row per run (helpers.learning.results schema, plus run_id)
    helpers/pipeline/shipped_results/<preset>/inheritance.csv   the feature tier's inheritance frame (helpers.experiments.sweeps)
    helpers/pipeline/shipped_results/<preset>/expectations.csv  every KD teacher's and ERM student's validation entropy: the inputs of
                                            the pre-declared predictions (helpers.experiments.sweeps.kd_expectations)
    helpers/pipeline/shipped_results/<preset>/predictions.npz   per run: test-set probabilities (float16, ``p<run_id>``),
                                            per task: test labels (``labels_<task>``)
    helpers/pipeline/shipped_results/<preset>/provenance.json   commit, date, CPU, precision, wall time, the command

No model weights: the predictions are all the plots need (entropies, reliability diagrams).
``load_shipped()`` reads them back; the notebooks show them beside the live numbers, labelled
as shipped.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from helpers.infrastructure.assets import REPO_ROOT
from helpers.learning.cache import atomic_write_bytes
from helpers.learning.results import read_results, results_frame, write_results

__all__ = ["SHIPPED_DIR", "Shipped", "load_shipped", "ship", "main"]

# Inside the package, so that they ship in the wheel (package data); the one place that says where they live.
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped_results"


@dataclass
class Shipped:
    """Shipped results of one preset: the runs, the inheritance frame, test predictions, provenance."""

    preset: str
    results: pd.DataFrame
    inheritance: pd.DataFrame
    probabilities: dict[int, np.ndarray]
    labels: dict[str, np.ndarray]
    provenance: dict
    expectations: pd.DataFrame = field(default_factory=pd.DataFrame)

    def predictions(self, run_id: int) -> tuple[np.ndarray, np.ndarray]:
        """``(probabilities (N, K) float32, labels (N,))`` of one run's test split."""
        row = self.results.loc[self.results["run_id"] == run_id]
        if row.empty:
            raise ValueError(f"no shipped run with run_id={run_id}")
        return self.probabilities[run_id].astype(np.float32), self.labels[row["task"].iloc[0]]

    def caption(self) -> str:
        """One line saying where these numbers come from (for notebooks and plots)."""
        p = self.provenance
        threads = f", {p['threads']} thread{'s' if p['threads'] != 1 else ''}" if p.get("threads") else ""
        return (f"shipped `{self.preset}` results: {len(self.results)} runs, computed {p.get('date', '?')[:10]} on "
                f"{p.get('cpu', '?')} in {p.get('precision', '?')}{threads}, {p.get('wall_seconds', float('nan')) / 60:.0f} "
                f"min (commit {p.get('commit', '?')[:8]}); regenerate with `{p.get('command', '?')}`")


def load_shipped(preset: str = "full", folder: Path | None = None) -> Shipped | None:
    """The shipped results of ``preset`` (None if that folder does not exist)."""
    folder = Path(folder) if folder is not None else SHIPPED_DIR / preset
    if not (folder / "results.csv").is_file():
        return None
    results = read_results(folder / "results.csv")
    inheritance_path = folder / "inheritance.csv"
    inheritance = pd.read_csv(inheritance_path, keep_default_na=False, na_values={"knob_value": [""], "teacher_entropy": [""],
                                                                                   "teacher_train_entropy": [""],
                                                                                   "teacher_val_entropy": [""],
                                                                                   "teacher_accuracy": [""]}) \
        if inheritance_path.is_file() else pd.DataFrame()
    with np.load(folder / "predictions.npz") as arrays:
        probabilities = {int(name[1:]): arrays[name] for name in arrays.files if name.startswith("p")}
        labels = {name[len("labels_"):]: arrays[name] for name in arrays.files if name.startswith("labels_")}
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    expectations_path = folder / "expectations.csv"
    expectations = pd.read_csv(expectations_path, keep_default_na=False, na_values={"expected": [""], "erm_ci": [""]}) \
        if expectations_path.is_file() else pd.DataFrame()
    return Shipped(preset, results, inheritance, probabilities, labels, provenance, expectations)


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


def ship(preset_name: str, out: Path, progress: bool = True) -> Path:
    """Run (or load) the preset's grids and write the shipped files into ``out``; returns ``out``."""
    from helpers.experiments.grids import (feature_data, feature_grid, get_preset, main_grid, run_feature_grid, run_grid,
                                     teacher_configs)
    from helpers.infrastructure.precision import resolve_precision
    from helpers.experiments.sweeps import inheritance_frame, kd_expectations, teacher_confidence_teachers

    preset = get_preset(preset_name)
    started = time.perf_counter()
    frames, probabilities, labels = [], {}, {}
    for task in preset.tasks:
        grid = main_grid(task, preset)
        records = run_grid(grid, progress=progress)
        frames.append((results_frame(records, teachers=teacher_configs(task, preset)), records))
    tier = preset.features
    inheritance = []
    for task in tier.tasks:
        data = feature_data(task, preset, progress=progress)
        grid = feature_grid(preset)
        records = run_feature_grid(grid, data, progress=progress)
        frames.append((results_frame(records, teachers=(grid[0],)), records))
        teachers = teacher_confidence_teachers(tier.teacher(), tier.inheritance_ls_alphas, tier.inheritance_epochs,
                                               tier.inheritance_scales)
        inheritance.append(inheritance_frame(data, tier.student(tier.student_layers[-1]), teachers, tier.inheritance_alpha,
                                             tier.inheritance_temperature, tier.inheritance_seeds, progress=progress))
    rows = []
    for frame, records in frames:
        for row, record in zip(frame.to_dict("records"), records):
            run_id = len(rows)
            rows.append({**row, "run_id": run_id})
            probabilities[f"p{run_id}"] = torch.softmax(record.logits["test"].float(), dim=-1).numpy().astype(np.float16)
            labels[f"labels_{row['task']}"] = record.labels["test"].numpy().astype(np.int16)
    out = Path(out)
    write_results(pd.DataFrame(rows), out / "results.csv")
    buffer = io.StringIO()
    pd.concat(inheritance, ignore_index=True).to_csv(buffer, index=False)
    atomic_write_bytes(out / "inheritance.csv", buffer.getvalue().encode())
    buffer = io.StringIO()
    pd.concat([kd_expectations(records) for _, records in frames], ignore_index=True).to_csv(buffer, index=False)
    atomic_write_bytes(out / "expectations.csv", buffer.getvalue().encode())
    arrays = io.BytesIO()
    np.savez_compressed(arrays, **probabilities, **labels)
    atomic_write_bytes(out / "predictions.npz", arrays.getvalue())
    provenance = {
        "preset": preset.name, "notes": preset.notes, "commit": _commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu": _cpu(),
        "threads": torch.get_num_threads(), "precision": resolve_precision(), "torch": torch.__version__,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "command": f"python -m helpers.shipped --preset {preset.name}",
        "note": "wall time counts only the work not already in the run cache when this command ran",
    }
    atomic_write_bytes(out / "provenance.json", json.dumps(provenance, indent=1).encode())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.shipped", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="full")
    parser.add_argument("--out", type=Path, default=None, help="default: helpers/pipeline/shipped_results/<preset>")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    out = ship(args.preset, args.out or SHIPPED_DIR / args.preset, progress=not args.quiet)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
