"""Notebook 04 (``04_measuring_confidence``): the expected calibration error and temperature scaling -- their
checks, with the worked solutions beside them."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from helpers.maths.calibration import fit_temperature
from helpers.maths.metrics import expected_calibration_error
from helpers.teaching.exercises.checking import (
    MISTAKES, _as_tensor, _call, _Case, _close, _diagnose, _Failed, _fmt, _generator, _name, _run_check,
)

__all__ = [
    "check_expected_calibration_error",
    "expected_calibration_error_solution",
    "check_temperature_scaling",
    "temperature_scaling_solution",
]


# ----------------------------------------------------------------------------- 04: expected calibration error


def _ece_data(seed: int, n: int = 400, k: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions over-confident on some examples and under-confident on others: probabilities softmax(z),
    labels drawn from softmax(z / 2) for half of the examples and from softmax(2 z) for the other half.

    Confidences are kept away from every bin edge of 5, 10 and 15 bins (so float rounding never moves
    an example across an edge)."""
    g = _generator(seed)
    z = 2.5 * torch.randn(n, k, generator=g, dtype=torch.float64)
    probs = torch.softmax(z, -1)
    sharpness = torch.where(torch.arange(n) % 2 == 0, 0.5, 2.0).double()[:, None]
    targets = torch.multinomial(torch.softmax(z * sharpness, -1), 1, generator=g)[:, 0]
    conf = probs.max(-1).values
    edges = torch.cat([torch.arange(1, nb) / nb for nb in (5, 10, 15)]).double()
    far = (conf[:, None] - edges[None, :]).abs().min(-1).values > 1e-6
    return probs[far], targets[far]


def _ece_by_hand(probs: torch.Tensor, targets: torch.Tensor, n_bins: int, confidence=None, weights: str = "count",
                 signed: bool = False) -> torch.Tensor:
    conf = probs.max(-1).values if confidence is None else confidence
    correct = (probs.argmax(-1) == targets).double()
    index = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    total, used = torch.zeros((), dtype=torch.float64), 0
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            gap = correct[mask].mean() - conf[mask].mean()
            gap = gap if signed else gap.abs()
            total = total + (mask.double().mean() * gap if weights == "count" else gap)
            used += 1
    if weights == "count":
        return total
    return total / (used if weights == "equal" else n_bins)  # "all": empty bins counted too


def check_expected_calibration_error(fn: Callable) -> bool:
    """Check ``fn(probs, targets, n_bins) -> ECE`` (equal-width bins of max-probability, weighted by count)."""
    check = "expected_calibration_error"
    mutants = {
        "equal_weights": lambda p, y, n: _ece_by_hand(p, y, n, weights="equal"),
        "equal_weights_all": lambda p, y, n: _ece_by_hand(p, y, n, weights="all"),
        "true_class_prob": lambda p, y, n: _ece_by_hand(p, y, n, confidence=p[torch.arange(len(y)), y]),
        "accuracy_mixup": lambda p, y, n: _ece_mixup(p, y, n),
        "signed": lambda p, y, n: _ece_by_hand(p, y, n, signed=True).abs(),
        "signed_raw": lambda p, y, n: _ece_by_hand(p, y, n, signed=True),
    }
    hints = {
        "equal_weights": ("Weight each bin by the fraction of examples in it (count / N): a bin with 3 examples "
                          "must count less than one with 300."),
        "true_class_prob": ("Confidence is the max-probability (the probability of the PREDICTED class), not the "
                            "probability of the true class; bin by it."),
        "accuracy_mixup": ("In each bin, accuracy = fraction of examples whose arg-max equals the label; "
                           "confidence = their mean max-probability. You used a probability as accuracy or compared "
                           "the wrong pair."),
        "signed": ("Take |accuracy − confidence| inside each bin, then the count-weighted mean of these gaps. A signed "
                   "sum (or one gap over all examples, without bins — the same number) lets over- and "
                   "under-confident bins cancel."),
    }
    hints["equal_weights_all"] = hints["equal_weights"]
    hints["signed_raw"] = hints["signed"]

    def body() -> int:
        cases = []
        for seed, n_bins in ((4, 10), (5, 5), (6, 15)):
            probs, targets = _ece_data(seed)
            cases.append(_Case(f"{len(targets)} predictions, K = 4, n_bins = {n_bins}",
                               (probs, targets, n_bins)))
        for case in cases:
            p, y, n_bins = case.args
            expected = torch.tensor(expected_calibration_error(p.log(), y, n_bins), dtype=torch.float64)
            got = _as_tensor(_call(fn, case), case, "one number (the ECE)")
            if got.numel() != 1 or not _close(got.reshape(()), expected, rtol=1e-4, atol=1e-6):
                shown = got.reshape(()) if got.numel() == 1 else got
                raise _Failed(f"case '{case.name}': expected {_fmt(expected)}, got {_fmt(got)}."
                              + _diagnose(check, shown, case, mutants, hints))
        return len(cases)

    return _run_check(f"check_expected_calibration_error({_name(fn)})", body)


def _ece_mixup(probs: torch.Tensor, targets: torch.Tensor, n_bins: int) -> torch.Tensor:
    """A classic mix-up: 'accuracy' taken as the mean probability of the true class."""
    conf = probs.max(-1).values
    p_true = probs[torch.arange(len(targets)), targets]
    index = (torch.ceil(conf * n_bins) - 1).clamp(0, n_bins - 1).long()
    total = torch.zeros((), dtype=torch.float64)
    for b in range(n_bins):
        mask = index == b
        if mask.any():
            total = total + mask.double().mean() * (p_true[mask].mean() - conf[mask].mean()).abs()
    return total


def expected_calibration_error_solution(probs, targets, n_bins):
    """Σ_bins (count / N) · |accuracy − mean confidence| over equal-width bins of max-probability."""
    confidence, predicted = probs.max(dim=-1)
    correct = (predicted == targets).double()
    ece = 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        in_bin = (confidence > low) & (confidence <= high) if b > 0 else (confidence <= high)
        if in_bin.any():
            weight = in_bin.double().mean()  # the fraction of examples in this bin
            ece += weight * (correct[in_bin].mean() - confidence[in_bin].double().mean()).abs()
    return float(ece)


# ----------------------------------------------------------------------------- 04: temperature scaling


def _calibration_set(seed: int, scale: float, n: int = 600, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``scale * z`` with labels drawn from ``softmax(z)``: the NLL-optimal temperature is close to ``scale``."""
    g = _generator(seed)
    z = 1.5 * torch.randn(n, k, generator=g, dtype=torch.float64)
    y = torch.multinomial(torch.softmax(z, -1), 1, generator=g)[:, 0]
    return (scale * z).float(), y


def _nll(logits: torch.Tensor, targets: torch.Tensor, t: float) -> float:
    return F.cross_entropy(logits.double() / t, targets).item()


def check_temperature_scaling(fn: Callable, test_logits=None, test_targets=None) -> bool:
    """Check ``fn(val_logits, val_targets) -> T`` minimising the validation NLL of ``softmax(logits / T)``.

    The check calls ``fn`` on two validation sets whose optimal temperatures differ clearly (about 2.5
    and 0.6); pass the notebook's ``test_logits, test_targets`` too, so that a function that reads
    them through a global (fitting on the test split) is named as such.
    """
    check = "temperature_scaling"

    def body() -> int:
        sets = [("validation set A (over-confident: optimum near T = 2.5)", _calibration_set(7, 2.5)),
                ("validation set B (under-confident: optimum near T = 0.6)", _calibration_set(8, 0.6))]
        test_t = None
        if test_logits is not None and test_targets is not None:
            test_t = fit_temperature(torch.as_tensor(test_logits), torch.as_tensor(test_targets))
        answers = []
        for name, (z, y) in sets:
            case = _Case(name, (z, y))
            raw = _call(fn, case)
            got = _as_tensor(raw, case, "one positive number T")
            if got.numel() != 1:
                raise _Failed(f"case '{name}': expected one number T, got {_fmt(got)}.")
            answers.append((case, float(got.reshape(())), fit_temperature(z, y)))
        (case_a, t_a, best_a), (case_b, t_b, best_b) = answers
        for case, t, best in answers:
            z, y = case.args
            if math.isclose(t, best, rel_tol=0.02) or (t > 0 and _nll(z, y, t) - _nll(z, y, best) < 1e-4):
                continue
            message = f"case '{case.name}': expected T ≈ {best:.3f} (the validation NLL's minimum), got {t:.4g}."
            if test_t is not None and math.isclose(t_a, test_t, rel_tol=0.02) and math.isclose(t_b, test_t, rel_tol=0.02):
                message += (f"\n   Likely mistake: {MISTAKES[check]['test_split']}: your T equals the one fitted on the "
                            f"notebook's test split (T = {test_t:.3f}) for both validation sets. Use the function's "
                            "arguments val_logits, val_targets, never test_logits (a global).")
            elif math.isclose(t_a, t_b, rel_tol=1e-6):
                message += (f"\n   Likely mistake: {MISTAKES[check]['ignores_data']} — you returned {t:.4g} for two "
                            "validation sets whose best temperatures differ. Fit on val_logits and val_targets (not on "
                            "a global such as test_logits). If you maximised accuracy: "
                            f"{MISTAKES[check]['accuracy']} — accuracy never changes with T (the arg-max does not move), "
                            "so it cannot choose T. Minimise the NLL.")
            elif t > 0 and math.isclose(1.0 / t, best, rel_tol=0.02):
                message += (f"\n   Likely mistake: {MISTAKES[check]['inverse']}. The kit divides: softmax(logits / T); "
                            "if you optimised a factor c in softmax(c · logits), return T = 1/c.")
            elif math.isclose(math.exp(t), best, rel_tol=0.02):
                message += (f"\n   Likely mistake: {MISTAKES[check]['log_t']}. If you optimised over log T, "
                            "return exp(log T).")
            elif t > 0 and _is_ece_minimum(case.args[0], case.args[1], t):
                message += (f"\n   Likely mistake: {MISTAKES[check]['ece']}. Temperature scaling minimises the "
                            "validation NLL (a smooth, proper score); ECE is only reported.")
            elif t > 0:
                message += (f"\n   The NLL at your T is {_nll(*case.args, t):.4f} nats, at the best T "
                            f"{_nll(*case.args, best):.4f}. Minimise the mean NLL of softmax(val_logits / T) over T > 0 "
                            f"(e.g. scipy.optimize.minimize_scalar on log T); if you maximised accuracy: "
                            f"{MISTAKES[check]['accuracy']} — accuracy does not depend on T.")
            raise _Failed(message)
        return len(answers)

    return _run_check(f"check_temperature_scaling({_name(fn)})", body)


def _is_ece_minimum(z: torch.Tensor, y: torch.Tensor, t: float) -> bool:
    grid = np.geomspace(0.05, 20.0, 400)
    eces = [expected_calibration_error(z / g, y) for g in grid]
    best = grid[int(np.argmin(eces))]
    return expected_calibration_error(z / t, y) <= min(eces) + 1e-3 or math.isclose(t, best, rel_tol=0.05)


def temperature_scaling_solution(val_logits, val_targets):
    """The T > 0 minimising the validation NLL of softmax(val_logits / T) (a 1-D search on log T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t):
        return F.cross_entropy(val_logits.double() / math.exp(log_t), val_targets).item()

    result = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100.0)), method="bounded")
    return math.exp(result.x)
