"""Notebook 10's offline demo of the paper-scale path: tiny random BERTs and tiny TREC-based CSV files.

The paper's setting needs BERT-size models, GLUE and GPUs. To show the very same code path on a
laptop without network, :func:`make_tiny_offline_setup` writes, in seconds, two randomly
initialised BERT encoders (the MiniLM tokenizer, no classification head, like a pretrained
checkpoint) and two small CSV files of TREC questions: single questions (``text,label``) and
question pairs labelled ``same`` / ``different`` coarse class (``text,text_pair,label``, a
sentence-pair task like MRPC, QNLI or MNLI). Their numbers mean nothing; only the mechanics do.

:func:`demo_workspace` puts all of it, and the demo's ``OUT`` folder, into a temporary folder
that is deleted by ``workspace.cleanup()``, at the end of a ``with`` block, when the workspace is
garbage-collected, or at the latest when the Python process (the notebook's kernel) exits.
The test suite uses the same builder (``tests/paper_fixtures.py``), so it tests what the notebook runs.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import BertConfig, BertModel

from helpers.learning.data import load_task
from helpers.learning.models import load_tokenizer

__all__ = ["TinySetup", "DemoWorkspace", "make_tiny_offline_setup", "demo_workspace"]

WORKSPACE_PREFIX = "kdls-paper-scale-"
#: Weights drawn with 10 times BERT's spread (0.02): the tiny random encoders then tell their inputs apart, so that
#: their predictions differ from example to example (with BERT's spread they are nearly constant).
INITIALIZER_RANGE = 0.2


@dataclass(frozen=True)
class TinySetup:
    """Local folders and files for an offline paper-scale run in seconds."""

    teacher: Path  # a randomly initialised 2-layer BERT encoder (hidden 64, no head) with the MiniLM tokenizer
    student: Path  # a randomly initialised 1-layer BERT encoder (hidden 32, no head) with the same tokenizer
    csv: Path  # TREC questions: text,label
    pair_csv: Path  # TREC question pairs: text,text_pair,label ("same" / "different" coarse class)


def _tiny_bert(folder: Path, tokenizer, hidden: int, layers: int, dropout: float, seed: int) -> Path:
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=2 * hidden, max_position_embeddings=128,
        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
        initializer_range=INITIALIZER_RANGE,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(folder)  # an encoder without a head, like a pretrained checkpoint
    tokenizer.save_pretrained(folder)
    return folder


def make_tiny_offline_setup(folder: Path, rows_per_class: int = 16, dropout: float = 0.1, seed: int = 0) -> TinySetup:
    """Write two tiny random BERTs and two small TREC-based CSV files into ``folder`` (seconds, offline).

    ``csv`` holds ``rows_per_class`` questions of each of TREC's 6 coarse classes; ``pair_csv`` pairs
    each question with another one, labelled ``same`` or ``different`` by coarse class (about half each).
    ``dropout=0`` makes runs on 1 and on N processes comparable step for step.
    """
    if isinstance(rows_per_class, bool) or not isinstance(rows_per_class, int) or rows_per_class < 10:
        raise ValueError(f"rows_per_class must be an integer >= 10 (every split needs each class), got rows_per_class={rows_per_class!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got dropout={dropout!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = load_tokenizer()
    teacher = _tiny_bert(folder / "tiny-teacher", tokenizer, hidden=64, layers=2, dropout=dropout, seed=seed)
    student = _tiny_bert(folder / "tiny-student", tokenizer, hidden=32, layers=1, dropout=dropout, seed=seed + 1)

    train = load_task("trec")["train"]
    names = train.features["label"].names
    frame = pd.DataFrame({"text": train["text"], "label": [names[i] for i in train["label"]]})
    picked = frame.groupby("label", sort=True).head(rows_per_class).reset_index(drop=True)
    csv = folder / "tiny_trec.csv"
    picked.to_csv(csv, index=False)

    rng = np.random.default_rng(seed)
    partner = rng.permutation(len(picked))
    same_class = rng.random(len(picked)) < 0.5
    by_label = {label: group.index.to_numpy() for label, group in picked.groupby("label")}
    for i, label in enumerate(picked["label"]):
        if same_class[i]:
            options = by_label[label][by_label[label] != i]
            partner[i] = rng.choice(options)
    pairs = pd.DataFrame({
        "text": picked["text"],
        "text_pair": picked["text"].to_numpy()[partner],
        "label": np.where(picked["label"].to_numpy() == picked["label"].to_numpy()[partner], "same", "different"),
    })
    pair_csv = folder / "tiny_trec_pairs.csv"
    pairs.to_csv(pair_csv, index=False)
    return TinySetup(teacher=teacher, student=student, csv=csv, pair_csv=pair_csv)


class DemoWorkspace:
    """A temporary folder holding a :class:`TinySetup` (``tiny``) and the demo's output folder (``out``).

    Deleted by :meth:`cleanup`, at the end of a ``with`` block, when garbage-collected, or when the
    process exits, whichever comes first.
    """

    def __init__(self, folder: Path, tiny: TinySetup) -> None:
        self.folder = Path(folder)
        self.tiny = tiny
        self.out = self.folder / "results"
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.folder), ignore_errors=True)

    def cleanup(self) -> None:
        """Delete the folder now (again: nothing happens)."""
        self._finalizer()

    @property
    def removed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> DemoWorkspace:
        return self

    def __exit__(self, *exc_info) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        return f"DemoWorkspace({str(self.folder)!r}{', removed' if self.removed else ''})"


def demo_workspace(rows_per_class: int = 16, dropout: float = 0.1, seed: int = 0,
                   parent: Path | None = None) -> DemoWorkspace:
    """A fresh temporary folder (under ``parent``, default: the system's temporary folder) with a tiny setup in it."""
    folder = Path(tempfile.mkdtemp(prefix=WORKSPACE_PREFIX, dir=parent))
    try:
        tiny = make_tiny_offline_setup(folder, rows_per_class=rows_per_class, dropout=dropout, seed=seed)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return DemoWorkspace(folder, tiny)
