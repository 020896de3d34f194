"""Notebook 02: ``my_label_smoothing_loss(logits, targets, alpha)`` -> the mean label-smoothing loss
``(1 − α)·CE(y, p) + α·CE(u, p)`` with ``u`` uniform over all K classes (PyTorch's ``label_smoothing``)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from helpers.teaching.exercises.checking import (
    LN2, Case, Exercise, Instructor, Wrong, as_tensor, call, close, expect_close, report,
)

MISTAKES = {
    "alpha_swapped": "alpha on the wrong term",
    "k_minus_1": "smoothing over K-1 classes instead of K",
    "sum": "sum instead of mean over the batch",
    "no_hard_weight": "(1 - alpha) missing on the cross-entropy term",
    "kl_not_ce": "alpha*log K constant dropped",
    "log2": "log base 2",
    "per_example": "per-example losses instead of their mean",
    "axis": "log-softmax over the wrong axis",
    "off_by_one": "a class left out of the uniform term",
    "unstable": "numerically unstable: log of a softmax that underflows",
    "clamped": "clamped the probabilities before the log",
}
HINTS = {
    "alpha_swapped": "In the kit α weights the soft (uniform) part: (1 − α)·CE(y, p) + α·CE(u, p); α = 0 is plain CE.",
    "k_minus_1": ("The kit follows PyTorch's label_smoothing: the α mass is spread uniformly over ALL K classes "
                  "(the label too), so the label gets 1 − α + α/K and every other class α/K — not α/(K − 1)."),
    "sum": "Losses are means over the batch: .mean(), not .sum().",
    "no_hard_weight": "The hard term is weighted too: (1 − α)·CE(y, p).",
    "kl_not_ce": "The uniform term is CE(u, p) = KL(u ‖ p) + log K: keep the constant (the kit's loss equals PyTorch's).",
    "log2": "Losses are in nats: natural log (F.log_softmax), not log2.",
    "per_example": "Average over the batch: .mean().",
    "axis": "The classes are on the last axis: log_softmax(logits, dim=-1).",
    "off_by_one": "CE(u, p) = −(1/K) Σ over all K classes of log p_k.",
    "unstable": ("For large logit gaps softmax(z) underflows to 0 and log 0 = −inf. Use torch.log_softmax (or "
                 "F.cross_entropy), which never forms the small probabilities."),
    "clamped": ("A confident prediction has log-probabilities far below log(1e-12) ≈ −27.6 on its wrong classes, and "
                "the uniform term needs them: use torch.log_softmax instead of log(clamp(softmax))."),
}


def _reference(z: torch.Tensor, y: torch.Tensor, a: float) -> torch.Tensor:
    return F.cross_entropy(z.double(), y, label_smoothing=a)


def _ce_uniform(z: torch.Tensor) -> torch.Tensor:
    return -F.log_softmax(z, dim=-1).mean(-1).mean()


def _k_minus_1(z: torch.Tensor, y: torch.Tensor, a: float) -> torch.Tensor:
    q = torch.full_like(z, a / (z.shape[-1] - 1))
    q[torch.arange(len(y)), y] = 1 - a
    return -(q * F.log_softmax(z, dim=-1)).sum(-1).mean()


_LOOKALIKES: dict[str, Callable] = {  # wrong answers the self-check recognises by value
    "alpha_swapped": lambda z, y, a: a * F.cross_entropy(z, y) + (1 - a) * _ce_uniform(z),
    "k_minus_1": _k_minus_1,
    "sum": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a, reduction="sum"),
    "no_hard_weight": lambda z, y, a: F.cross_entropy(z, y) + a * _ce_uniform(z),
    "kl_not_ce": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a) - a * math.log(z.shape[-1]),
    "log2": lambda z, y, a: F.cross_entropy(z, y, label_smoothing=a) / LN2,
    "axis": lambda z, y, a: ((1 - a) * F.nll_loss(F.log_softmax(z, 0), y) - a * F.log_softmax(z, 0).mean(-1).mean()),
    "off_by_one": lambda z, y, a: ((1 - a) * F.cross_entropy(z, y)
                                   - a * F.log_softmax(z, -1)[:, 1:].sum(-1).mean() / z.shape[-1]),
}
_FLOORS = (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15, 1e-20, 1e-30)


def _clamped(z: torch.Tensor, y: torch.Tensor, a: float, floor: float) -> torch.Tensor:
    log_p = torch.softmax(z, -1).clamp_min(floor).log()
    return ((1 - a) * -log_p[torch.arange(len(y)), y] - a * log_p.mean(-1)).mean()


def _diagnose(z: torch.Tensor, y: torch.Tensor, a: float) -> Callable[[torch.Tensor], tuple[str, str]]:
    z = z.double()

    def diagnose(got: torch.Tensor) -> tuple[str, str]:
        got = got.reshape(()) if got.numel() == 1 else got
        for key, lookalike in _LOOKALIKES.items():
            if close(got, lookalike(z, y, a), rtol=1e-3, atol=1e-5):
                return key, HINTS[key]
        if not torch.isfinite(got).all():
            return "unstable", HINTS["unstable"]
        if any(close(got, _clamped(z, y, a, floor), rtol=1e-5, atol=1e-8) for floor in _FLOORS):
            return "clamped", HINTS["clamped"]
        return "", ""

    return diagnose


def _judge(fn: Callable, name: str, z: torch.Tensor, y: torch.Tensor, a: float) -> None:
    got = as_tensor(call(fn, name, z, y, a), name, "a scalar loss tensor")
    if got.shape == (z.shape[0],) and z.shape[0] > 1:
        raise Wrong(f"case '{name}': expected one number (the batch mean), got shape {tuple(got.shape)}.",
                    "per_example", HINTS["per_example"])
    expect_close(name, got.reshape(()) if got.numel() == 1 else got, _reference(z, y, a), _diagnose(z, y, a))


def _batch(seed: int, rows: int, k: int, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(rows, k, generator=g, dtype=torch.float64), torch.randint(0, k, (rows,), generator=g)


def _mixed_scales(seed: int, rows: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows from nearly flat (logits ~0.01) to extremely confident (logit gaps up to thousands), some confidently
    wrong (the label is the least likely class), some tied."""
    g = torch.Generator().manual_seed(seed)
    scale = 10.0 ** (5.0 * torch.rand(rows, 1, generator=g, dtype=torch.float64) - 2.0)
    scale[3::4] = 1000.0  # some rows certainly confident beyond exp's range
    z = scale * torch.randn(rows, k, generator=g, dtype=torch.float64)
    z[0::5] = 0.0  # all classes tied
    y = torch.randint(0, k, (rows,), generator=g)
    y[1::3] = z[1::3].argmin(-1)  # confidently wrong
    return z, y


def _case(name: str, make: Callable[[], tuple], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, *make()), points)


def visible_cases() -> list[Case]:
    return [
        _case("4 examples, K = 5, alpha = 0.2", lambda: (*_batch(2, 4, 5, 2.0), 0.2)),
        _case("the same batch, alpha = 0 (plain cross-entropy)", lambda: (*_batch(2, 4, 5, 2.0), 0.0)),
        _case("6 examples, K = 3, alpha = 0.6", lambda: (*_batch(3, 6, 3, 2.0), 0.6)),
        _case("2 classes, alpha = 1 (the uniform term alone)", lambda: (*_batch(4, 5, 2, 1.5), 1.0)),
        _case("a seeded random batch of 20 rows, K = 6, alpha = 0.1 (logit scales 0.01 to 1000, confidently wrong "
              "rows, ties)", lambda: (*_mixed_scales(5, 20, 6), 0.1)),
    ]


def check_label_smoothing_loss(fn: Callable) -> bool:
    """Check ``fn(logits, targets, alpha) -> mean LS loss`` = ``F.cross_entropy(..., label_smoothing=alpha)``; print the
    verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def my_label_smoothing_loss(logits, targets, alpha):
    """(1 − α)·CE(y, p) + α·CE(u, p), uniform u over all K classes, mean over the batch."""
    log_p = torch.log_softmax(logits, dim=-1)
    hard = -log_p[torch.arange(len(targets)), targets]  # CE(y, p) per example
    uniform = -log_p.mean(dim=-1)  # CE(u, p) = −(1/K) Σ_k log p_k per example
    return ((1 - alpha) * hard + alpha * uniform).mean()


def _hidden_cases() -> list[Case]:
    return [
        _case("a batch, alpha = 0.3", lambda: (*_batch(102, 7, 4, 1.0), 0.3), 1.0),
        _case("plain cross-entropy", lambda: (*_batch(103, 5, 6, 3.0), 0.0), 1.0),
        _case("2 classes, alpha = 0.5", lambda: (*_batch(104, 8, 2, 2.0), 0.5), 1.0),
        _case("uniform term alone", lambda: (*_batch(105, 4, 7, 2.0), 1.0), 1.0),
        _case("mixed scales", lambda: (*_mixed_scales(2026, 30, 5), 0.25), 2.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    def alpha_on_hard(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1)
        return (alpha * F.nll_loss(log_p, targets) + (1 - alpha) * -log_p.mean(-1).mean())

    def k_minus_1(logits, targets, alpha):
        k = logits.shape[-1]
        q = torch.full_like(logits, alpha / (k - 1))
        q[torch.arange(len(targets)), targets] = 1 - alpha
        return -(q * F.log_softmax(logits, -1)).sum(-1).mean()

    def summed(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1)
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).sum()

    def per_example(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1)
        return (1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)

    def unweighted_hard(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1)
        return (-log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).mean()

    def kl_to_uniform(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1)
        k = logits.shape[-1]
        kl = (1 / k * (math.log(1 / k) - log_p)).sum(-1)
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * kl).mean()

    def in_bits(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1) / math.log(2)
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).mean()

    def log_of_softmax(logits, targets, alpha):
        log_p = torch.log(torch.softmax(logits, dim=-1))
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).mean()

    def clamped_log(logits, targets, alpha):
        log_p = torch.log(torch.softmax(logits, dim=-1).clamp_min(1e-12))
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).mean()

    def naive_logsumexp(logits, targets, alpha):
        log_p = logits - torch.log(torch.exp(logits).sum(-1, keepdim=True))
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).mean()

    def batch_axis(logits, targets, alpha):
        log_p = F.log_softmax(logits, dim=0)
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * -log_p.mean(-1)).mean()

    def loop_from_one(logits, targets, alpha):
        log_p = F.log_softmax(logits, -1)
        k = logits.shape[-1]
        uniform = sum(-log_p[:, j] for j in range(1, k)) / k
        return ((1 - alpha) * -log_p[torch.arange(len(targets)), targets] + alpha * uniform).mean()

    def wraps_the_kit(logits, targets, alpha):
        from helpers import label_smoothing_loss

        return label_smoothing_loss(logits, targets, alpha)

    def wraps_the_objective(logits, targets, alpha):
        import helpers.maths.losses as kit

        return kit.Objective("ls", alpha).loss(logits, targets)

    return {
        "alpha on the hard term": (alpha_on_hard, "alpha_swapped"),
        "smoothing over K - 1 classes": (k_minus_1, "k_minus_1"),
        "sums over the batch": (summed, "sum"),
        "returns per-example losses": (per_example, "per_example"),
        "(1 - alpha) missing": (unweighted_hard, "no_hard_weight"),
        "KL(u || p) instead of CE(u, p)": (kl_to_uniform, "kl_not_ce"),
        "log base 2": (in_bits, "log2"),
        "log-softmax over the batch axis": (batch_axis, "axis"),
        "uniform term from class 1 (off by one)": (loop_from_one, "off_by_one"),
        "log(softmax(z))": (log_of_softmax, "unstable"),
        "log-sum-exp without the maximum": (naive_logsumexp, "unstable"),
        "log(softmax(z).clamp_min(1e-12))": (clamped_log, "clamped"),
        "wraps the kit's label_smoothing_loss": (wraps_the_kit, "kit_wrapper"),
        "wraps the kit's Objective": (wraps_the_objective, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=my_label_smoothing_loss, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="label_smoothing_loss", notebook="02", function="my_label_smoothing_loss",
                    check=check_label_smoothing_loss, mistakes=MISTAKES, cases=visible_cases, instructor=INSTRUCTOR)
