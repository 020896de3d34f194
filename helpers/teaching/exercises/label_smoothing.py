"""Notebook 02 (``02_label_smoothing``): the label-smoothing loss -- its check, with the worked solution beside it."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from helpers.maths.losses import label_smoothing_loss
from helpers.teaching.exercises.checking import (
    LN2, MISTAKES, _as_tensor, _call, _Case, _close, _diagnose, _Failed, _fmt, _generator, _name, _run_check,
)

__all__ = ["check_label_smoothing_loss", "label_smoothing_loss_solution"]


# ----------------------------------------------------------------------------- 02: label smoothing


def _ls_cases() -> list[_Case]:
    g = _generator(2)
    z1 = 2.0 * torch.randn(4, 5, generator=g, dtype=torch.float64)
    y1 = torch.randint(0, 5, (4,), generator=g)
    z2 = 2.0 * torch.randn(6, 3, generator=g, dtype=torch.float64)
    y2 = torch.randint(0, 3, (6,), generator=g)
    return [
        _Case("4 examples, K = 5, alpha = 0.2", (z1, y1, 0.2)),
        _Case("the same batch, alpha = 0 (plain cross-entropy)", (z1, y1, 0.0)),
        _Case("6 examples, K = 3, alpha = 0.6", (z2, y2, 0.6)),
    ]


def _ls_k_minus_1(z, y, a):
    log_p = F.log_softmax(z, dim=-1)
    k = z.shape[-1]
    q = torch.full_like(log_p, a / (k - 1))
    q[torch.arange(len(y)), y] = 1 - a
    return -(q * log_p).sum(-1).mean()


def check_label_smoothing_loss(fn: Callable) -> bool:
    """Check ``fn(logits, targets, alpha) -> mean LS loss`` = ``F.cross_entropy(..., label_smoothing=alpha)``."""
    check = "label_smoothing_loss"

    def ce(z, y):
        return F.cross_entropy(z, y)

    def ce_u(z):
        return -F.log_softmax(z, dim=-1).mean(-1).mean()

    mutants = {
        "alpha_swapped": lambda z, y, a: a * ce(z, y) + (1 - a) * ce_u(z),
        "k_minus_1": _ls_k_minus_1,
        "sum": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a, reduction="sum"),
        "no_hard_weight": lambda z, y, a: ce(z, y) + a * ce_u(z),
        "kl_not_ce": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a) - a * math.log(z.shape[-1]),
        "log2": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a) / LN2,
    }
    hints = {
        "alpha_swapped": "In the kit α weights the soft (uniform) part: (1 − α)·CE(y, p) + α·CE(u, p); α = 0 is plain CE.",
        "k_minus_1": ("The kit follows PyTorch's label_smoothing: the α mass is spread uniformly over ALL K classes "
                      "(the label too), so the label gets 1 − α + α/K and every other class α/K — not α/(K − 1)."),
        "sum": "Losses are means over the batch: .mean(), not .sum().",
        "no_hard_weight": "The hard term is weighted too: (1 − α)·CE(y, p).",
        "kl_not_ce": "The uniform term is CE(u, p) = KL(u ‖ p) + log K: keep the constant (the kit's loss equals PyTorch's).",
        "log2": "Losses are in nats: natural log (F.log_softmax), not log2.",
    }

    def body() -> int:
        cases = _ls_cases()
        for case in cases:
            z, y, a = case.args
            expected = label_smoothing_loss(z, y, a).double()
            got = _as_tensor(_call(fn, case), case, "a scalar loss tensor")
            if got.shape == (z.shape[0],):
                raise _Failed(f"case '{case.name}': expected one number (the batch mean), got shape {tuple(got.shape)}.\n"
                              f"   Likely mistake: {MISTAKES[check]['per_example']}. Average over the batch: .mean().")
            if got.numel() != 1 or not _close(got.reshape(()), expected):
                raise _Failed(f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                              + _diagnose(check, got.reshape(()) if got.numel() == 1 else got, case, mutants, hints))
        return len(cases)

    return _run_check(f"check_label_smoothing_loss({_name(fn)})", body)


def label_smoothing_loss_solution(logits, targets, alpha):
    """(1 − α)·CE(y, p) + α·CE(u, p), uniform u over all K classes, mean over the batch."""
    log_p = torch.log_softmax(logits, dim=-1)
    hard = -log_p[torch.arange(len(targets)), targets]  # CE(y, p) per example
    uniform = -log_p.mean(dim=-1)  # CE(u, p) = −(1/K) Σ_k log p_k per example
    return ((1 - alpha) * hard + alpha * uniform).mean()
