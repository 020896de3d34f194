"""Shared pieces of the paper-scale tests (tests/test_paper_scale.py): the tiny offline setting, the
command line of a quick run, and metrics recomputed independently (numpy, float64) from saved logits.

Import the fixture into a test module (``from paper_fixtures import tiny``) to use it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers.experiments.paper_scale.demo import TinySetup, make_tiny_offline_setup

__all__ = ["tiny", "cli", "numpy_metrics"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> TinySetup:
    """Tiny random BERTs without dropout (runs on 1 and 2 processes then take identical steps) and the CSVs."""
    return make_tiny_offline_setup(tmp_path_factory.mktemp("tiny"), rows_per_class=10, dropout=0.0)


def cli(tiny: TinySetup, out: Path, *extra: str, task: Path | None = None) -> list[str]:
    """A quick run's command line: 1 epoch on 32 training examples, batches of 8, 24 tokens."""
    return [
        "--task", str(task or tiny.pair_csv), "--student", str(tiny.student), "--out", str(out),
        "--epochs", "1", "--teacher-epochs", "1", "--batch-size", "8", "--max-length", "24", "--lr", "1e-3",
        "--train-subset", "32", "--quiet", *extra,
    ]


def numpy_metrics(logits, labels, n_bins: int = 15) -> dict[str, float]:
    """accuracy, entropy, max_prob, nll and ECE (bins (b/n, (b+1)/n]) written out in numpy, float64."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    confidence, predicted = p.max(axis=1), p.argmax(axis=1)
    correct = (predicted == y).astype(np.float64)
    ece = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        members = (confidence > low) & (confidence <= high) if b else (confidence <= high)
        if members.any():
            ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return {
        "accuracy": float(correct.mean()),
        "entropy": float(-(p * log_p).sum(axis=1).mean()),
        "max_prob": float(confidence.mean()),
        "nll": float(-log_p[np.arange(len(y)), y].mean()),
        "ece": float(ece),
    }
