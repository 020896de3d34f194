"""Notebook 06: ``paired_interval(method_values, erm_values)`` -> ``(mean, low, high)`` of the per-seed differences
``method − ERM`` (same seed in the same position) with its two-sided 95% t-interval,
``mean ± t_{0.975, n−1} · sd / sqrt(n)``, sd with ``n − 1``."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from helpers.teaching.exercises.checking import Case, Exercise, Instructor, Wrong, as_tensor, call, close, fmt, report

MISTAKES = {
    "unpaired": "compared the two groups' means instead of the per-seed differences",
    "normal": "used the normal 1.96 instead of Student's t",
    "one_sided": "used the one-sided t quantile (0.95 instead of 0.975)",
    "df": "t with n degrees of freedom instead of n - 1",
    "ddof0": "standard deviation with n instead of n - 1",
    "no_sqrt_n": "divided by n instead of sqrt(n) or not at all",
    "variance": "used the variance instead of the standard deviation",
    "reversed": "erm - method instead of method - erm",
    "unstable": "numerically unstable variance (mean of squares minus square of the mean)",
}
HINTS = {
    "unpaired": "Pair by seed: d_i = method_i − erm_i, then an interval for mean(d). The seeds' shared noise cancels.",
    "normal": "With n seeds the multiplier is Student's t with n − 1 degrees of freedom: scipy.stats.t.ppf(0.975, n - 1).",
    "one_sided": "A two-sided 95% interval leaves 2.5% in each tail: the 0.975 quantile.",
    "df": "The t quantile has n − 1 degrees of freedom: scipy.stats.t.ppf(0.975, n - 1).",
    "ddof0": "The sample standard deviation divides by n − 1: np.std(d, ddof=1).",
    "no_sqrt_n": "The standard error of a mean is sd / sqrt(n).",
    "variance": "sd = sqrt(variance): np.std(d, ddof=1), not np.var.",
    "reversed": "The kit's convention is method − ERM: a negative mean means the method lowered the metric.",
    "unstable": ("E[d²] − E[d]² cancels catastrophically when the differences share a large offset: use np.std(d, "
                 "ddof=1), which subtracts the mean first."),
}


def _interval(center: float, half: float) -> torch.Tensor:
    return torch.tensor([center, center - half, center + half], dtype=torch.float64)


def _t(q: float, df: float) -> float:
    from scipy import stats

    return float(stats.t.ppf(q, df))


def _reference(method, erm) -> torch.Tensor:
    d = np.asarray(method, dtype=float) - np.asarray(erm, dtype=float)
    return _interval(float(d.mean()), _t(0.975, d.size - 1) * float(d.std(ddof=1)) / math.sqrt(d.size))


def _unpaired(m, e) -> torch.Tensor:
    m, e = np.asarray(m, float), np.asarray(e, float)
    se = math.sqrt(m.var(ddof=1) / m.size + e.var(ddof=1) / e.size)
    return _interval(m.mean() - e.mean(), _t(0.975, m.size - 1) * se)


def _scaled(quantile=None, spread=None, root: str = "sqrt", sign: float = 1.0) -> Callable:
    def lookalike(m, e):
        d = sign * (np.asarray(m, float) - np.asarray(e, float))
        n = d.size
        q = _t(0.975, n - 1) if quantile is None else quantile(n)
        s = float(d.std(ddof=1)) if spread is None else spread(d)
        return _interval(float(d.mean()), q * s / {"sqrt": math.sqrt(n), "n": n, "none": 1.0}[root])
    return lookalike


def _naive_sd(d: np.ndarray) -> float:
    n = d.size
    return math.sqrt(max((d**2).mean() - d.mean() ** 2, 0.0) * n / (n - 1))


_LOOKALIKES: dict[str, Callable] = {  # wrong answers the self-check recognises by value
    "unpaired": _unpaired,
    "normal": _scaled(quantile=lambda n: 1.959964),
    "one_sided": _scaled(quantile=lambda n: _t(0.95, n - 1)),
    "df": _scaled(quantile=lambda n: _t(0.975, n)),
    "ddof0": _scaled(spread=lambda d: float(d.std(ddof=0))),
    "variance": _scaled(spread=lambda d: float(d.var(ddof=1))),
    "reversed": _scaled(sign=-1.0),
}
_MORE_LOOKALIKES: dict[str, Callable] = {
    "no_sqrt_n": _scaled(root="n"),
    "unstable": _scaled(spread=_naive_sd),
}


def _matches(got: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4) -> bool:
    """The mean within 1e-9 relative, and both half-widths within ``rtol`` relative (an interval around a large offset
    is judged on its width, not on its ends' many shared digits)."""
    if got.shape != (3,) or not torch.isfinite(got).all():
        return False
    mean, half_low, half_high = got[0], got[0] - got[1], got[2] - got[0]
    true_half = expected[2] - expected[0]
    return (close(mean, expected[0], rtol=1e-9, atol=1e-12) and close(half_low, true_half, rtol=rtol, atol=1e-12)
            and close(half_high, true_half, rtol=rtol, atol=1e-12))


def _judge(fn: Callable, name: str, method: list[float], erm: list[float]) -> None:
    got = as_tensor(call(fn, name, method, erm), name, "a tuple (mean, low, high)")
    expected = _reference(method, erm)
    if _matches(got.reshape(-1) if got.numel() == 3 else got, expected):
        return
    key = ""
    for candidate, lookalike in [*_LOOKALIKES.items(), *_MORE_LOOKALIKES.items()]:
        if got.numel() == 3 and _matches(got.reshape(-1), lookalike(method, erm), rtol=1e-3):
            key = candidate
            break
    if not key and got.numel() == 3 and _matches(got.reshape(-1), _scaled(root="none")(method, erm), rtol=1e-3):
        key = "no_sqrt_n"
    d = np.asarray(method, float) - np.asarray(erm, float)
    if not key and not torch.isfinite(got).all() and (d**2).mean() - d.mean() ** 2 < 0:
        key = "unstable"  # the square root of a variance that cancelled below 0
    raise Wrong(f"case '{name}': expected (mean, low, high) = {fmt(expected)}, got {fmt(got)}.", key, HINTS.get(key, ""),
                redacted=f"case '{name}': wrong (mean, low, high).")


def _random(seed: int, n: int) -> tuple[list[float], list[float]]:
    """Per-seed values whose seeds differ a lot (shared noise) and whose differences differ little."""
    g = np.random.default_rng(seed)
    shared = g.normal(0.4, 0.2, n)
    return list(shared + g.normal(-0.03, 0.01, n)), list(shared + g.normal(0.0, 0.01, n))


def _case(name: str, method: list[float], erm: list[float], points: float = 0.0) -> Case:
    return Case(name, lambda fn: _judge(fn, name, list(method), list(erm)), points)


def visible_cases() -> list[Case]:
    offset = [1000.0 + x for x in (3e-7, -2e-7, 5e-7, 1e-7, -4e-7, 2e-7)]
    return [
        _case("3 seeds: KD entropies [0.21, 0.18, 0.25] against ERM [0.30, 0.26, 0.33]",
              [0.21, 0.18, 0.25], [0.30, 0.26, 0.33]),
        _case("5 seeds where the seeds differ a lot but the differences little",
              [0.50, 0.31, 0.72, 0.44, 0.29], [0.40, 0.20, 0.63, 0.33, 0.20]),
        _case("8 seeds with a difference of about 0", [0.3, 0.31, 0.29, 0.3, 0.32, 0.28, 0.3, 0.31],
              [0.3, 0.30, 0.30, 0.31, 0.31, 0.29, 0.29, 0.3]),
        _case("2 seeds (1 degree of freedom)", [0.52, 0.47], [0.40, 0.41]),
        _case("6 seeds whose differences share a large offset (1000 + tiny spread)", offset, [0.0] * 6),
        _case("a seeded random set of 12 seeds", *_random(13, 12)),
    ]


def check_paired_interval(fn: Callable) -> bool:
    """Check ``fn(method_values, erm_values) -> (mean, low, high)``: the 95% t-interval of the per-seed differences
    ``method − ERM``, ``mean ± t_{0.975, n−1} · sd / sqrt(n)``, sd with n − 1. Print the verdict."""
    return report(EXERCISE, fn)


INSTRUCTOR = None
# BEGIN INSTRUCTOR


def paired_interval(method_values, erm_values):
    from scipy import stats

    d = np.asarray(method_values, dtype=float) - np.asarray(erm_values, dtype=float)  # pair by seed: method − ERM
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)  # t with n − 1 df, sd with n − 1
    return d.mean(), d.mean() - half, d.mean() + half


def _hidden_cases() -> list[Case]:
    return [
        _case("4 seeds", [0.61, 0.55, 0.70, 0.58], [0.52, 0.50, 0.60, 0.51], 1.0),
        _case("2 seeds", [1.10, 0.95], [1.00, 0.97], 1.0),
        _case("a large offset", [500.0 + x for x in (1e-6, -3e-6, 2e-6, 0.0, 4e-6)], [0.0] * 5, 1.0),
        _case("a random set", *_random(2028, 20), 1.0),
        _case("a random set, reversed effect", *reversed(_random(2029, 7)), 1.0),
    ]


def _wrong_catalogue() -> dict[str, tuple[Callable, str]]:
    from scipy import stats

    def interval(d, q, s, root=True):
        half = q * s / (np.sqrt(d.size) if root else d.size)
        return d.mean(), d.mean() - half, d.mean() + half

    def differences(method_values, erm_values):
        return np.asarray(method_values, dtype=float) - np.asarray(erm_values, dtype=float)

    def unpaired(method_values, erm_values):
        m, e = np.asarray(method_values, float), np.asarray(erm_values, float)
        half = stats.t.ppf(0.975, m.size - 1) * np.sqrt(m.var(ddof=1) / m.size + e.var(ddof=1) / e.size)
        return m.mean() - e.mean(), m.mean() - e.mean() - half, m.mean() - e.mean() + half

    def normal(method_values, erm_values):
        d = differences(method_values, erm_values)
        return interval(d, 1.96, d.std(ddof=1))

    def one_sided(method_values, erm_values):
        d = differences(method_values, erm_values)
        return interval(d, stats.t.ppf(0.95, d.size - 1), d.std(ddof=1))

    def n_degrees(method_values, erm_values):
        d = differences(method_values, erm_values)
        return interval(d, stats.t.ppf(0.975, d.size), d.std(ddof=1))

    def ddof0(method_values, erm_values):
        d = differences(method_values, erm_values)
        return interval(d, stats.t.ppf(0.975, d.size - 1), d.std())

    def divides_by_n(method_values, erm_values):
        d = differences(method_values, erm_values)
        return interval(d, stats.t.ppf(0.975, d.size - 1), d.std(ddof=1), root=False)

    def no_standard_error(method_values, erm_values):
        d = differences(method_values, erm_values)
        half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1)
        return d.mean(), d.mean() - half, d.mean() + half

    def variance(method_values, erm_values):
        d = differences(method_values, erm_values)
        return interval(d, stats.t.ppf(0.975, d.size - 1), d.var(ddof=1))

    def reversed_sign(method_values, erm_values):
        d = np.asarray(erm_values, dtype=float) - np.asarray(method_values, dtype=float)
        return interval(d, stats.t.ppf(0.975, d.size - 1), d.std(ddof=1))

    def mean_of_squares(method_values, erm_values):
        d = differences(method_values, erm_values)
        sd = np.sqrt(((d**2).mean() - d.mean() ** 2) * d.size / (d.size - 1))
        return interval(d, stats.t.ppf(0.975, d.size - 1), sd)

    def wraps_the_kit(method_values, erm_values):
        from helpers import mean_ci

        ci = mean_ci(np.asarray(method_values) - np.asarray(erm_values))
        return ci.mean, ci.low, ci.high

    def uses_the_kits_quantile(method_values, erm_values):
        from helpers.maths import statistics

        d = differences(method_values, erm_values)
        return interval(d, statistics.t_quantile(0.975, d.size - 1), d.std(ddof=1))

    return {
        "group means, not per-seed differences": (unpaired, "unpaired"),
        "normal 1.96": (normal, "normal"),
        "one-sided quantile": (one_sided, "one_sided"),
        "n degrees of freedom": (n_degrees, "df"),
        "np.std without ddof=1": (ddof0, "ddof0"),
        "divides by n": (divides_by_n, "no_sqrt_n"),
        "no standard error": (no_standard_error, "no_sqrt_n"),
        "the variance as the spread": (variance, "variance"),
        "erm - method": (reversed_sign, "reversed"),
        "E[d^2] - E[d]^2": (mean_of_squares, "unstable"),
        "wraps the kit's mean_ci": (wraps_the_kit, "kit_wrapper"),
        "uses the kit's t_quantile": (uses_the_kits_quantile, "kit_wrapper"),
    }


INSTRUCTOR = Instructor(solution=paired_interval, hidden=_hidden_cases, wrong=_wrong_catalogue())
# END INSTRUCTOR

EXERCISE = Exercise(name="paired_interval", notebook="06", function="paired_interval", check=check_paired_interval,
                    mistakes=MISTAKES, cases=visible_cases, instructor=INSTRUCTOR)
