"""Notebook 04: ``my_expected_calibration_error(probs, targets, n_bins)`` -> the ECE: over equal-width bins of the
max-probability, bin ``b`` holding ``(b/n, (b+1)/n]`` (the first also 0), the sum of (fraction of examples in the bin)
× |accuracy − mean max-probability| in the bin."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from helpers.teaching.exercises.checking import Case, Exercise, Instructor, as_tensor, call, close, expect_close, report

MISTAKES = {
    "equal_weights": "bins weighted equally instead of by count",
    "equal_weights_all": "bins weighted equally instead of by count",
    "true_class_prob": "probability of the true class used as confidence",
    "accuracy_mixup": "accuracy and confidence mixed up",
    "signed": "per-bin absolute gap missing",
    "signed_raw": "per-bin absolute gap missing",
    "no_bins": "per-bin absolute gap missing",
    "edge_dropped": "confidences on a bin edge (or exactly 1.0) left out",
    "edge_twice": "confidences on a bin edge counted in two bins",
    "left_closed": "bins closed on the left instead of the right",
    "range": "bins spanning the observed confidences instead of [0, 1]",
    "off_by_one": "one bin too few or too many",
}
HINTS = {
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
    "edge_dropped": ("Every example belongs to exactly one bin: bin b is (b/n, (b+1)/n], so a confidence of exactly "
                     "b/n goes to bin b − 1 and a confidence of 1.0 to the last bin. int(conf * n) puts 1.0 in a bin "
                     "n that does not exist; strict < on both sides loses the edges."),
    "edge_twice": "Close each bin on one side only: (b/n, (b+1)/n], so that an edge value falls in exactly one bin.",
    "left_closed": ("The kit's bins are (b/n, (b+1)/n]: a confidence of exactly b/n belongs to bin b − 1 (np.digitize "
                    "and floor(conf · n) close them on the left)."),
    "range": "The bins divide [0, 1] into n equal parts, whatever confidences the examples have.",
    "off_by_one": ("n_bins bins need n_bins + 1 edges: torch.linspace(0, 1, n_bins + 1)."),
}
HINTS["equal_weights_all"] = HINTS["equal_weights"]
HINTS["signed_raw"] = HINTS["no_bins"] = HINTS["signed"]


# ----------------------------------------------------------------------------- binnings, right and wrong


def _right(conf: torch.Tensor, n: int, low: float = 0.0, high: float = 1.0) -> list[torch.Tensor]:
    """The kit's bins: (edge_b, edge_b+1], the first bin also holding everything below, the last everything above."""
    edges = [low + (high - low) * b / n for b in range(n + 1)]
    everything = torch.ones_like(conf, dtype=torch.bool)
    return [(conf > edges[b] if b > 0 else everything) & (conf <= edges[b + 1] if b < n - 1 else everything)
            for b in range(n)]


def _left(conf: torch.Tensor, n: int) -> list[torch.Tensor]:
    return [(conf >= b / n) & ((conf < (b + 1) / n) | (b == n - 1)) for b in range(n)]


def _strict(conf: torch.Tensor, n: int) -> list[torch.Tensor]:
    return [(conf > b / n) & (conf < (b + 1) / n) for b in range(n)]


def _inclusive(conf: torch.Tensor, n: int) -> list[torch.Tensor]:
    return [(conf >= b / n) & (conf <= (b + 1) / n) for b in range(n)]


def _floor(conf: torch.Tensor, n: int) -> list[torch.Tensor]:
    index = torch.floor(conf * n).long()
    return [index == b for b in range(n)]


def _ece(probs: torch.Tensor, targets: torch.Tensor, n: int, *, bins=_right, confidence=None, accuracy=None,
         weights: str = "count", signed: bool = False) -> torch.Tensor:
    """An ECE by masks: ``bins(conf, n)`` gives one mask per bin; weights ``count`` (count / N), ``equal`` (over the
    non-empty bins) or ``all`` (over all n bins); ``signed`` keeps each bin's gap's sign."""
    probs = probs.double()
    conf = probs.max(-1).values if confidence is None else confidence
    hit = (probs.argmax(-1) == targets).double() if accuracy is None else accuracy
    masks = bins(conf, n)
    total, used = torch.zeros((), dtype=torch.float64), 0
    for mask in masks:
        if mask.any():
            gap = hit[mask].mean() - conf[mask].mean()
            gap = gap if signed else gap.abs()
            total = total + (mask.double().sum() / len(conf) * gap if weights == "count" else gap)
            used += 1
    return total if weights == "count" else total / (used if weights == "equal" else len(masks))


def _reference(probs: torch.Tensor, targets: torch.Tensor, n: int) -> torch.Tensor:
    return _ece(probs, targets, n)


def _true_class(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return p.double()[torch.arange(len(y)), y]


_LOOKALIKES: dict[str, Callable] = {  # wrong answers the self-check recognises by value
    "equal_weights": lambda p, y, n: _ece(p, y, n, weights="equal"),
    "equal_weights_all": lambda p, y, n: _ece(p, y, n, weights="all"),
    "true_class_prob": lambda p, y, n: _ece(p, y, n, confidence=_true_class(p, y)),
    "accuracy_mixup": lambda p, y, n: _ece(p, y, n, accuracy=_true_class(p, y)),
    "signed": lambda p, y, n: _ece(p, y, n, signed=True).abs(),
    "signed_raw": lambda p, y, n: _ece(p, y, n, signed=True),
    "left_closed": lambda p, y, n: _ece(p, y, n, bins=_left),
    "edge_dropped": lambda p, y, n: _ece(p, y, n, bins=_floor),
    "edge_twice": lambda p, y, n: _ece(p, y, n, bins=_inclusive),
    "range": lambda p, y, n: _ece(p, y, n, bins=lambda c, m: _right(c, m, float(c.min()), float(c.max()))),
    "off_by_one": lambda p, y, n: _ece(p, y, n - 1) if n > 1 else _ece(p, y, n + 1),
}
_MORE_LOOKALIKES: dict[str, Callable] = {
    "edge_dropped": lambda p, y, n: _ece(p, y, n, bins=_strict),
    "off_by_one": lambda p, y, n: _ece(p, y, n + 1),
}


def _diagnose(p: torch.Tensor, y: torch.Tensor, n: int) -> Callable[[torch.Tensor], tuple[str, str]]:
    def diagnose(got: torch.Tensor) -> tuple[str, str]:
        got = got.reshape(()) if got.numel() == 1 else got
        for key, lookalike in [*_LOOKALIKES.items(), *_MORE_LOOKALIKES.items()]:
            if close(got, lookalike(p, y, n), rtol=1e-4, atol=1e-7):
                return key, HINTS[key]
        return "", ""

    return diagnose


def _judge(fn: Callable, name: str, p: torch.Tensor, y: torch.Tensor, n: int) -> None:
    got = as_tensor(call(fn, name, p, y, n), name, "one number (the ECE)")
    expect_close(name, got.reshape(()) if got.numel() == 1 else got, _reference(p, y, n), _diagnose(p, y, n),
                 rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------- cases


def _away_from_edges(seed: int, n: int = 400, k: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictions over-confident on some examples and under-confident on others (labels drawn from softmax(z / 2)
    for half of the examples, softmax(2 z) for the other half), confidences kept off every edge of 5, 10, 15 bins."""
    g = torch.Generator().manual_seed(seed)
    z = 2.5 * torch.randn(n, k, generator=g, dtype=torch.float64)
    probs = torch.softmax(z, -1)
    sharpness = torch.where(torch.arange(n) % 2 == 0, 0.5, 2.0).double()[:, None]
    targets = torch.multinomial(torch.softmax(z * sharpness, -1), 1, generator=g)[:, 0]
    conf = probs.max(-1).values
    edges = torch.cat([torch.arange(1, nb) / nb for nb in (5, 10, 15)]).double()
    far = (conf[:, None] - edges[None, :]).abs().min(-1).values > 1e-6
    return probs[far], targets[far]


def _rows(confidences: list[float], right: list[bool], k: int = 5, shift: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """One prediction per confidence c (c on one class, (1 − c)/(k − 1) on the others, the class rotating), labelled
    right or wrong. Dyadic c (0.25, 0.5, 0.75, 1.0) are exact in floating point: they sit exactly on bin edges."""
    probs, targets = [], []
    for i, (c, ok) in enumerate(zip(confidences, right)):
        row = torch.full((k,), (1.0 - c) / (k - 1), dtype=torch.float64)
        top = (i + shift) % k
        row[top] = c
        probs.append(row)
        targets.append(top if ok else (top + 1) % k)
    return torch.stack(probs), torch.tensor(targets)


def _on_edges(repeat: int, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    confidences = [1.0, 1.0, 0.75, 0.5, 0.25, 1.0, 0.75, 0.5, 0.3, 0.4, 0.6, 0.9, 0.95, 0.35, 0.7][:repeat]
    right = [True, False, True, False, True, True, True, False, False, True, True, False, True, True, False][:repeat]
    return _rows(confidences, right, k)


def _random_with_edges(seed: int, n: int, n_bins: int, k: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Random predictions mixed with exactly one-hot ones, ones at 1 − 1e-12, and ones exactly on the edges of
    ``n_bins`` bins (a power of 2, so the edges are exact)."""
    g = torch.Generator().manual_seed(seed)
    scale = 10.0 ** (2.0 * torch.rand(n, 1, generator=g, dtype=torch.float64) - 0.5)
    probs = torch.softmax(scale * torch.randn(n, k, generator=g, dtype=torch.float64), -1)
    targets = torch.multinomial(torch.softmax(torch.log(probs) / 1.5, -1), 1, generator=g)[:, 0]
    edges = [b / n_bins for b in range(1, n_bins + 1) if b / n_bins > 1.0 / k]
    special = [1.0, 1.0 - 1e-12, *edges, *edges]
    right = [bool(v) for v in (torch.rand(len(special), generator=g) < 0.7)]
    extra_p, extra_y = _rows(special, right, k, shift=seed)
    return torch.cat([probs, extra_p]), torch.cat([targets, extra_y])


def _case(name: str, make: Callable[[], tuple], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, *make()), points)


def visible_cases() -> list[Case]:
    cases = []
    for seed, n_bins in ((4, 10), (5, 5), (6, 15)):
        cases.append(_case(f"{len(_away_from_edges(seed)[1])} predictions, K = 4, n_bins = {n_bins}",
                           lambda seed=seed, n_bins=n_bins: (*_away_from_edges(seed), n_bins)))
    cases.append(_case("12 predictions with confidences exactly on the bin edges (0.25, 0.5, 0.75) and exactly 1.0, "
                       "n_bins = 4", lambda: (*_on_edges(12), 4)))
    cases.append(_case("a seeded random batch of 300 predictions with one-hot ones, confidences 1 − 1e-12 and "
                       "confidences on the edges, n_bins = 8", lambda: (*_random_with_edges(7, 300, 8), 8)))
    return cases


def check_expected_calibration_error(fn: Callable) -> bool:
    """Check ``fn(probs, targets, n_bins) -> ECE`` (equal-width bins (b/n, (b+1)/n] of the max-probability, weighted by
    count); print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def my_expected_calibration_error(probs, targets, n_bins):
    """Σ_bins (count / N) · |accuracy − mean confidence| over equal-width bins (b/n, (b+1)/n] of max-probability."""
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


def _hidden_cases() -> list[Case]:
    return [
        _case("random predictions, n_bins = 10", lambda: (*_away_from_edges(301), 10), 1.0),
        _case("random predictions, n_bins = 3", lambda: (*_away_from_edges(302, 300, 3), 3), 1.0),
        _case("edge confidences, n_bins = 4", lambda: (*_on_edges(15), 4), 2.0),
        _case("edge confidences and one-hot predictions, n_bins = 16", lambda: (*_random_with_edges(303, 200, 16), 16), 1.0),
        _case("one bin", lambda: (*_random_with_edges(304, 100, 2), 1), 1.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    def loop(probs, targets, n_bins, *, in_bin, weight="count", confidence=None, accuracy=None, signed=False):
        conf, pred = probs.max(dim=-1)
        conf = conf if confidence is None else confidence(probs, targets)
        correct = (pred == targets).double() if accuracy is None else accuracy(probs, targets)
        gaps, counts = [], []
        for b in range(n_bins):
            mask = in_bin(conf, b, n_bins)
            if mask.sum() > 0:
                gap = correct[mask].mean() - conf[mask].mean()
                gaps.append(gap if signed else gap.abs())
                counts.append(mask.sum())
        gaps, counts = torch.stack(gaps), torch.stack(counts).double()
        if weight == "equal":
            return gaps.mean().item()
        if weight == "all":
            return (gaps.sum() / n_bins).item()
        total = (gaps * counts / len(conf)).sum()
        return total.abs().item() if signed else total.item()

    def right(conf, b, n):
        return (conf > b / n) & (conf <= (b + 1) / n) if b > 0 else conf <= (b + 1) / n

    def true_class(probs, targets):
        return probs[torch.arange(len(targets)), targets]

    def equal_weights(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=right, weight="equal")

    def divided_by_n_bins(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=right, weight="all")

    def true_class_confidence(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=right, confidence=true_class)

    def probability_as_accuracy(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=right, accuracy=true_class)

    def signed_gaps(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=right, signed=True)

    def without_bins(probs, targets, n_bins):
        return abs((probs.argmax(-1) == targets).double().mean() - probs.max(-1).values.mean()).item()

    def int_of_conf_times_n(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=lambda conf, b, n: (conf * n).long() == b)

    def strict_both_sides(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=lambda conf, b, n: (conf > b / n) & (conf < (b + 1) / n))

    def closed_both_sides(probs, targets, n_bins):
        return loop(probs, targets, n_bins, in_bin=lambda conf, b, n: (conf >= b / n) & (conf <= (b + 1) / n))

    def np_digitize(probs, targets, n_bins):
        conf = probs.max(-1).values.numpy()
        correct = (probs.argmax(-1) == targets).double().numpy()
        which = np.clip(np.digitize(conf, np.linspace(0, 1, n_bins + 1)[1:-1]), 0, n_bins - 1)
        return sum((which == b).mean() * abs(correct[which == b].mean() - conf[which == b].mean())
                   for b in range(n_bins) if (which == b).any())

    def observed_range(probs, targets, n_bins):
        conf = probs.max(-1).values
        edges = torch.linspace(conf.min().item(), conf.max().item(), n_bins + 1)
        return loop(probs, targets, n_bins, in_bin=lambda c, b, n: ((c > edges[b]) | (b == 0)) & (c <= edges[b + 1]))

    def linspace_n_edges(probs, targets, n_bins):
        edges = torch.linspace(0, 1, n_bins)  # n_bins edges: n_bins - 1 bins
        return loop(probs, targets, n_bins - 1,
                    in_bin=lambda c, b, n: ((c > edges[b]) | (b == 0)) & (c <= edges[b + 1])) if n_bins > 1 else \
            loop(probs, targets, 2, in_bin=right)

    def wraps_the_kit(probs, targets, n_bins):
        import helpers

        return helpers.expected_calibration_error(torch.log(probs.clamp_min(1e-30)), targets, n_bins)

    def uses_the_kits_bins(probs, targets, n_bins):
        from helpers.maths.metrics import reliability_bins

        bins = reliability_bins(torch.log(probs.clamp_min(1e-30)), targets, n_bins)
        weight = bins["count"] / bins["count"].sum()
        return float((weight * (bins["accuracy"] - bins["confidence"]).abs().nan_to_num(0.0)).sum())

    return {
        "bins weighted equally": (equal_weights, "equal_weights"),
        "gaps summed and divided by n_bins": (divided_by_n_bins, "equal_weights_all"),
        "true-class probability as confidence": (true_class_confidence, "true_class_prob"),
        "probability of the label as accuracy": (probability_as_accuracy, "accuracy_mixup"),
        "signed gaps": (signed_gaps, "signed"),
        "one gap, no bins": (without_bins, "signed"),
        "int(conf * n) drops confidence 1.0": (int_of_conf_times_n, "edge_dropped"),
        "strict < on both sides": (strict_both_sides, "edge_dropped"),
        "<= on both sides": (closed_both_sides, "edge_twice"),
        "np.digitize (closed on the left)": (np_digitize, "left_closed"),
        "bins over [min, max] of the confidences": (observed_range, "range"),
        "linspace(0, 1, n_bins) edges": (linspace_n_edges, "off_by_one"),
        "wraps the kit's expected_calibration_error": (wraps_the_kit, "kit_wrapper"),
        "uses the kit's reliability_bins": (uses_the_kits_bins, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=my_expected_calibration_error, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="expected_calibration_error", notebook="04", function="my_expected_calibration_error",
                    check=check_expected_calibration_error, mistakes=MISTAKES, cases=visible_cases,
                    instructor=INSTRUCTOR)
