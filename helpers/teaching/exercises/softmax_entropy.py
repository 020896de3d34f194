"""Notebook 01 (``01_softmax_temperature_entropy``): softmax with a temperature and entropy in nats -- their
checks, with the worked solutions beside them."""

from __future__ import annotations

from collections.abc import Callable

import torch

from helpers.teaching.exercises.checking import (
    LN2, MISTAKES, _as_tensor, _call, _Case, _close, _diagnose, _Failed, _fmt, _generator, _name, _run_check,
)

__all__ = ["check_softmax_with_temperature", "softmax_with_temperature_solution", "check_entropy", "entropy_solution"]


# ----------------------------------------------------------------------------- 01: softmax with temperature


def _softmax_cases() -> list[_Case]:
    g = _generator(1)
    batch = 3.0 * torch.randn(3, 4, generator=g, dtype=torch.float64)
    return [
        _Case("one example [2, 1, 0.1, -1], tau = 2", (torch.tensor([2.0, 1.0, 0.1, -1.0], dtype=torch.float64), 2.0)),
        _Case("a batch of 3 examples (shape (3, 4)), tau = 0.5", (batch, 0.5)),
        _Case("the same batch, tau = 1", (batch, 1.0)),
        _Case("large logits [1000, 999, 990], tau = 1", (torch.tensor([[1000.0, 999.0, 990.0]], dtype=torch.float64), 1.0)),
    ]


def check_softmax_with_temperature(fn: Callable) -> bool:
    """Check ``fn(logits, temperature) -> softmax(logits / temperature)`` over the last axis."""
    check = "softmax_with_temperature"
    mutants = {
        "multiplied": lambda z, t: torch.softmax(z * t, dim=-1),
        "ignored": lambda z, t: torch.softmax(z, dim=-1),
        "axis": lambda z, t: torch.softmax(z / t, dim=0),
    }
    hints = {
        "multiplied": "Divide: p = softmax(z / τ), so τ > 1 flattens and τ < 1 sharpens.",
        "ignored": "Divide the logits by τ before the softmax.",
        "axis": "The classes are on the last axis: softmax(..., dim=-1).",
    }

    def body() -> int:
        cases = _softmax_cases()
        for case in cases:
            z, t = case.args
            expected = torch.softmax(z / t, dim=-1)
            got = _as_tensor(_call(fn, case), case, "a tensor of probabilities")
            if got.shape != expected.shape:
                raise _Failed(f"case '{case.name}': expected shape {tuple(expected.shape)}, got {tuple(got.shape)}."
                              + _diagnose(check, got, case, mutants, hints))
            if not torch.isfinite(got).all():
                raise _Failed(f"case '{case.name}': your probabilities contain NaN or inf ({_fmt(got)}).\n"
                              f"   Likely mistake: {MISTAKES[check]['overflow']}. exp(1000) is inf in floating point: "
                              "subtract each row's largest logit before exp (it changes nothing, notebook 01 §1), "
                              "or use torch.softmax.")
            if not _close(got, expected):
                message = (f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                           + _diagnose(check, got, case, mutants, hints))
                if "Likely" not in message and not _close(got.sum(-1), torch.ones(got.shape[:-1], dtype=torch.float64)):
                    message += (f"\n   Likely mistake: {MISTAKES[check]['unnormalised']} (row sums {_fmt(got.sum(-1))}). "
                                "Apply the temperature to the logits, then the softmax (exp, divided by the row's sum).")
                raise _Failed(message)
        return len(cases)

    return _run_check(f"check_softmax_with_temperature({_name(fn)})", body)


def softmax_with_temperature_solution(logits, temperature):
    """softmax(logits / temperature) over the last axis, computed stably."""
    scaled = logits / temperature
    scaled = scaled - scaled.max(dim=-1, keepdim=True).values  # changes nothing, avoids exp overflow
    e = torch.exp(scaled)
    return e / e.sum(dim=-1, keepdim=True)


# ----------------------------------------------------------------------------- 01: entropy


def _entropy_reference(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.clamp_min(1e-300).log()).sum(-1)


def _entropy_cases() -> list[_Case]:
    return [
        _Case("3 distributions over 4 classes, no zeros",
              (torch.tensor([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.4, 0.3, 0.2, 0.1]], dtype=torch.float64),)),
        _Case("a batch with zero probabilities ([0.5, 0.5, 0, 0] and one-hot)",
              (torch.tensor([[0.5, 0.5, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4]], dtype=torch.float64),)),
        _Case("a batch of 5 distributions over 2 classes",
              (torch.tensor([[0.5, 0.5], [0.9, 0.1], [0.99, 0.01], [0.2, 0.8], [0.6, 0.4]], dtype=torch.float64),)),
    ]


def check_entropy(fn: Callable) -> bool:
    """Check ``fn(probs) -> per-example entropy in nats`` (shape ``(B,)``; ``0 log 0 = 0``)."""
    check = "entropy"
    mutants = {
        "log2": lambda p: _entropy_reference(p) / LN2,
        "sign": lambda p: -_entropy_reference(p),
        "mean": lambda p: _entropy_reference(p).mean(),
        "axis": lambda p: -(p * p.clamp_min(1e-300).log()).sum(0),
    }
    hints = {
        "log2": "The kit measures entropy in nats: use the natural log (torch.log), not log2.",
        "sign": "H(p) = -Σ p log p: log p ≤ 0, so the minus makes H ≥ 0.",
        "mean": "Return one entropy per example (shape (B,)): do not average over the batch.",
        "axis": "Sum over the classes, the last axis: .sum(dim=-1).",
    }

    def body() -> int:
        cases = _entropy_cases()
        for case in cases:
            (p,) = case.args
            expected = _entropy_reference(p)
            got = _as_tensor(_call(fn, case), case, "a tensor of per-example entropies")
            if got.shape != expected.shape or not torch.isfinite(got).all() or not _close(got, expected):
                message = f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                diagnosis = _diagnose(check, got, case, mutants, hints)
                if not diagnosis and got.shape == expected.shape and torch.isnan(got).any():
                    diagnosis = (f"\n   Likely mistake: {MISTAKES[check]['nan']} (0 · log 0 = 0 · (-inf) = NaN). "
                                 "Skip the zeros, e.g. torch.special.xlogy(p, p), or clamp p before the log: "
                                 "p * p.clamp_min(1e-12).log().")
                raise _Failed(message + diagnosis)
        return len(cases)

    return _run_check(f"check_entropy({_name(fn)})", body)


def entropy_solution(probs):
    """Per-example entropy in nats; 0 · log 0 counts as 0."""
    return -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=-1)
