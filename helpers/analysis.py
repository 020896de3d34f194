"""Statistics over seeds: means with 95% t-intervals, paired differences, verdicts, line fits.

Conventions
-----------
* A result frame has one row per run in the kit's ``results.csv`` schema (``helpers.results``:
  ``tier, task, student, teacher, method, alpha, temperature, seed`` + metrics; groups never mix
  tiers). Runs that differ only in ``seed``
  form a *group*; its mean comes with a two-sided 95% **t-interval over seeds**
  ``mean ± t_{0.975, n-1} · sd / sqrt(n)`` (``sd`` with ``n-1``), written ``mean ± half-width``.
* A *paired difference* is ``metric(method run) − metric(ERM run)`` for the same tier, task,
  student and seed; its interval is the t-interval of those per-seed differences. A direction is
  declared only when the interval excludes 0: ``"down"`` (upper end < 0), ``"up"`` (lower end
  > 0), otherwise ``"unclear"``.
* Entropies are in nats. Correlations are Pearson's r with a Fisher-z interval.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "GROUP_COLUMNS",
    "METRICS",
    "NEGLIGIBLE_ENTROPY",
    "t_cdf",
    "t_quantile",
    "MeanCI",
    "mean_ci",
    "format_ci",
    "seed_summary",
    "paired_differences",
    "difference_summary",
    "direction",
    "kd_setting",
    "model_size",
    "LineFit",
    "fit_line",
    "verdict_table",
    "claim_a_text",
    "inheritance_text",
    "main_table",
]

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


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], name: str = "frame") -> None:
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
    _check_columns(frame, by + metrics)
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
    _check_columns(frame, list(dict.fromkeys(GROUP_COLUMNS + pair_on + [metric])))
    keyed = pd.concat([_group_keys(frame, GROUP_COLUMNS), frame[[c for c in pair_on if c not in GROUP_COLUMNS] + [metric]]], axis=1)
    selector = {"method": baseline} if isinstance(baseline, str) else dict(baseline)
    _check_columns(keyed, list(selector), "frame")
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


def direction(low: float, high: float, negligible: float = 0.0) -> str:
    """``'down'`` if the interval lies below 0, ``'up'`` if above, else ``'unclear'`` (also for NaN).

    With ``negligible > 0``, an interval lying entirely inside ``(-negligible, negligible)`` is
    ``'negligible'``: a real but practically zero change.
    """
    if negligible < 0:
        raise ValueError(f"negligible must be >= 0, got negligible={negligible!r}")
    if math.isnan(low) or math.isnan(high):
        return "unclear"
    if max(abs(low), abs(high)) < negligible:
        return "negligible"
    if high < 0:
        return "down"
    if low > 0:
        return "up"
    return "unclear"


def difference_summary(differences: pd.DataFrame, level: float = 0.95, negligible: float = 0.0) -> pd.DataFrame:
    """Per group: mean paired difference, its t-interval, ``n`` and the ``direction`` it supports."""
    _check_columns(differences, GROUP_COLUMNS + ["difference"], "differences")
    rows = []
    for key, group in differences.groupby(GROUP_COLUMNS, sort=False, dropna=False):
        ci = mean_ci(group["difference"], level)
        if ci.n == 1:  # no interval: report the sign of the single difference, flagged with '?'
            moved = "up?" if ci.mean > 0 else "down?" if ci.mean < 0 else "unclear"
        else:
            moved = direction(ci.low, ci.high, negligible)
        rows.append({**dict(zip(GROUP_COLUMNS, key)), "n": ci.n, "difference": ci.mean, "low": ci.low,
                     "high": ci.high, "ci": ci.half, "direction": moved,
                     "baseline": float(group["baseline_value"].mean()), "value": float(group["value"].mean())})
    return pd.DataFrame(rows, columns=GROUP_COLUMNS + ["n", "difference", "low", "high", "ci", "direction", "baseline", "value"])


# --------------------------------------------------------------------------------------------
# Settings and verdicts
# --------------------------------------------------------------------------------------------

_SIZE = re.compile(r"^L(\d+)")


def model_size(name: str) -> int | None:
    """Number of encoder layers in a model name (``'L2'``, ``'L6-head[ls α=0.1]'`` → 2, 6), else None."""
    match = _SIZE.match(str(name))
    return int(match.group(1)) if match else None


def kd_setting(student: str, teacher: str) -> str:
    """``'standard'`` (bigger teacher), ``'self'`` (same size), ``'reverse'`` (smaller teacher), or ``'other'``."""
    s, t = model_size(student), model_size(teacher)
    if s is None or t is None:
        return "other"
    return "standard" if t > s else "self" if t == s else "reverse"


_WORDS = {"down": "lowered", "up": "raised", "unclear": "did not clearly change", "negligible": "did not change",
          "down?": "lowered (one seed, untested)", "up?": "raised (one seed, untested)"}
NEGLIGIBLE_ENTROPY = 0.01  # nats: a change whose whole interval is smaller than this counts as none


def verdict_table(frame: pd.DataFrame, metric: str = "entropy", level: float = 0.95,
                  negligible: float = NEGLIGIBLE_ENTROPY) -> pd.DataFrame:
    """Paired (method − ERM) differences per group with the KD setting and a plain-words ``statement``.

    Directions as in ``direction`` with the given ``negligible`` band (default 0.01 nats).
    """
    summary = difference_summary(paired_differences(frame, metric), level, negligible)
    summary.insert(3, "setting", [kd_setting(s, t) if m == "kd" else "" for s, t, m in
                                  zip(summary["student"], summary["teacher"], summary["method"])])
    statements = []
    for row in summary.itertuples():
        what = f"LS (α={row.alpha:g})" if row.method == "ls" else (
            f"KD (α={row.alpha:g}, τ={float(row.temperature):g}) from {row.teacher}" if row.method == "kd" else row.method)
        interval = f"[{row.low:+.3f}, {row.high:+.3f}]" if not math.isnan(row.low) else "none (one seed)"
        statements.append(f"{row.task}, {row.student}: {what} {_WORDS[row.direction]} {metric} "
                          f"({row.baseline:.3f} → {row.value:.3f}; Δ = {row.difference:+.3f}, 95% CI {interval}, n={row.n})")
    summary["statement"] = statements
    return summary


def claim_a_text(verdicts: pd.DataFrame) -> str:
    """Plain-words verdict on claim (a) ("LS raises entropy, KD lowers it") from a ``verdict_table``.

    One line per (task, student, setting) with KD runs: whether LS raised entropy, how each KD
    configuration moved it, and whether that setting supports the claim (LS up and KD down).
    """
    _check_columns(verdicts, ["task", "student", "method", "direction", "statement", "setting"], "verdicts")
    lines = []
    for (task, student), group in verdicts.groupby(["task", "student"], sort=False):
        ls = group[group["method"] == "ls"]
        ls_word = "no LS run" if ls.empty else ", ".join(
            f"LS(α={a:g}) {_WORDS[d]} it" for a, d in zip(ls["alpha"], ls["direction"]))
        for setting, kd in group[group["method"] == "kd"].groupby("setting", sort=False):
            several = kd["teacher"].nunique() > 1
            parts = [f"KD(α={a:g}, τ={float(t):g}){f' from {teacher}' if several else ''} {_WORDS[d]} it"
                     for a, t, teacher, d in zip(kd["alpha"], kd["temperature"], kd["teacher"], kd["direction"])]
            single = (group["n"] == 1).any()
            ups = set(ls["direction"])
            ls_up = (not ls.empty) and ups <= ({"up?"} if single else {"up"})
            down, up = ("down?", "up?") if single else ("down", "up")
            downs = (kd["direction"] == down).sum()
            if ls_up and downs == len(kd):
                holds = "claim (a) holds: opposite directions"
            elif ls_up and downs > 0:
                holds = "claim (a) holds for some KD settings only"
            elif ls_up and (kd["direction"] == up).all():
                holds = "claim (a) fails here: KD moved entropy the same way as LS"
            else:
                holds = "claim (a) is not supported here"
            if single:
                holds += " (one seed: suggestive, not tested)"
            teacher = ", ".join(dict.fromkeys(kd["teacher"]))
            lines.append(f"{task}, {student} ({setting} KD from {teacher}): {ls_word}; {'; '.join(parts)} — {holds}.")
    return "\n".join(lines) if lines else "no KD runs to judge"


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


def inheritance_text(fit: LineFit, erm_entropy: float, x_name: str = "teacher entropy") -> str:
    """Plain words on claim (b) from a student-vs-teacher entropy fit and the ERM student's entropy."""
    tightness = "a tight" if abs(fit.r) >= 0.8 else "a moderate" if abs(fit.r) >= 0.5 else "a loose"
    sign = "rises" if fit.slope > 0 else "falls"
    text = (f"Student entropy {sign} with {x_name}: slope {fit.slope:.2f} (95% CI [{fit.slope_low:.2f}, {fit.slope_high:.2f}]),"
            f" i.e. 0.1 nats more {x_name} gives the student {0.1 * fit.slope:+.3f} nats; r = {fit.r:.2f} "
            f"(95% CI [{fit.r_low:.2f}, {fit.r_high:.2f}]) over {fit.n} teachers: {tightness} relation.")
    cross = fit.crossing(erm_entropy)
    if fit.slope > 0 and fit.slope_low > 0 and math.isfinite(cross):
        text += (f" The fitted line crosses the ERM student's entropy ({erm_entropy:.3f}) at a {x_name} of {cross:.3f}:"
                 f" teachers more confident than that make KD lower the student's entropy, less confident ones raise it.")
    else:
        text += " The interval of the slope includes 0 or the slope is negative, so no crossover is claimed."
    return text


def main_table(frame: pd.DataFrame, metrics: Sequence[str] = ("accuracy", "entropy", "max_prob", "nll", "ece"),
               digits: int = 3) -> pd.DataFrame:
    """Display table: one row per group, each metric as ``'mean ± half-width'`` over seeds, plus ``n``."""
    summary = seed_summary(frame, metrics=metrics)
    table = summary[GROUP_COLUMNS + ["n"]].copy()
    for metric in metrics:
        table[metric] = [format_ci(m, h, digits) for m, h in zip(summary[metric], summary[f"{metric}_ci"])]
    return table
