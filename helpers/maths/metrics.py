"""Confidence and calibration metrics of a classifier's posterior.

Conventions: inputs are logits ``(N, K)`` (any float dtype, computed in float32 via
``log_softmax``, so logits of magnitude 1e4 are fine); entropy and NLL are in nats
(natural log); "confidence" is the max-probability.
"""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from helpers.maths.losses import validate_logits_and_targets

__all__ = [
    "entropy",
    "max_probability",
    "negative_log_likelihood",
    "accuracy",
    "reliability_bins",
    "expected_calibration_error",
    "summarize",
]


def _as_tensor(x) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(x)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Per-example entropy ``-sum_k p_k log p_k`` of ``softmax(logits)``, in nats, shape ``(N,)``."""
    log_p = F.log_softmax(_as_tensor(logits).float(), dim=-1)
    return (-(log_p.exp() * log_p).sum(dim=-1)).clamp_min(0.0)


def max_probability(logits: torch.Tensor) -> torch.Tensor:
    """Per-example confidence ``max_k softmax(logits)_k``, shape ``(N,)``."""
    return F.softmax(_as_tensor(logits).float(), dim=-1).max(dim=-1).values


def negative_log_likelihood(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean NLL ``-log p_y`` over the examples, in nats."""
    logits, targets = _as_tensor(logits), _as_tensor(targets)
    validate_logits_and_targets(logits, targets)
    return F.cross_entropy(logits.float(), targets.long()).item()


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of examples whose arg-max class equals the target."""
    logits, targets = _as_tensor(logits), _as_tensor(targets)
    validate_logits_and_targets(logits, targets)
    return (logits.argmax(dim=-1) == targets).float().mean().item()


def reliability_bins(logits: torch.Tensor, targets: torch.Tensor, n_bins: int = 15) -> dict[str, torch.Tensor]:
    """Equal-width confidence bins on [0, 1]: per bin its count, mean confidence and accuracy.

    Bin ``b`` holds confidences in ``(b/n, (b+1)/n]`` (the first bin also holds 0).
    Empty bins have count 0 and NaN confidence/accuracy.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, numbers.Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got n_bins={n_bins!r}")
    n_bins = int(n_bins)
    logits, targets = _as_tensor(logits), _as_tensor(targets)
    validate_logits_and_targets(logits, targets)
    # The prediction is the argmax of the *logits* (the first of tied maxima), as in ``accuracy``; the
    # confidence is the largest float32 softmax probability. Taking the argmax of rounded probabilities
    # instead could pick another class among near-ties (e.g. logits [0, 1e-10, 1e-10]).
    confidence = F.softmax(logits.float(), dim=-1).max(dim=-1).values
    predicted = logits.argmax(dim=-1)
    correct = (predicted == targets).float()
    # bin index in float64, where confidence·n is exact: float32 would round 0.33333334·3 down to 1.0 and put a
    # confidence just above 1/3 into the bin below its edge
    index = (torch.ceil(confidence.double() * n_bins) - 1).clamp(0, n_bins - 1).long()
    counts = torch.bincount(index, minlength=n_bins).float()
    conf_sum = torch.zeros(n_bins).index_add_(0, index, confidence)
    acc_sum = torch.zeros(n_bins).index_add_(0, index, correct)
    nonempty = counts > 0
    mean_conf = torch.where(nonempty, conf_sum / counts.clamp_min(1), torch.full_like(counts, float("nan")))
    mean_acc = torch.where(nonempty, acc_sum / counts.clamp_min(1), torch.full_like(counts, float("nan")))
    edges = torch.linspace(0.0, 1.0, n_bins + 1)
    return {"edges": edges, "count": counts, "confidence": mean_conf, "accuracy": mean_acc}


def expected_calibration_error(logits: torch.Tensor, targets: torch.Tensor, n_bins: int = 15) -> float:
    """ECE = sum over equal-width confidence bins of (bin weight) * |accuracy - confidence|."""
    bins = reliability_bins(logits, targets, n_bins)
    weight = bins["count"] / bins["count"].sum()
    gap = (bins["accuracy"] - bins["confidence"]).abs().nan_to_num(0.0)
    return float((weight * gap).sum().clamp(0.0, 1.0))


def summarize(logits: torch.Tensor, targets: torch.Tensor, n_bins: int = 15) -> dict[str, float]:
    """All headline metrics: accuracy, mean entropy, mean max_prob, nll, ece (floats)."""
    logits, targets = _as_tensor(logits), _as_tensor(targets)
    return {
        "accuracy": accuracy(logits, targets),
        "entropy": entropy(logits).mean().item(),
        "max_prob": max_probability(logits).mean().item(),
        "nll": negative_log_likelihood(logits, targets),
        "ece": expected_calibration_error(logits, targets, n_bins),
    }
