"""Model-FLOP accounting: what each piece of work costs, so a run can say where its minutes went.

Counting convention (the benchmark's, and the usual one for transformers): a forward pass costs
``2 * N * T`` FLOPs and a training step ``6 * N * T``, with ``N`` the non-embedding parameters
and ``T`` the real (unpadded) tokens; attention-score FLOPs are left out (short sequences).
Work loaded from a cache costs nothing: it is not counted.

Every counted piece, when ``$KDLS_FLOPS_FILE`` names a file, is appended there as one JSON line
``{"kind", "flops", "seconds"}`` (:func:`record`): ``make reproduce`` gives each notebook its own
file and sums it per notebook (:func:`read_tally`).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import torch

from helpers.infrastructure.settings import current_settings

__all__ = ["FLOPS_ENV", "non_embedding_parameters", "training_flops", "forward_flops", "record", "read_tally"]

FLOPS_ENV = "KDLS_FLOPS_FILE"


def non_embedding_parameters(model: torch.nn.Module) -> int:
    """Parameters outside the embedding tables (word, position, token type): the ones a token's FLOPs scale with."""
    return sum(p.numel() for name, p in model.named_parameters() if ".embeddings." not in f".{name}")


def training_flops(parameters: int, tokens: int) -> float:
    """``6 * N * T``: forward and backward over ``tokens`` real tokens."""
    return 6.0 * parameters * tokens


def forward_flops(parameters: int, tokens: int) -> float:
    """``2 * N * T``: one forward pass over ``tokens`` real tokens."""
    return 2.0 * parameters * tokens


def record(kind: str, flops: float, seconds: float) -> None:
    """Count ``flops`` spent in ``seconds`` of wall time under ``kind`` (e.g. ``'finetune'``, ``'features'``):
    one JSON line appended to ``$KDLS_FLOPS_FILE`` when it is set (nothing otherwise)."""
    target = current_settings().flops_file
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"kind": kind, "flops": float(flops), "seconds": float(seconds)}) + "\n")


def read_tally(path: Path) -> dict[str, tuple[float, float]]:
    """``{kind: (flops, seconds)}`` summed over the lines of a ``$KDLS_FLOPS_FILE`` (empty if it does not exist)."""
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    path = Path(path)
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                totals[item["kind"]][0] += item["flops"]
                totals[item["kind"]][1] += item["seconds"]
    return {kind: (flops, seconds) for kind, (flops, seconds) in totals.items()}
