"""Notebook 01: ``entropy_in_nats(probs)`` -> the entropy ``-Σ_k p_k log p_k`` of each row of ``probs`` ``(B, K)``, in
nats, shape ``(B,)``, with ``0 · log 0 = 0``."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from helpers.teaching.exercises.checking import (
    LN2, Case, Exercise, Instructor, as_tensor, call, close, expect_close, report,
)

MISTAKES = {
    "log2": "log base 2",
    "axis": "sum over the wrong axis",
    "nan": "log(0) gives NaN",
    "mean": "averaged over the batch",
    "sign": "minus sign missing",
    "floored": "probabilities floored (wrong on confident predictions)",
    "off_by_one": "a class left out of the sum",
    "as_logits": "treated the probabilities as logits",
    "normalised": "divided by log K",
}
HINTS = {
    "log2": "The kit measures entropy in nats: use the natural log (torch.log), not log2.",
    "axis": "Sum over the classes, the last axis: .sum(dim=-1).",
    "nan": ("0 · log 0 = 0 · (-inf) = NaN. Skip the zeros, e.g. torch.special.xlogy(p, p), or clamp p before the "
            "log: p * p.clamp_min(1e-12).log()."),
    "mean": "Return one entropy per example (shape (B,)): do not average over the batch.",
    "sign": "H(p) = -Σ p log p: log p ≤ 0, so the minus makes H ≥ 0.",
    "floored": ("A confident prediction puts tiny probabilities (1e-6 and far less) on many classes, and they count. "
                "Clamp only to avoid log(0), far below any real probability (clamp_min(1e-12)), or use "
                "torch.special.xlogy(p, p); never add an epsilon to p or drop small terms."),
    "off_by_one": "Sum over all K classes: p[..., 1:] or range(1, K) leaves the first one out.",
    "as_logits": "probs are probabilities already: take their log directly, no softmax / log_softmax.",
    "normalised": "Return the entropy itself, in nats, not H / log K.",
}


def _reference(p: torch.Tensor) -> torch.Tensor:
    return -torch.special.xlogy(p, p).sum(-1)


_LOOKALIKES: dict[str, Callable] = {  # wrong answers the self-check recognises by value
    "log2": lambda p: _reference(p) / LN2,
    "sign": lambda p: -_reference(p),
    "mean": lambda p: _reference(p).mean(),
    "axis": lambda p: -torch.special.xlogy(p, p).sum(0),
    "off_by_one": lambda p: -torch.special.xlogy(p[..., 1:], p[..., 1:]).sum(-1),
    "as_logits": lambda p: -(torch.softmax(p, -1) * torch.log_softmax(p, -1)).sum(-1),
    "normalised": lambda p: _reference(p) / math.log(p.shape[-1]),
}


_EPSILONS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10)


def _floored(p: torch.Tensor) -> list[torch.Tensor]:
    """What the usual floors give: an epsilon added inside the log, a clamp below (and above), small terms dropped."""
    answers = []
    for eps in _EPSILONS:
        answers += [-(p * torch.log(p + eps)).sum(-1), -(p * torch.log(p.clamp_min(eps))).sum(-1),
                    -(p * torch.log(p.clamp(eps, 1 - eps))).sum(-1),
                    -torch.where(p > eps, torch.special.xlogy(p, p), torch.zeros_like(p)).sum(-1)]
    return answers


def _diagnose(p: torch.Tensor) -> Callable[[torch.Tensor], tuple[str, str]]:
    def diagnose(got: torch.Tensor) -> tuple[str, str]:
        for key, lookalike in _LOOKALIKES.items():
            if close(got, lookalike(p), rtol=1e-3, atol=1e-8):
                return key, HINTS[key]
        if got.shape == p.shape[:-1] and torch.isnan(got).any():
            return "nan", HINTS["nan"]
        if any(close(got, floored, rtol=1e-6, atol=1e-12) for floored in _floored(p)):
            return "floored", HINTS["floored"]
        return "", ""

    return diagnose


def _judge(fn: Callable, name: str, p: torch.Tensor) -> None:
    got = as_tensor(call(fn, name, p), name, "a tensor of per-example entropies")
    expect_close(name, got, _reference(p), _diagnose(p), rtol=1e-4, atol=1e-8)


def _confident(k: int, tail: float) -> torch.Tensor:
    """One-hot, a confident row with ``tail`` on every other class, and a near-uniform row, over ``k`` classes."""
    one_hot = torch.zeros(k, dtype=torch.float64)
    one_hot[0] = 1.0
    confident = torch.full((k,), tail, dtype=torch.float64)
    confident[1] = 1.0 - tail * (k - 1)
    near_uniform = torch.full((k,), 1.0 / k, dtype=torch.float64) + torch.linspace(-0.1, 0.1, k, dtype=torch.float64) / k
    return torch.stack([one_hot, confident, near_uniform / near_uniform.sum()])


def _random_probs(seed: int, rows: int, k: int) -> torch.Tensor:
    """Rows from almost uniform to extremely peaked (tails far below 1e-12), some with exact zeros, some with
    tied classes."""
    g = torch.Generator().manual_seed(seed)
    scale = 10.0 ** (3.7 * torch.rand(rows, 1, generator=g, dtype=torch.float64) - 2.0)
    p = torch.softmax(scale * torch.randn(rows, k, generator=g, dtype=torch.float64), -1)
    zeros = (torch.rand(rows, k, generator=g) < 0.3) & (torch.arange(rows)[:, None] % 3 == 0)
    p = torch.where(zeros & (p < p.max(-1, keepdim=True).values), 0.0, p)
    p[1::4, : k // 2] = p[1::4, :1]  # ties
    return p / p.sum(-1, keepdim=True)


def _case(name: str, make: Callable[[], torch.Tensor], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, make()), points)


def visible_cases() -> list[Case]:
    t = torch.tensor
    f64 = torch.float64
    return [
        _case("3 distributions over 4 classes, no zeros",
              lambda: t([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.4, 0.3, 0.2, 0.1]], dtype=f64)),
        _case("a batch with zero probabilities ([0.5, 0.5, 0, 0] and one-hot)",
              lambda: t([[0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=f64)),
        _case("a batch of 5 distributions over 2 classes",
              lambda: t([[0.5, 0.5], [0.9, 0.1], [0.99, 0.01], [0.2, 0.8], [0.6, 0.4]], dtype=f64)),
        _case("confident predictions over 1000 classes (one-hot; 1e-6 on 999 classes; near-uniform)",
              lambda: _confident(1000, 1e-6)),
        _case("a seeded random batch of 30 rows over 50 classes (flat to very peaked, exact zeros, ties)",
              lambda: _random_probs(12, 30, 50)),
    ]


def check_entropy(fn: Callable) -> bool:
    """Check ``fn(probs) -> per-example entropy in nats`` (shape ``(B,)``; ``0 log 0 = 0``); print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def entropy_in_nats(probs):
    """Per-example entropy in nats; 0 · log 0 counts as 0."""
    return -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=-1)


def _hidden_cases() -> list[Case]:
    t = torch.tensor
    f64 = torch.float64
    return [
        _case("ordinary distributions", lambda: t([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [1 / 3, 1 / 3, 1 / 3]], dtype=f64), 1.0),
        _case("zero probabilities", lambda: t([[0.0, 0.25, 0.75, 0.0], [0.0, 0.0, 1.0, 0.0]], dtype=f64), 1.0),
        _case("confident predictions", lambda: _confident(500, 1e-7), 1.0),
        _case("a random batch", lambda: _random_probs(2025, 40, 30), 1.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    def bits(probs):
        return -(probs * torch.log2(probs.clamp_min(1e-12))).sum(-1)

    def over_the_batch(probs):
        return -(probs * torch.log(probs.clamp_min(1e-12))).sum(0)

    def log_of_zero(probs):
        return -(probs * torch.log(probs)).sum(-1)

    def batch_mean(probs):
        return -(probs * torch.log(probs.clamp_min(1e-12))).sum(-1).mean()

    def no_minus(probs):
        return (probs * torch.log(probs.clamp_min(1e-12))).sum(-1)

    def floors_at_1e4(probs):
        return -(probs * torch.log(torch.clamp(probs, min=1e-4))).sum(-1)

    def adds_epsilon(probs):
        return -(probs * torch.log(probs + 1e-6)).sum(-1)

    def clamps_both_ends(probs):
        p = torch.clamp(probs, 1e-7, 1 - 1e-7)
        return -(probs * torch.log(p)).sum(-1)

    def drops_small_terms(probs):
        terms = torch.where(probs > 1e-3, probs * torch.log(probs.clamp_min(1e-3)), torch.zeros_like(probs))
        return -terms.sum(-1)

    def skips_first_class(probs):
        total = torch.zeros(probs.shape[0], dtype=probs.dtype)
        for k in range(1, probs.shape[1]):
            p = probs[:, k]
            total -= torch.where(p > 0, p * torch.log(p.clamp_min(1e-30)), torch.zeros_like(p))
        return total

    def softmax_first(probs):
        log_p = torch.log_softmax(probs, dim=-1)
        return -(log_p.exp() * log_p).sum(-1)

    def normalised(probs):
        return -(probs * torch.log(probs.clamp_min(1e-12))).sum(-1) / math.log(probs.shape[-1])

    def wraps_the_kit(probs):
        import helpers

        return helpers.entropy(torch.log(probs.clamp_min(1e-300)))

    def wraps_theory(probs):
        from helpers.maths import theory

        return theory.distribution_entropy(probs).double()

    return {
        "log base 2": (bits, "log2"),
        "sums over the batch axis": (over_the_batch, "axis"),
        "log(0) not handled": (log_of_zero, "nan"),
        "averages over the batch": (batch_mean, "mean"),
        "minus sign missing": (no_minus, "sign"),
        "floors probabilities at 1e-4": (floors_at_1e4, "floored"),
        "adds 1e-6 inside the log": (adds_epsilon, "floored"),
        "clamps probabilities to [1e-7, 1 - 1e-7]": (clamps_both_ends, "floored"),
        "drops terms below 1e-3": (drops_small_terms, "floored"),
        "loop from class 1 (off by one)": (skips_first_class, "off_by_one"),
        "softmax of the probabilities": (softmax_first, "as_logits"),
        "divides by log K": (normalised, "normalised"),
        "wraps the kit's entropy (flat API)": (wraps_the_kit, "kit_wrapper"),
        "wraps the kit's distribution_entropy": (wraps_theory, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=entropy_in_nats, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="entropy", notebook="01", function="entropy_in_nats", check=check_entropy,
                    mistakes=MISTAKES, cases=visible_cases, instructor=INSTRUCTOR)
