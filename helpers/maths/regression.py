"""Lines through teacher means: least squares with its intervals, the band of the mean response, a crossing's
Fieller interval and leave-one-out slopes.

Conventions: 95% two-sided intervals from Student's t on ``n − 2`` degrees of freedom (``n`` points); Pearson's r with
a Fisher-z interval. A crossing ``x* = (y0 − a) / b`` is a ratio: its interval is Fieller's, unbounded when the slope's
interval contains 0. The sentences about these numbers live in ``helpers.reporting``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats

from helpers.maths.statistics import t_quantile

__all__ = ["LineFit", "CrossingCI", "fit_line", "leave_one_out_slopes"]


@dataclass(frozen=True)
class CrossingCI:
    """Where a fitted line meets a level ``y0``: the point ``x* = (y0 − intercept) / slope`` and its Fieller interval.

    ``bounded`` is False when the slope's interval contains 0: the interval is then unbounded (``low``/``high`` are
    ``-inf``/``inf``) and no crossover can be located.
    """

    point: float
    low: float
    high: float
    bounded: bool

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope·x + intercept`` with Pearson's r and 95% intervals.

    ``x_mean``, ``sxx`` (sum of squared deviations of x) and ``residual_sd`` (on ``n − 2`` degrees of freedom) give
    the band of the mean response and the Fieller interval of a crossing; ``level`` is their coverage.
    """

    slope: float
    intercept: float
    r: float
    r_low: float
    r_high: float
    slope_low: float
    slope_high: float
    n: int
    x_mean: float = math.nan
    sxx: float = math.nan
    residual_sd: float = math.nan
    level: float = 0.95

    def predict(self, x):
        return self.slope * np.asarray(x, dtype=float) + self.intercept

    def crossing(self, y: float) -> float:
        """The ``x`` where the line reaches ``y`` (NaN for a flat line)."""
        return (y - self.intercept) / self.slope if self.slope != 0 else math.nan

    def _t(self) -> float:
        return t_quantile(0.5 + self.level / 2.0, self.n - 2)

    def band(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The pointwise t-band of the mean response at ``x``: ``ŷ ± t_{n−2} · s · sqrt(1/n + (x − x̄)² / Sxx)``."""
        x = np.asarray(x, dtype=float)
        half = self._t() * self.residual_sd * np.sqrt(1.0 / self.n + (x - self.x_mean) ** 2 / self.sxx)
        return self.predict(x) - half, self.predict(x) + half

    def crossing_interval(self, y0: float, y0_se: float = 0.0) -> CrossingCI:
        """Fieller's interval for the ``x`` where the line meets ``y0`` (itself a mean with standard error ``y0_se``,
        e.g. the ERM students' mean entropy): the ``x`` with ``(y0 − a − b·x)² ≤ t² · Var(y0 − a − b·x)``, ``t`` on
        ``n − 2`` degrees of freedom. Unbounded (``bounded=False``) when ``b² ≤ t² · Var(b)``: the slope's interval
        contains 0."""
        if y0_se < 0 or not math.isfinite(y0):
            raise ValueError(f"y0 must be finite and y0_se >= 0, got y0={y0!r}, y0_se={y0_se!r}")
        s2 = self.residual_sd ** 2
        var_b = s2 / self.sxx
        var_numerator = s2 * (1.0 / self.n + self.x_mean ** 2 / self.sxx) + y0_se ** 2  # Var(y0 − a)
        cov = self.x_mean * s2 / self.sxx  # Cov(y0 − a, b) = −Cov(a, b)
        numerator, t2 = y0 - self.intercept, self._t() ** 2
        point = numerator / self.slope if self.slope != 0 else math.nan
        a = self.slope ** 2 - t2 * var_b
        if a <= 0:
            return CrossingCI(point, -math.inf, math.inf, False)
        b = -2.0 * (numerator * self.slope - t2 * cov)
        c = numerator ** 2 - t2 * var_numerator
        root = math.sqrt(max(b * b - 4.0 * a * c, 0.0))
        return CrossingCI(point, (-b - root) / (2.0 * a), (-b + root) / (2.0 * a), True)


def fit_line(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> LineFit:
    """Ordinary least squares of ``y`` on ``x``; r's interval by Fisher's z, the slope's by the t distribution."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D and of equal length, got shapes {x.shape} and {y.shape}")
    if x.size < 3:
        raise ValueError(f"need at least 3 points to fit a line with an interval, got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("x and y must be finite")
    if np.ptp(x) == 0:
        raise ValueError("x is constant: no line can be fitted")
    n = x.size
    fit = stats.linregress(x, y)  # least squares; stderr is the slope's standard error
    slope, intercept = float(fit.slope), float(fit.intercept)
    r = float(np.clip(fit.rvalue, -1.0, 1.0)) if np.ptp(y) > 0 else 0.0
    slope_half = t_quantile(0.5 + level / 2.0, n - 2) * float(fit.stderr)
    if n > 3 and abs(r) < 1.0:
        interval = stats.pearsonr(x, y).confidence_interval(confidence_level=level)  # Fisher's z
        r_low, r_high = float(interval.low), float(interval.high)
    else:
        r_low = r_high = r if abs(r) == 1.0 else math.nan
    residuals = y - (slope * x + intercept)
    residual_sd = float(math.sqrt(float(residuals @ residuals) / (n - 2)))
    return LineFit(slope, intercept, r, r_low, r_high, slope - slope_half, slope + slope_half, n,
                   float(x.mean()), float(((x - x.mean()) ** 2).sum()), residual_sd, level)


def leave_one_out_slopes(x: Sequence[float], y: Sequence[float], groups: Sequence[Any] | None = None) -> dict[Any, float]:
    """The least-squares slope with each group of points left out (default: each point), keyed by the group left out;
    NaN where fewer than two distinct x remain. With few teachers one point can decide a slope: this shows whether it
    does."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D and of equal length, got shapes {x.shape} and {y.shape}")
    labels = np.asarray(list(groups) if groups is not None else range(x.size), dtype=object)
    if labels.shape != x.shape:
        raise ValueError(f"groups must have one label per point, got {labels.size} for {x.size} points")
    slopes = {}
    for label in dict.fromkeys(labels.tolist()):
        keep = labels != label
        slopes[label] = float(stats.linregress(x[keep], y[keep]).slope) if np.unique(x[keep]).size >= 2 else math.nan
    return slopes
