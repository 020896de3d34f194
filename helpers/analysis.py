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
    "TIER_NAMES",
    "tier_name",
    "negligible_text",
    "verdict_markdown",
    "claim_a_markdown",
    "teacher_confidence_table",
    "teacher_confidence_markdown",
    "inheritance_check",
    "inheritance_check_markdown",
    "findings_markdown",
    "shipped_summary",
    "sweep_text",
    "band_text",
    "knob_text",
    "tightness_text",
    "teacher_quality_text",
    "virtual_teacher_text",
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
    keys = ["tier", "task", "student"] if "tier" in verdicts.columns else ["task", "student"]
    for key, group in verdicts.groupby(keys, sort=False):
        task, student = key[-2], key[-1]
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


def inheritance_text(fit: LineFit, erm_entropy: float, x_name: str = "teacher entropy", points: str = "teachers") -> str:
    """Plain words on claim (b) from a student-vs-teacher entropy fit and the ERM student's entropy.

    ``points`` names what the fit's points are (``'teachers'``; ``'students (one per teacher and seed)'``).
    A slope whose interval lies below 0 is said to contradict claim (b); one that includes 0 does not confirm it.
    """
    tightness = "a tight" if abs(fit.r) >= 0.8 else "a moderate" if abs(fit.r) >= 0.5 else "a loose"
    sign = "rises" if fit.slope > 0 else "falls"
    text = (f"Student entropy {sign} with {x_name}: slope {fit.slope:.2f} (95% CI [{fit.slope_low:.2f}, {fit.slope_high:.2f}]),"
            f" i.e. 0.1 nats more {x_name} gives the student {0.1 * fit.slope:+.3f} nats; r = {fit.r:.2f} "
            f"(95% CI [{fit.r_low:.2f}, {fit.r_high:.2f}]) over {fit.n} {points}: {tightness} relation.")
    cross = fit.crossing(erm_entropy)
    if fit.slope > 0 and fit.slope_low > 0 and math.isfinite(cross):
        text += (f" The fitted line crosses the ERM student's entropy ({erm_entropy:.3f}) at a {x_name} of {cross:.3f}:"
                 f" teachers more confident than that make KD lower the student's entropy, less confident ones raise it.")
    else:
        text += " The interval of the slope includes 0 or the slope is negative, so no crossover is claimed."
    if fit.slope_high < 0:
        text += (" **The data contradict claim (b) here:** the student's entropy falls as its teacher's rises.")
    elif not fit.slope_low > 0:
        text += " Claim (b) (the student inherits its teacher's confidence) is **not confirmed** by these points."
    else:
        text += " That is claim (b): the student inherits its teacher's confidence."
    return text


def main_table(frame: pd.DataFrame, metrics: Sequence[str] = ("accuracy", "entropy", "max_prob", "nll", "ece"),
               digits: int = 3) -> pd.DataFrame:
    """Display table: one row per group, each metric as ``'mean ± half-width'`` over seeds, plus ``n``."""
    summary = seed_summary(frame, metrics=metrics)
    table = summary[GROUP_COLUMNS + ["n"]].copy()
    for metric in metrics:
        table[metric] = [format_ci(m, h, digits) for m, h in zip(summary[metric], summary[f"{metric}_ci"])]
    return table


# --------------------------------------------------------------------------------------------
# Rendering: the notebooks' sentences about measured numbers come from here (Markdown strings)
# --------------------------------------------------------------------------------------------

TIER_NAMES = {"finetune": "fine-tuned tier", "features": "frozen-feature tier", "paper": "paper-scale tier"}


def tier_name(tier: str) -> str:
    """``'fine-tuned tier'``, ``'frozen-feature tier'``, … (the tier code itself for unknown tiers)."""
    return TIER_NAMES.get(str(tier), str(tier))


def negligible_text(negligible: float = NEGLIGIBLE_ENTROPY) -> str:
    """How the verdicts read an interval (the negligible band is a constant of the kit, not a measurement)."""
    return (f"**How to read a verdict.** Each LS or KD run is paired with the ERM run of the same tier, task, student and "
            f"seed; the 95% t-interval of the per-seed differences decides the words. An interval entirely above 0 reads "
            f"*raised*, entirely below 0 *lowered*; an interval lying entirely inside ±{negligible:g} nats — the "
            f"*negligible band* (`helpers.analysis.NEGLIGIBLE_ENTROPY`) — reads *did not change*: a change too small to "
            f"matter even if it is real. An interval that crosses 0 but leaves the band reads *did not clearly change*. "
            f"With one seed there is no interval: the sign is reported and flagged *untested*.")


def _kd_what(row) -> str:
    if row.method == "ls":
        return f"LS α={row.alpha:g}"
    if row.method == "kd":
        return f"KD α={row.alpha:g} τ={float(row.temperature):g} ← {row.teacher}"
    return str(row.method)


def _interval(row) -> str:
    if isinstance(row.low, float) and math.isnan(row.low):
        return f"Δ = {row.difference:+.3f}, one seed"
    return f"Δ = {row.difference:+.3f}, 95% CI [{row.low:+.3f}, {row.high:+.3f}], n = {row.n}"


def _paper_word(method: str, moved: str) -> str:
    """How one verdict stands against claim (a): LS raises entropy, KD lowers it."""
    expected = "up" if method == "ls" else "down"
    clean = moved.rstrip("?")
    untested = moved.endswith("?")
    if clean == expected:
        return "as the paper says" + (" (one seed: untested)" if untested else "")
    if clean in ("up", "down"):
        return ("**the opposite of the paper's claim**" + (" (one seed: untested)" if untested else ""))
    if moved == "negligible":
        return "**not what the paper says** (it expects a change)"
    return "**the paper's direction is not confirmed** (the interval includes 0)"


def verdict_markdown(verdicts: pd.DataFrame) -> str:
    """One bullet per comparison of a ``verdict_table``, grouped by tier, task and student, each set against
    claim (a) of the paper (LS raises entropy, KD lowers it)."""
    _check_columns(verdicts, ["tier", "task", "student", "method", "alpha", "temperature", "teacher", "direction",
                              "difference", "low", "high", "n", "baseline", "value"], "verdicts")
    if verdicts.empty:
        return "_No LS or KD run has an ERM partner of the same seed: nothing to judge._"
    lines = []
    for (tier, task, student), group in verdicts.groupby(["tier", "task", "student"], sort=False):
        lines.append(f"**{tier_name(tier)}, {task}, student {student}** (ERM entropy {group['baseline'].iloc[0]:.3f} nats):")
        lines.append("")
        for row in group.itertuples():
            lines.append(f"* {_kd_what(row)}: {_WORDS[row.direction]} the entropy ({_interval(row)}) — "
                         f"{_paper_word(row.method, row.direction)}.")
        lines.append("")
    return "\n".join(lines).rstrip()


def _count(n: int, of: int) -> str:
    return f"{n} of {of}"


def claim_a_markdown(verdicts: pd.DataFrame, label: str | None = None) -> str:
    """A short verdict on claim (a) per tier: how many LS and KD comparisons went the paper's way, how many the
    opposite way, how many had no clear direction — and, in plain words, whether the data support the claim."""
    _check_columns(verdicts, ["tier", "method", "direction", "n"], "verdicts")
    if verdicts.empty:
        return "_No LS or KD run has an ERM partner of the same seed: no verdict._"
    parts = []
    for tier, group in verdicts.groupby("tier", sort=False):
        single = bool((group["n"] == 1).any())
        seeds = sorted(set(int(n) for n in group["n"]))
        head = f"**{label or tier_name(tier)}** (n = {', '.join(map(str, seeds))} seed{'s' if seeds != [1] else ''} per comparison)"
        clean = group["direction"].str.rstrip("?")
        ls, kd = group["method"] == "ls", group["method"] == "kd"
        sentences = []
        if ls.any():
            up = int((clean[ls] == "up").sum())
            down = int((clean[ls] == "down").sum())
            sentence = f"LS raised the student's entropy in {_count(up, int(ls.sum()))} comparisons"
            if up == ls.sum():
                sentence += " — as the paper says"
            elif down:
                sentence += f" and **lowered** it in {down} — **the data contradict the paper here**"
            else:
                sentence += " — **the paper's 'LS raises entropy' is not confirmed in the rest** (no clear change)"
            sentences.append(sentence + ".")
        if kd.any():
            down = int((clean[kd] == "down").sum())
            up = int((clean[kd] == "up").sum())
            rest = int(kd.sum()) - down - up
            sentence = (f"KD lowered it in {_count(down, int(kd.sum()))} comparisons, raised it in {up} and left "
                        f"{rest} without a clear change")
            if down == kd.sum():
                sentence += " — claim (a) holds: KD and LS moved confidence in opposite directions."
            elif up > 0 and down == 0:
                sentence += (" — **the data contradict claim (a)**: here KD never lowered entropy, and it raised it "
                             "like LS where it moved it at all.")
            elif up > 0:
                sentence += (" — **claim (a) holds only in part**: KD's direction changed with the teacher and τ "
                             "(see which comparisons above).")
            elif down > 0:
                sentence += " — claim (a) holds where KD moved the entropy; elsewhere the change was not clear."
            else:
                sentence += " — **claim (a) is not supported here**: KD did not clearly lower entropy anywhere."
            sentences.append(sentence)
        if single:
            sentences.append("With one seed these are signs, not tested directions.")
        parts.append(f"{head}: " + " ".join(sentences))
    return "\n\n".join(parts)


def teacher_confidence_table(teachers: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """Each KD teacher's test entropy beside the ERM student's (mean ± 95% interval over seeds) of the same tier and task.

    ``teachers``: columns ``tier, task, teacher, teacher_entropy`` (``helpers.sweeps.teacher_frame``);
    ``students``: result rows (the ERM rows are used). Column ``side`` says whether the teacher is more or
    less confident than the ERM student (``'about as confident'`` inside the ERM interval).
    """
    _check_columns(teachers, ["tier", "task", "teacher", "teacher_entropy"], "teachers")
    _check_columns(students, ["tier", "task", "student", "method", "entropy"], "students")
    rows = []
    erm = students[students["method"] == "erm"]
    for (tier, task, student), group in erm.groupby(["tier", "task", "student"], sort=False):
        ci = mean_ci(group["entropy"])
        for teacher in teachers[(teachers["tier"] == tier) & (teachers["task"] == task)].itertuples():
            if model_size(teacher.teacher) is not None and kd_setting(student, teacher.teacher) != "standard":
                continue
            low, high = (ci.low, ci.high) if ci.n > 1 else (ci.mean, ci.mean)
            side = ("less confident" if teacher.teacher_entropy > high else
                    "more confident" if teacher.teacher_entropy < low else "about as confident")
            rows.append({"tier": tier, "task": task, "student": student, "teacher": teacher.teacher,
                         "teacher_entropy": float(teacher.teacher_entropy), "erm_entropy": ci.mean, "erm_ci": ci.half,
                         "n": ci.n, "side": side})
    return pd.DataFrame(rows, columns=["tier", "task", "student", "teacher", "teacher_entropy", "erm_entropy", "erm_ci",
                                       "n", "side"])


def teacher_confidence_markdown(table: pd.DataFrame) -> str:
    """Plain words for :func:`teacher_confidence_table`: each teacher against the ERM student."""
    _check_columns(table, ["tier", "task", "student", "teacher", "teacher_entropy", "erm_entropy", "erm_ci", "side"], "table")
    if table.empty:
        return "_No teacher to compare with an ERM student._"
    lines = []
    for (tier, task, student), group in table.groupby(["tier", "task", "student"], sort=False):
        erm = group.iloc[0]
        lines.append(f"* {tier_name(tier)}, {task}: the ERM student {student} has test entropy "
                     f"{format_ci(erm['erm_entropy'], erm['erm_ci'])} nats; "
                     + "; ".join(f"teacher {row.teacher}: {row.teacher_entropy:.3f} nats (**{row.side}**)"
                                 for row in group.itertuples()) + ".")
        sides = set(group["side"])
        if {"more confident", "less confident"} <= sides:
            lines.append("  One teacher is more confident than the ERM student and one less: if the student inherits its "
                         "teacher's confidence (claim b), KD should move it in opposite directions from the two.")
        elif sides == {"more confident"}:
            lines.append("  Every teacher here is more confident than the ERM student: claim (b) predicts that KD lowers "
                         "the student's entropy.")
        elif sides == {"less confident"}:
            lines.append("  Every teacher here is less confident than the ERM student: claim (b) predicts that KD "
                         "*raises* the student's entropy — the opposite of claim (a).")
    return "\n".join(lines)


def inheritance_check(verdicts: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """KD verdicts joined with :func:`teacher_confidence_table`: ``expected`` direction under claim (b) (towards the
    teacher) and ``matches`` (True / False, or None when the verdict has no clear direction or the teacher is
    about as confident as the ERM student)."""
    _check_columns(verdicts, ["tier", "task", "student", "teacher", "method", "direction"], "verdicts")
    kd = verdicts[verdicts["method"] == "kd"]
    merged = kd.merge(table[["tier", "task", "student", "teacher", "teacher_entropy", "side"]],
                      on=["tier", "task", "student", "teacher"], how="inner")
    expected = merged["side"].map({"less confident": "up", "more confident": "down"})
    clean = merged["direction"].str.rstrip("?")
    merged["expected"] = expected
    merged["matches"] = [None if (pd.isna(e) or c not in ("up", "down")) else bool(c == e) for e, c in zip(expected, clean)]
    return merged


def inheritance_check_markdown(check: pd.DataFrame) -> str:
    """Whether KD moved each student towards its teacher's confidence (claim b), counted per tier."""
    _check_columns(check, ["tier", "direction", "matches", "side", "teacher"], "check")
    if check.empty:
        return "_No KD run whose teacher's entropy is known: claim (b) not checked._"
    lines = []
    for tier, group in check.groupby("tier", sort=False):
        judged = group[group["matches"].notna()]
        towards = int((judged["matches"] == True).sum())  # noqa: E712
        away = len(judged) - towards
        if len(judged) == 0:
            lines.append(f"* {tier_name(tier)}: none of the {len(group)} KD comparisons has both a clear direction and a "
                         f"teacher on one side of the ERM student — claim (b) cannot be judged from these runs.")
            continue
        text = (f"* {tier_name(tier)}: KD moved the student's entropy **towards its teacher's** in "
                f"{_count(towards, len(judged))} comparisons with a clear direction")
        if len(judged) < len(group):
            text += f" ({len(group) - len(judged)} more had no clear direction or a teacher as confident as ERM)"
        if away == 0:
            text += " — as claim (b) says."
        elif towards == 0:
            text += " — **the data contradict claim (b) here**: KD moved the student away from its teacher."
        else:
            text += f" — and **away from it in {away}**: claim (b) holds only in part here."
        lines.append(text)
    return "\n".join(lines)


def findings_markdown(verdicts_by_label: Mapping[str, pd.DataFrame], checks: Mapping[str, pd.DataFrame] | None = None) -> str:
    """The closing findings of the main comparison, rendered from verdicts (one entry per tier or source).

    Each entry: claim (a) counted (:func:`claim_a_markdown`) and, where given, claim (b)
    (:func:`inheritance_check_markdown`). The words follow the data, including when they contradict the paper.
    """
    if not verdicts_by_label:
        raise ValueError("verdicts_by_label must name at least one verdict table")
    lines = []
    for label, verdicts in verdicts_by_label.items():
        lines.append(claim_a_markdown(verdicts, label=label))
        if checks and label in checks:
            lines.append(inheritance_check_markdown(checks[label]))
        lines.append("")
    return "\n\n".join(line for line in lines if line).strip()


def shipped_summary(shipped, tier: str = "finetune") -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``(main_table, verdict_table, markdown)`` of one tier of shipped results (``helpers.shipped.Shipped``).

    The Markdown starts with the provenance caption and is labelled *shipped* throughout.
    """
    results = shipped.results
    students = results[(results["role"] == "student") & (results["tier"] == tier)].drop(columns=["run_id"], errors="ignore")
    if students.empty:
        raise ValueError(f"the shipped results have no {tier!r} students")
    verdicts = verdict_table(students)
    text = (f"**Shipped results** ({shipped.caption()}).\n\n"
            + claim_a_markdown(verdicts, label=f"shipped `{shipped.preset}`, {tier_name(tier)}"))
    return main_table(students), verdicts, text


def _spread(summary: pd.DataFrame, row, metric: str) -> tuple[float, float]:
    """The band of one grid point: min–max over seeds when given, else the t-interval, else the mean itself."""
    if f"{metric}_min" in summary.columns and not math.isnan(row[f"{metric}_min"]):
        return float(row[f"{metric}_min"]), float(row[f"{metric}_max"])
    half = row.get(f"{metric}_ci", math.nan)
    if half is None or math.isnan(half):
        return float(row[metric]), float(row[metric])
    return float(row[metric]) - half, float(row[metric]) + half


def sweep_text(summary: pd.DataFrame, metric: str = "entropy", close: float = NEGLIGIBLE_ENTROPY) -> str:
    """Plain words on an α/τ sweep (``helpers.sweeps.sweep_summary``), set against notebook 08's explanation:
    LS's entropy should rise with α; KD at τ = 1 from a converged teacher should stay close to ERM; KD at τ > 1
    should fall below ERM. ERM is LS at α = 0. Each curve is judged at its largest α: *above*/*below* ERM only when
    every seed's value is (the band: min–max over seeds, or the t-interval), *close* within ±``close``."""
    _check_columns(summary, ["method", "alpha", "temperature", metric, "n"], "summary")
    ls = summary[summary["method"] == "ls"].sort_values("alpha")
    base = ls[ls["alpha"] == 0.0]
    if base.empty:
        raise ValueError("summary needs LS at α = 0 (the ERM point)")
    erm = base.iloc[0]
    erm_low, erm_high = _spread(summary, erm, metric)
    n = int(summary["n"].min())
    lines = [f"ERM (α = 0): {metric} {erm[metric]:.3f} (mean of {n} seeds; judged against every seed's value)." if n > 1
             else f"ERM (α = 0): {metric} {erm[metric]:.3f} (**one seed**: each point is one run, so the words below are "
                  f"signs, not tested differences)."]

    def side(row) -> str:
        low, high = _spread(summary, row, metric)
        if abs(row[metric] - erm[metric]) < close:
            return "close to"
        if low > erm_high:
            return "above"
        if high < erm_low:
            return "below"
        return "not clearly different from"

    if len(ls) > 1:
        top = ls.iloc[-1]
        steps = np.diff(ls[metric].to_numpy(float))
        where = side(top)
        rising = "rising at every step of α" if (steps > 0).all() else "not rising at every step of α"
        verdict = "as the explanation expects" if where == "above" else "**not what the explanation expects** (LS should raise it)"
        lines.append(f"LS: {metric} {top[metric]:.3f} at α = {top['alpha']:g}, {where} ERM's, {rising} — {verdict}.")
    kd = summary[summary["method"] == "kd"]
    for tau in sorted({float(t) for t in kd["temperature"]}):
        part = kd[pd.to_numeric(kd["temperature"]) == tau].sort_values("alpha")
        top = part.iloc[-1]
        where = side(top)
        if tau == 1.0:
            ok = where in ("close to", "not clearly different from")
            expect = "stay close to ERM"
        else:
            ok = where == "below"
            expect = "fall below ERM"
        verdict = "as the explanation expects" if ok else f"**not what the explanation expects** (it should {expect})"
        lines.append(f"KD τ = {tau:g}: {metric} {top[metric]:.3f} at α = {top['alpha']:g}, {where} ERM's — {verdict}.")
    return "\n".join(f"* {line}" for line in lines)


def band_text(summary: pd.DataFrame) -> str:
    """What the bands of a sweep plot are, from the number of seeds (min–max below three seeds, else 95% t-bands)."""
    _check_columns(summary, ["n"], "summary")
    n = int(summary["n"].min())
    if n == 1:
        return "With **one seed** there are no bands: every point is a single run, and no difference is tested."
    if n < 3:
        return (f"The bands are the **min–max over {n} seeds** (a 95% t-interval from {n} seeds "
                f"would be far wider than the spread, and could leave the metric's range), clipped to the metric's range.")
    return f"The bands are 95% t-intervals over {n} seeds, clipped to the metric's range."


def knob_text(points: pd.DataFrame) -> str:
    """Per knob of an inheritance experiment: the span of teacher entropies and of the students' mean entropies, and
    the span of teacher and student accuracies (confidence moves; does correctness?)."""
    _check_columns(points, ["knob", "teacher_entropy", "student_entropy", "teacher_accuracy", "student_accuracy"], "points")
    lines = []
    for knob, group in points.groupby("knob", sort=False):
        if len(group) < 2:
            continue
        lines.append(f"* {knob}: teacher entropy {group['teacher_entropy'].min():.3f}–{group['teacher_entropy'].max():.3f} "
                     f"nats → student entropy {group['student_entropy'].min():.3f}–{group['student_entropy'].max():.3f}; "
                     f"teacher accuracy {group['teacher_accuracy'].min():.1%}–{group['teacher_accuracy'].max():.1%}, "
                     f"student accuracy {group['student_accuracy'].min():.1%}–{group['student_accuracy'].max():.1%}.")
    h = points["teacher_entropy"].max() - points["teacher_entropy"].min()
    a = points["teacher_accuracy"].max() - points["teacher_accuracy"].min()
    sa = points["student_accuracy"].max() - points["student_accuracy"].min()
    sh = points["student_entropy"].max() - points["student_entropy"].min()
    lines.append(f"* All teachers: their entropies span {h:.3f} nats ({h / max(points['teacher_entropy'].max(), 1e-12):.0%} of "
                 f"the largest) while their accuracies span {100 * a:.1f} points; the students' entropies span {sh:.3f} "
                 f"nats and their accuracies {100 * sa:.1f} points.")
    return "\n".join(lines)


def tightness_text(tightness: Mapping[str, float]) -> str:
    """Which model's clusters are tightest (spread / separation, smaller is tighter), set against Müller et al.'s
    picture (LS gives the tightest clusters). Keys are titles; the LS one contains ``'LS'``, ERM's ``'ERM'``."""
    if not tightness:
        raise ValueError("tightness must map at least one model to its spread / separation")
    ordered = sorted(tightness.items(), key=lambda item: item[1])
    listing = ", ".join(f"{name} {value:.3f}" for name, value in ordered)
    tightest = ordered[0][0]
    text = f"Spread / separation on the test split (one trained head each; smaller is tighter): {listing}."
    if "LS" in tightest:
        text += f" {tightest} has the tightest clusters — as Müller et al. (2019) found for label smoothing."
    elif any("LS" in name for name in tightness):
        text += (f" **{tightest}, not LS, has the tightest clusters here — unlike Müller et al.'s (2019) picture**"
                 " (one head each: no interval).")
    return text


def teacher_quality_text(differences: pd.DataFrame) -> str:
    """Müller et al.'s "LS-trained teachers distil worse", judged from a ``difference_summary`` of student accuracy
    against the students of the ERM teacher (paired by seed and τ): one clause per LS teacher and τ, then a verdict."""
    _check_columns(differences, ["teacher", "temperature", "direction", "difference", "low", "high", "n"], "differences")
    if differences.empty:
        return "_No LS-trained teacher to compare._"
    lines = []
    for row in differences.itertuples():
        lines.append(f"* students of {row.teacher} at τ = {float(row.temperature):g}: accuracy "
                     f"{_WORDS[row.direction]} ({_interval(row)}).")
    clean = differences["direction"].str.rstrip("?")
    down, total = int((clean == "down").sum()), len(differences)
    if down == total:
        verdict = "Müller et al.'s finding holds here: every LS-trained teacher distilled worse."
    elif down == 0 and (clean == "up").any():
        verdict = ("**The data contradict Müller et al. here:** no LS-trained teacher distilled worse, and some "
                   "distilled better.")
    elif down == 0:
        verdict = ("**Müller et al.'s finding is not confirmed here:** no LS-trained teacher's students were clearly "
                   "less accurate.")
    else:
        verdict = f"Müller et al.'s finding holds in {down} of {total} comparisons only."
    return "\n".join(lines + ["", verdict])


def virtual_teacher_text(verdicts: pd.DataFrame) -> str:
    """How KD from Yuan et al.'s virtual teacher moved the student's entropy, beside LS (both against ERM): same
    direction as LS (KD from it behaves like label smoothing) or not."""
    _check_columns(verdicts, ["method", "teacher", "direction", "alpha", "temperature"], "verdicts")
    ls = verdicts[verdicts["method"] == "ls"]
    kd = verdicts[(verdicts["method"] == "kd") & verdicts["teacher"].str.startswith("virtual")]
    if kd.empty:
        return "_No KD run from a virtual teacher._"
    ls_dir = ls["direction"].iloc[0].rstrip("?") if not ls.empty else None
    lines = []
    if ls_dir is not None:
        lines.append(f"* LS α={ls['alpha'].iloc[0]:g} {_WORDS[ls['direction'].iloc[0]]} the entropy ({_interval(ls.iloc[0])}).")
    for _, row in kd.iterrows():
        clean = row["direction"].rstrip("?")
        same = ("the same way as LS: label smoothing by another name" if ls_dir in ("up", "down") and clean == ls_dir else
                "**the opposite way from LS**" if ls_dir in ("up", "down") and clean in ("up", "down") else
                "no clear direction, so no match with LS can be claimed")
        lines.append(f"* KD α={row['alpha']:g} τ={float(row['temperature']):g} from {row['teacher']} "
                     f"{_WORDS[row['direction']]} it ({_interval(row)}) — {same}.")
    return "\n".join(lines)
