"""Statistics over seeds: means with 95% t-intervals, paired differences, directions, teacher runs, a family correction.

Conventions
-----------
* A result frame has one row per run in the kit's ``results.csv`` schema (``helpers.learning.results``); runs that
  differ only in ``seed`` form a *group* (:data:`GROUP_COLUMNS`; groups never mix tiers). Its mean comes with a
  two-sided 95% **t-interval over seeds** ``mean ± t_{0.975, n-1} · sd / sqrt(n)`` (``sd`` with ``n-1``).
* A *paired difference* is ``metric(method run) − metric(ERM run)`` for the same tier, task, student and seed
  (same data order and initialisation); the spread of those differences, not of the raw values, sets the interval.
* A direction (:func:`direction`) is read from the interval *and* the point estimate against a negligible band
  ``±negligible`` (entropy: :data:`NEGLIGIBLE_ENTROPY` nats; every metric's: :data:`NEGLIGIBLE_BANDS`): ``up``/``down`` — the interval excludes 0 and the
  mean is at least the band; ``up-small``/``down-small`` — the interval excludes 0 but the mean is inside the band
  (real, practically negligible); ``negligible`` — the whole interval inside the band (an equivalence claim, TOST
  logic); ``unclear`` — otherwise. One seed gives no interval: ``up?``/``down?`` (a sign, untested).
* Many verdicts at 95% each: the family is read with **Holm's** step-down correction of the paired t-tests'
  p-values (:func:`holm`).
* **Teacher runs.** Students of one teacher run are not independent evidence about the teacher. A KD comparison whose
  students come from one teacher run is read *conditional on that run* (the paired t-interval over seeds). With
  several independent teacher runs (a ``teacher_run`` column), :func:`difference_summary` reads it with the teacher run
  as a **random effect** (:func:`random_effects_ci`): a linear mixed model (``statsmodels`` MixedLM, REML,
  ``difference ~ 1``) with a random intercept per teacher run — and, where the runs' students share seeds (and so share
  their ERM partners), a crossed random intercept per student seed — and a t-interval with ``runs − 1`` degrees of
  freedom. Why a mixed model and not a bootstrap: with three teacher runs a bootstrap over runs has ten distinct
  resamples and its percentile interval is far too narrow, while the t reference on ``runs − 1`` degrees of freedom
  says how little three runs know. In a balanced design without shared seeds the interval equals the t-interval over
  the runs' mean differences.
* Entropies are in nats. Line fits, their bands and crossovers live in :mod:`helpers.maths.regression`.

The sentences that report these numbers live in ``helpers.reporting.verdicts``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "GROUP_COLUMNS",
    "METRICS",
    "NEGLIGIBLE_ENTROPY",
    "NEGLIGIBLE_BANDS",
    "negligible_band",
    "RUN_COLUMN",
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
    "RandomEffectsCI",
    "random_effects_ci",
    "difference_summary",
    "holm",
]

NEGLIGIBLE_ENTROPY = 0.01  # nats: a change smaller than this is too small to matter (a constant of the kit, not fitted)
#: The negligible band of each metric (constants of the kit, not fitted): entropy and NLL in nats, accuracy and ECE
#: as fractions (0.01 = one percentage point).
NEGLIGIBLE_BANDS = {"entropy": NEGLIGIBLE_ENTROPY, "nll": 0.01, "accuracy": 0.01, "ece": 0.01, "max_prob": 0.01}
DIRECTIONS = ("up", "down", "up-small", "down-small", "negligible", "unclear", "up?", "down?")

GROUP_COLUMNS = ["tier", "task", "student", "teacher", "method", "alpha", "temperature"]  # tiers never mix
METRICS = ["accuracy", "entropy", "max_prob", "nll", "ece"]


def negligible_band(metric: str) -> float:
    """The negligible band of ``metric`` (:data:`NEGLIGIBLE_BANDS`); ValueError for a metric without one."""
    if metric not in NEGLIGIBLE_BANDS:
        raise ValueError(f"no negligible band for metric {metric!r}; known: {sorted(NEGLIGIBLE_BANDS)}")
    return NEGLIGIBLE_BANDS[metric]


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


def check_columns(frame: pd.DataFrame, columns: Sequence[str], name: str = "frame", non_empty: bool = False) -> None:
    """Refuse, with one line naming ``name``, anything but a DataFrame holding ``columns`` (and, with ``non_empty``,
    at least one row). The kit's one column check: every layer above imports it from here."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")
    if non_empty and frame.empty:
        raise ValueError(f"{name} is empty")


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


RUN_COLUMN = "teacher_run"  # the teacher run a KD student learnt from, when a teacher setting has several runs


def paired_differences(frame: pd.DataFrame, metric: str = "entropy", baseline: str | Mapping[str, Any] = "erm",
                       pair_on: Sequence[str] = ("tier", "task", "student", "seed")) -> pd.DataFrame:
    """Per-seed ``metric(run) − metric(baseline run)`` of the same task, student and seed.

    ``baseline`` is a method name (default ERM) or a mapping ``{column: value}`` selecting the
    baseline runs (e.g. ``{"method": "kd", "teacher": "L6-head"}``). Returns the non-baseline
    rows with columns ``GROUP_COLUMNS + ['seed', 'value', 'baseline_value', 'difference']`` (and ``teacher_run`` when
    ``frame`` has it: the random factor of :func:`difference_summary`).
    Rows without a baseline partner are dropped. Raises ValueError on duplicate baseline runs.
    """
    pair_on = list(pair_on)
    check_columns(frame, list(dict.fromkeys(GROUP_COLUMNS + pair_on + [metric])))
    carried = [c for c in pair_on if c not in GROUP_COLUMNS] + ([RUN_COLUMN] if RUN_COLUMN in frame.columns else [])
    keyed = pd.concat([_group_keys(frame, GROUP_COLUMNS), frame[carried + [metric]]], axis=1)
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
    return merged[GROUP_COLUMNS + carried + ["value", "baseline_value", "difference"]]


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


@dataclass(frozen=True)
class RandomEffectsCI:
    """The mean paired difference over several teacher runs, with the teacher run as a random effect.

    ``half`` is ``t_{level, runs − 1} · se``; ``p`` the two-sided p-value of ``mean = 0`` on ``runs − 1`` degrees of
    freedom; ``n`` the paired differences (students); ``crossed``: a random intercept per student seed was fitted too.
    """

    mean: float
    low: float
    high: float
    half: float
    se: float
    p: float
    n: int
    runs: int
    crossed: bool


def _mixed_model_se(data: pd.DataFrame, crossed: bool) -> tuple[float, float]:
    """``(intercept, its standard error)`` of ``difference ~ 1`` with a random intercept per teacher run (and per seed,
    crossed); NaN when the model cannot be fitted or has no residual spread left (e.g. identical differences within
    every run), where its variance components are not identified."""
    import statsmodels.formula.api as smf

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # boundary fits (a variance component at 0) are expected with few runs
            if crossed:
                model = smf.mixedlm("difference ~ 1", data.assign(_all=1), groups="_all", re_formula="0",
                                    vc_formula={"run": "0 + C(run)", "seed": "0 + C(seed)"})
            else:
                model = smf.mixedlm("difference ~ 1", data, groups=data["run"])
            fit = model.fit(reml=True)
        mean, se = float(fit.fe_params.iloc[0]), float(fit.bse_fe.iloc[0])
    except (ValueError, np.linalg.LinAlgError):
        return math.nan, math.nan
    spread = float(data["difference"].var(ddof=1))
    if not (math.isfinite(se) and se > 0 and fit.converged) or float(fit.scale) <= 1e-8 * spread:
        return math.nan, math.nan  # no residual spread left: the variance components are not identified
    return mean, se


def random_effects_ci(differences: pd.DataFrame, level: float = 0.95, run: str = RUN_COLUMN,
                      seed: str = "seed") -> RandomEffectsCI:
    """The mean of ``differences['difference']`` with the teacher run (``run``) as a random effect.

    A linear mixed model (``statsmodels`` MixedLM, REML) ``difference ~ 1`` with a random intercept per run; where a
    student seed appears under several runs (the runs' students share their ERM partners) a crossed random intercept
    per seed is fitted too. The interval is ``mean ± t_{runs − 1} · se``. Needs at least two runs. When the model cannot
    be fitted (no spread at all) the interval is the t-interval over the runs' mean differences — the same interval
    in a balanced design without shared seeds.
    """
    check_columns(differences, ["difference", run], "differences")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got level={level!r}")
    data = differences.dropna(subset=["difference"])
    data = pd.DataFrame({"difference": data["difference"].astype(float), "run": data[run].astype(str),
                         "seed": data[seed].astype(str) if seed in data.columns else np.arange(len(data)).astype(str)})
    runs = int(data["run"].nunique())
    if runs < 2:
        raise ValueError(f"a random teacher-run effect needs at least 2 teacher runs, got {runs}")
    crossed = bool((data.groupby("seed")["run"].nunique() > 1).any())
    mean, se = _mixed_model_se(data, crossed)
    if not math.isfinite(se):
        by_run = mean_ci(data.groupby("run")["difference"].mean())
        mean, se = by_run.mean, by_run.sd / math.sqrt(runs)
    half = t_quantile(0.5 + level / 2.0, runs - 1) * se if se > 0 else 0.0
    if se > 0:
        p = float(2.0 * stats.t.sf(abs(mean) / se, runs - 1))
    else:
        p = 1.0 if mean == 0.0 else 0.0
    return RandomEffectsCI(mean, mean - half, mean + half, half, se, p, len(data), runs, crossed)


def difference_summary(differences: pd.DataFrame, level: float = 0.95, negligible: float = 0.0) -> pd.DataFrame:
    """Per group: mean paired difference, its interval, ``n``, the test's ``p`` and the ``direction`` it supports
    (:func:`direction`; one seed: ``'up?'``/``'down?'``).

    ``runs`` counts the teacher runs of the group (a ``teacher_run`` column; 1 without it) and ``reading`` says how
    the interval was read: ``'seeds'`` — the paired t-interval over seeds (conditional on the one teacher run, if any);
    ``'teacher runs'`` — the teacher run as a random effect (:func:`random_effects_ci`).
    """
    check_columns(differences, GROUP_COLUMNS + ["difference"], "differences")
    has_runs = RUN_COLUMN in differences.columns
    rows = []
    for key, group in differences.groupby(GROUP_COLUMNS, sort=False, dropna=False):
        runs = int(group[RUN_COLUMN].nunique()) if has_runs else 1
        if runs > 1:
            ci = random_effects_ci(group, level)
            mean, low, high, half, n, p, reading = ci.mean, ci.low, ci.high, ci.half, ci.n, ci.p, "teacher runs"
        else:
            seeds = mean_ci(group["difference"], level)
            mean, low, high, half, n = seeds.mean, seeds.low, seeds.high, seeds.half, seeds.n
            p, reading = paired_t_pvalue(group["difference"]), "seeds"
        if n == 1:  # no interval: report the sign of the single difference, flagged with '?'
            moved = "up?" if mean > 0 else "down?" if mean < 0 else "unclear"
        else:
            moved = direction(low, high, negligible, mean)
        rows.append({**dict(zip(GROUP_COLUMNS, key)), "n": n, "runs": runs, "reading": reading, "difference": mean,
                     "low": low, "high": high, "ci": half, "p": p, "direction": moved,
                     "baseline": float(group["baseline_value"].mean()), "value": float(group["value"].mean())})
    return pd.DataFrame(rows, columns=GROUP_COLUMNS + ["n", "runs", "reading", "difference", "low", "high", "ci", "p",
                                                       "direction", "baseline", "value"])
