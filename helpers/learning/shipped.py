"""Shipped results, read back: a finished run of a preset (``full`` by default), committed under
``helpers/learning/shipped_results/<preset>/`` (package data, so an installed wheel has them).

They sit in this layer, beside the results schema they use, so that everything above may read them: the notebooks
(through the flat API), the browser twin of notebook 04's app (:mod:`helpers.teaching.live_charts`) and
the command that regenerates them (:mod:`helpers.pipeline.shipped`, which writes the files listed there).
No model weights: the test-set predictions are all the plots need (entropies, reliability diagrams).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.learning.results import read_results

__all__ = ["SHIPPED_DIR", "Shipped", "load_shipped"]

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
