"""Statistics over seeds: means with 95% t-intervals, paired differences, directions, a family correction, line fits.

Conventions
-----------
* A result frame has one row per run in the kit's ``results.csv`` schema (``helpers.learning.results``); runs that
  differ only in ``seed`` form a *group* (:data:`GROUP_COLUMNS`; groups never mix tiers). Its mean comes with a
  two-sided 95% **t-interval over seeds** ``mean ± t_{0.975, n-1} · sd / sqrt(n)`` (``sd`` with ``n-1``).
* A *paired difference* is ``metric(method run) − metric(ERM run)`` for the same tier, task, student and seed
  (same data order and initialisation); the spread of those differences, not of the raw values, sets the interval.
* A direction (:func:`direction`) is read from the interval *and* the point estimate against a negligible band
  ``±negligible`` (entropy: :data:`NEGLIGIBLE_ENTROPY` nats): ``up``/``down`` — the interval excludes 0 and the
  mean is at least the band; ``up-small``/``down-small`` — the interval excludes 0 but the mean is inside the band
  (real, practically negligible); ``negligible`` — the whole interval inside the band (an equivalence claim, TOST
  logic); ``unclear`` — otherwise. One seed gives no interval: ``up?``/``down?`` (a sign, untested).
* Many verdicts at 95% each: the family is read with **Holm's** step-down correction of the paired t-tests'
  p-values (:func:`holm`).
* Entropies are in nats. Correlations are Pearson's r with a Fisher-z interval.

The sentences that report these numbers live in ``helpers.reporting.verdicts``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "GROUP_COLUMNS",
    "METRICS",
    "NEGLIGIBLE_ENTROPY",
    "DIRECTIONS",
    "t_cdf",
    "t_quantile",
    "MeanCI",
    "mean_ci",
    "format_ci",
    "check_columns",
    "seed_summary",
    "paired_differences",
    "paired_t_pvalue",
    "direction",
    "difference_summary",
    "holm",
    "LineFit",
    "fit_line",
]

NEGLIGIBLE_ENTROPY = 0.01  # nats: a change smaller than this is too small to matter (a constant of the kit, not fitted)
DIRECTIONS = ("up", "down", "up-small", "down-small", "negligible", "unclear", "up?", "down?")

GROUP_COLUMNS = ["tier", "task", "student", "teacher", "method", "alpha", "temperature"]  # tiers never mix
METRICS = ["accuracy", "entropy", "max_prob", "nll", "ece"]


# --------------------------------------------------------------------------------------------
# Student's t distribution (SciPy), with the kit's argument checks
# --------------------------------------------------------------------------------------------


def _check_df(df: float) -> float:
    try:
        value = float(df)
    except (TypeError, ValueError):
        raise ValueError(f"df must be a number > 0, got df={df!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"df must be finite and > 0, got df={df!r}")
    return value


def t_cdf(x: float, df: float) -> float:
    """CDF of Student's t distribution with ``df`` degrees of freedom at ``x``."""
    df = _check_df(df)
    if math.isnan(x):
        raise ValueError("x must not be NaN")
    return float(stats.t.cdf(x, df))


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t (e.g. ``t_quantile(0.975, 4) ≈ 2.776``)."""
    df = _check_df(df)
    if not (isinstance(q, (int, float, np.floating)) and 0.0 < float(q) < 1.0):
        raise ValueError(f"q must be a probability in (0, 1), got q={q!r}")
    return float(stats.t.ppf(q, df))


# --------------------------------------------------------------------------------------------
# Means and intervals over seeds
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanCI:
    """A mean over ``n`` values with its two-sided t-interval ``[low, high]`` (half-width ``half``)."""

    mean: float
    low: float
    high: float
    half: float
    n: int
    sd: float

    def __str__(self) -> str:
        return format_ci(self.mean, self.half)


def mean_ci(values: Iterable[float], level: float = 0.95) -> MeanCI:
    """Mean and t-interval of ``values`` (NaNs dropped). One value: the interval is NaN (unknown)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got level={level!r}")
    array = np.asarray(list(values), dtype=float)
    array = array[~np.isnan(array)]
    n = int(array.size)
    if n == 0:
        raise ValueError("values is empty (no non-NaN values)")
    mean = float(array.mean())
    if n == 1:
        return MeanCI(mean, math.nan, math.nan, math.nan, 1, math.nan)
    sd = float(array.std(ddof=1))
    half = t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n)
    return MeanCI(mean, mean - half, mean + half, half, n, sd)


def format_ci(mean: float, half: float, digits: int = 3) -> str:
    """``'0.297 ± 0.012'``; a NaN half-width (one seed) prints the mean alone."""
    if half is None or (isinstance(half, float) and math.isnan(half)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {half:.{digits}f}"


def check_columns(frame: pd.DataFrame, columns: Sequence[str], name: str = "frame") -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")


def _group_keys(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Group columns as strings (NaN/empty temperature and teacher become '')."""
    keys = frame[list(by)].copy()
    for column in by:
        keys[column] = keys[column].map(lambda v: "" if (v is None or (isinstance(v, float) and math.isnan(v))) else v)
    return keys


def seed_summary(frame: pd.DataFrame, by: Sequence[str] | None = None, metrics: Sequence[str] | None = None,
                 level: float = 0.95) -> pd.DataFrame:
    """One row per group: ``n`` and, per metric, ``<metric>``, ``<metric>_low``, ``<metric>_high``, ``<metric>_ci``.

    ``<metric>_ci`` is the half-width of the t-interval over seeds (NaN with one seed).
    """
    by = list(by or GROUP_COLUMNS)
    metrics = list(metrics or [m for m in METRICS if m in frame.columns])
    check_columns(frame, by + metrics)
    if frame.empty:
        raise ValueError("frame is empty")
    keyed = pd.concat([_group_keys(frame, by), frame[metrics]], axis=1)
    rows = []
    for key, group in keyed.groupby(by, sort=False, dropna=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row["n"] = len(group)
        for metric in metrics:
            ci = mean_ci(group[metric], level)
            row.update({metric: ci.mean, f"{metric}_low": ci.low, f"{metric}_high": ci.high, f"{metric}_ci": ci.half})
        rows.append(row)
    return pd.DataFrame(rows)


def paired_differences(frame: pd.DataFrame, metric: str = "entropy", baseline: str | Mapping[str, Any] = "erm",
                       pair_on: Sequence[str] = ("tier", "task", "student", "seed")) -> pd.DataFrame:
    """Per-seed ``metric(run) − metric(baseline run)`` of the same task, student and seed.

    ``baseline`` is a method name (default ERM) or a mapping ``{column: value}`` selecting the
    baseline runs (e.g. ``{"method": "kd", "teacher": "L6-head"}``). Returns the non-baseline
    rows with columns ``GROUP_COLUMNS + ['seed', 'value', 'baseline_value', 'difference']``.
    Rows without a baseline partner are dropped. Raises ValueError on duplicate baseline runs.
    """
    pair_on = list(pair_on)
    check_columns(frame, list(dict.fromkeys(GROUP_COLUMNS + pair_on + [metric])))
    keyed = pd.concat([_group_keys(frame, GROUP_COLUMNS), frame[[c for c in pair_on if c not in GROUP_COLUMNS] + [metric]]], axis=1)
    selector = {"method": baseline} if isinstance(baseline, str) else dict(baseline)
    check_columns(keyed, list(selector), "frame")
    is_base = np.logical_and.reduce([keyed[c] == v for c, v in selector.items()]) if selector else np.zeros(len(keyed), bool)
    base = keyed[is_base]
    if base.empty:
        raise ValueError(f"no baseline runs match {selector}")
    if base.duplicated(pair_on).any():
        duplicate = base[base.duplicated(pair_on, keep=False)].iloc[0]
        raise ValueError(f"several {baseline!r} runs for {dict(duplicate[pair_on])}: pass one baseline run per {pair_on}")
    base = base[pair_on + [metric]].rename(columns={metric: "baseline_value"})
    others = keyed[~is_base].rename(columns={metric: "value"})
    merged = others.merge(base, on=pair_on, how="inner")
    merged["difference"] = merged["value"] - merged["baseline_value"]
    return merged[GROUP_COLUMNS + [c for c in pair_on if c not in GROUP_COLUMNS] + ["value", "baseline_value", "difference"]]


def paired_t_pvalue(differences: Iterable[float]) -> float:
    """Two-sided p-value of the one-sample t-test of ``mean(differences) = 0`` (NaN below two values; 0 when every
    difference is the same non-zero number)."""
    values = np.asarray(list(differences), dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return math.nan
    sd = float(values.std(ddof=1))
    if sd == 0.0:
        return 1.0 if float(values.mean()) == 0.0 else 0.0
    t = float(values.mean()) / (sd / math.sqrt(values.size))
    return float(2.0 * stats.t.sf(abs(t), values.size - 1))


def direction(low: float, high: float, negligible: float = 0.0, mean: float | None = None) -> str:
    """The direction an interval ``[low, high]`` (with point estimate ``mean``, default its centre) supports.

    ``'negligible'`` when the whole interval lies inside ``(-negligible, negligible)``; ``'down'`` / ``'up'`` when it
    excludes 0 and ``|mean| >= negligible``; ``'down-small'`` / ``'up-small'`` when it excludes 0 but the mean is
    inside the band (real but practically negligible); ``'unclear'`` otherwise (also for NaN).
    """
    if negligible < 0:
        raise ValueError(f"negligible must be >= 0, got negligible={negligible!r}")
    if math.isnan(low) or math.isnan(high):
        return "unclear"
    if low > high:
        raise ValueError(f"low must not exceed high, got [{low}, {high}]")
    mean = (low + high) / 2.0 if mean is None else float(mean)
    if negligible > 0 and max(abs(low), abs(high)) < negligible:
        return "negligible"
    if high < 0:
        return "down" if -mean >= negligible else "down-small"
    if low > 0:
        return "up" if mean >= negligible else "up-small"
    return "unclear"


def holm(p_values: Sequence[float], level: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down correction: ``(adjusted p-values, rejected at level)``, NaN p-values left out (NaN, False).

    Sort the m p-values; the k-th smallest (k = 1..m) is compared with ``level / (m − k + 1)``; testing stops at
    the first that is not below it. Adjusted p-values: ``max_{j ≤ k} min(1, (m − j + 1) · p_(j))``.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(~np.isnan(p))
    m = finite.size
    if m:
        order = finite[np.argsort(p[finite], kind="stable")]
        running = 0.0
        for rank, index in enumerate(order):
            running = max(running, min(1.0, (m - rank) * p[index]))
            adjusted[index] = running
    rejected = np.where(np.isnan(adjusted), False, adjusted < level)
    return adjusted, rejected


def difference_summary(differences: pd.DataFrame, level: float = 0.95, negligible: float = 0.0) -> pd.DataFrame:
    """Per group: mean paired difference, its t-interval, ``n``, the paired t-test's ``p`` and the ``direction``
    it supports (:func:`direction`; one seed: ``'up?'``/``'down?'``)."""
    check_columns(differences, GROUP_COLUMNS + ["difference"], "differences")
    rows = []
    for key, group in differences.groupby(GROUP_COLUMNS, sort=False, dropna=False):
        ci = mean_ci(group["difference"], level)
        if ci.n == 1:  # no interval: report the sign of the single difference, flagged with '?'
            moved = "up?" if ci.mean > 0 else "down?" if ci.mean < 0 else "unclear"
        else:
            moved = direction(ci.low, ci.high, negligible, ci.mean)
        rows.append({**dict(zip(GROUP_COLUMNS, key)), "n": ci.n, "difference": ci.mean, "low": ci.low,
                     "high": ci.high, "ci": ci.half, "p": paired_t_pvalue(group["difference"]), "direction": moved,
                     "baseline": float(group["baseline_value"].mean()), "value": float(group["value"].mean())})
    return pd.DataFrame(rows, columns=GROUP_COLUMNS + ["n", "difference", "low", "high", "ci", "p", "direction",
                                                       "baseline", "value"])


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope·x + intercept`` with Pearson's r and 95% intervals."""

    slope: float
    intercept: float
    r: float
    r_low: float
    r_high: float
    slope_low: float
    slope_high: float
    n: int

    def predict(self, x):
        return self.slope * np.asarray(x, dtype=float) + self.intercept

    def crossing(self, y: float) -> float:
        """The ``x`` where the line reaches ``y`` (NaN for a flat line)."""
        return (y - self.intercept) / self.slope if self.slope != 0 else math.nan


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
    return LineFit(slope, intercept, r, r_low, r_high, slope - slope_half, slope + slope_half, n)
