"""The verdict table: every LS or KD comparison paired with ERM, read from its interval and judged against the
pre-declared hypotheses. The sentences that report it live in :mod:`helpers.reporting.findings`.

* :func:`verdict_table` pairs each LS or KD run with the ERM run of the same tier, task, student and seed
  (``helpers.maths.statistics``), reads a direction from the 95% interval and the negligible band, corrects the
  family with Holm's method, and judges each comparison against ``helpers.maths.hypotheses``: the kit's prediction
  (LS raises entropy; KD moves it towards its teacher, predicted from **validation** entropies), the paper's
  statement per setting — **only for teachers in the paper's setting** (a teacher trained to convergence) — and, beside
  entropy, what KD did to accuracy, NLL and ECE against what the knowledge-transfer view predicts.
* **Teacher runs.** A teacher spelled with a run seed (``'L6 (2 of 6 epochs, seed 1)'``,
  ``helpers.learning.results.parse_teacher_label``) is one run of the teacher setting ``'L6 (2 of 6 epochs)'``: the
  table has one row per setting, and with several runs the interval treats the teacher run as a random effect
  (``reading = 'teacher runs'``); with one run it is conditional on that run (``reading = 'seeds'``).
* Claim (a) is judged per KD comparison only where the same tier, task and student has an LS comparison; claim (b)
  is the kit's KD hypothesis. Missing partners read *not testable*, never *contradicts*.

Entropies are in nats.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from helpers.learning.results import parse_teacher_label
from helpers.maths.hypotheses import (
    JUDGEMENTS,
    TRANSFER_EXPECTATION,
    in_paper_setting,
    judge,
    kd_setting,
    kit_expectation,
    paper_expectation,
    transfer_expectation,
)
from helpers.maths.statistics import (
    GROUP_COLUMNS,
    NEGLIGIBLE_ENTROPY,
    RUN_COLUMN,
    check_columns,
    difference_summary,
    format_ci,
    holm,
    mean_ci,
    negligible_band,
    paired_differences,
    seed_summary,
)

__all__ = [
    "TIER_NAMES",
    "WORDS",
    "TRANSFER_METRICS",
    "tier_name",
    "comparison_label",
    "interval_text",
    "verdict_table",
    "claim_a_text",
    "main_table",
    "format_ci",
]

TIER_NAMES = {"finetune": "fine-tuned tier", "features": "frozen-feature tier", "paper": "paper-scale tier"}
WORDS = {"down": "lowered", "up": "raised", "unclear": "did not clearly change", "negligible": "did not change",
         "down-small": "lowered, by less than the negligible band,", "up-small": "raised, by less than the negligible band,",
         "down?": "lowered (one seed, untested)", "up?": "raised (one seed, untested)"}
CLEAN = {"up": "up", "down": "down"}  # the directions that count as a practical change
TRANSFER_METRICS = tuple(TRANSFER_EXPECTATION)  # read beside entropy: accuracy, NLL, ECE


def tier_name(tier: str) -> str:
    """``'fine-tuned tier'``, ``'frozen-feature tier'``, … (the tier code itself for unknown tiers)."""
    return TIER_NAMES.get(str(tier), str(tier))


def comparison_label(method: str, alpha: float, temperature, teacher: str) -> str:
    """A comparison's run spelling: ``'LS α=0.1'``, ``'KD α=0.5 τ=4 ← L6 (2 of 6 epochs)'``."""
    if method == "ls":
        return f"LS α={alpha:g}"
    if method == "kd":
        return f"KD α={alpha:g} τ={float(temperature):g} ← {teacher}"
    return str(method)


def interval_text(row, prefix: str = "") -> str:
    """``'Δ = +0.151, 95% CI [+0.083, +0.218], n = 5'`` (``prefix`` names the metric's columns, e.g. ``'accuracy_'``);
    with several teacher runs it says so; one seed (``n=1``): no interval."""
    get = (lambda name: getattr(row, f"{prefix}{name}")) if not isinstance(row, dict) else (lambda name: row[f"{prefix}{name}"])
    difference, low, high = get("difference"), get("low"), get("high")
    n = row["n"] if isinstance(row, dict) else row.n
    if isinstance(low, float) and math.isnan(low):
        return f"Δ = {difference:+.3f}, n=1 (one seed: no interval)"
    runs = (row.get("runs", 1) if isinstance(row, dict) else getattr(row, "runs", 1)) or 1
    over = f"n = {n}" if runs <= 1 else f"n = {n} students of {runs} teacher runs"
    return f"Δ = {difference:+.3f}, 95% CI [{low:+.3f}, {high:+.3f}], {over}"


def _claim_a(kd_direction: str, kd_n: int, ls_rows: pd.DataFrame) -> str:
    """Claim (a) for one KD comparison against the LS comparison of the same tier, task and student."""
    ls_rows = ls_rows[ls_rows["n"] >= 2]
    if ls_rows.empty:
        return "not testable: no LS comparison with an interval for this student"
    if kd_n < 2:
        return "not testable: one seed"
    ls_direction = CLEAN.get(ls_rows["direction"].iloc[0])
    kd = CLEAN.get(kd_direction)
    if ls_direction is None or kd is None:
        return "undecided: a direction is unclear or negligible"
    return "opposite directions (claim a holds)" if ls_direction != kd else "same direction (claim a fails)"


def _with_teacher_runs(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``teacher`` the teacher *setting* and ``teacher_run`` the run's own spelling (same when one run)."""
    frame = frame.copy()
    teachers = frame["teacher"].fillna("").astype(str)
    frame[RUN_COLUMN] = teachers
    frame["teacher"] = [parse_teacher_label(t).setting if t else "" for t in teachers]
    return frame


def _teacher_lookup(expectations: pd.DataFrame) -> dict[tuple, dict]:
    """Per (tier, task, student, teacher setting): the teachers' mean validation entropy over runs (and its 95%
    half-width, 0 with one run), the ERM students' mean and half-width, and whether the setting is the paper's."""
    check_columns(expectations, ["tier", "task", "student", "teacher", "teacher_entropy", "erm_entropy"], "expectations")
    table = expectations.copy()
    parsed = [parse_teacher_label(t) for t in table["teacher"]]
    table["_setting"] = [p.setting for p in parsed]
    table["_model"] = [p.model for p in parsed]
    table["_finished"] = [not p.checkpoint for p in parsed]
    table["_rescaled"] = [p.rescaled for p in parsed]
    if "teacher_val_accuracy" not in table.columns:
        table["teacher_val_accuracy"] = np.nan
    if "erm_ci" not in table.columns:
        table["erm_ci"] = 0.0
    keys = ["tier", "task", "student", "_setting"]
    accuracy = table.groupby(keys, sort=False)["teacher_val_accuracy"].mean()
    best = table.assign(_acc=table.set_index(keys).index.map(accuracy)).groupby(["tier", "task", "_model"])["_acc"].max()
    lookup = {}
    for key, group in table.groupby(keys, sort=False):
        runs = mean_ci(group["teacher_entropy"])
        first = group.iloc[0]
        lookup[key] = {"teacher_entropy": runs.mean, "teacher_half": 0.0 if runs.n == 1 else runs.half,
                       "erm_entropy": float(first["erm_entropy"]), "erm_half": float(first["erm_ci"]),
                       "paper_setting": in_paper_setting(bool(group["_finished"].all()), bool(group["_rescaled"].any()),
                                                         float(accuracy[key]), float(best[(key[0], key[1], first["_model"])]))}
    return lookup


def _add_metric(summary: pd.DataFrame, frame: pd.DataFrame, metric: str, level: float) -> pd.DataFrame:
    """``summary`` with ``<metric>_difference``, ``_low``, ``_high``, ``_direction`` (its negligible band) and ``_n``."""
    other = difference_summary(paired_differences(frame, metric), level, negligible_band(metric))
    other = other[GROUP_COLUMNS + ["n", "difference", "low", "high", "direction"]]
    other = other.rename(columns={c: f"{metric}_{c}" for c in ("n", "difference", "low", "high", "direction")})
    return summary.merge(other, on=GROUP_COLUMNS, how="left")


def verdict_table(frame: pd.DataFrame, expectations: pd.DataFrame | None = None, metric: str = "entropy",
                  level: float = 0.95, negligible: float = NEGLIGIBLE_ENTROPY) -> pd.DataFrame:
    """Paired (method − ERM) differences per group, judged against the pre-declared hypotheses.

    ``expectations`` (``helpers.experiments.sweeps.kd_expectations``: ``tier, task, student, teacher, teacher_entropy,
    erm_entropy, erm_ci`` on the validation split, ``teacher_val_accuracy`` when known) gives each KD comparison its
    teacher-aware prediction and its place in or outside the paper's setting; without it a KD comparison has no kit
    prediction (*not testable*) and the paper's setting is read from the teacher's spelling alone. Columns added to
    ``difference_summary``'s: ``setting``, ``holm_p`` / ``holm`` (Holm-adjusted p over the whole table / rejected at
    5%), ``seeds_up`` / ``seeds_down`` (per-student signs), ``teacher_val_entropy``, ``erm_val_entropy``, ``expected``
    (kit) and ``kit`` (:func:`helpers.maths.hypotheses.judge`), ``paper_setting``, ``paper_expected`` and ``paper``
    (``'outside'`` for KD outside the paper's setting), ``claim_a``, per metric of :data:`TRANSFER_METRICS` its paired
    effect (``<metric>_difference``, ``_low``, ``_high``, ``_direction``, ``_expected``, ``_judgement``) and a plain-words
    ``statement``.
    """
    frame = _with_teacher_runs(frame)
    differences = paired_differences(frame, metric)
    summary = difference_summary(differences, level, negligible)
    signs = differences.assign(up=differences["difference"] > 0, down=differences["difference"] < 0)
    signs = signs.groupby(GROUP_COLUMNS, sort=False, dropna=False)[["up", "down"]].sum().reset_index()
    summary = summary.merge(signs.rename(columns={"up": "seeds_up", "down": "seeds_down"}), on=GROUP_COLUMNS, how="left")
    for other in TRANSFER_METRICS:
        if other in frame.columns and other != metric:
            summary = _add_metric(summary, frame, other, level)
    summary.insert(3, "setting", [kd_setting(s, t) if m == "kd" else "" for s, t, m in
                                  zip(summary["student"], summary["teacher"], summary["method"])])
    summary["holm_p"], summary["holm"] = holm(summary["p"].to_numpy(float), 1.0 - level)
    lookup = _teacher_lookup(expectations) if expectations is not None and not expectations.empty else {}
    facts = []
    for row in summary.itertuples():
        known = lookup.get((row.tier, row.task, row.student, row.teacher)) if row.method == "kd" else None
        if known is None and row.method == "kd":
            spelling = parse_teacher_label(row.teacher)
            known = {"teacher_entropy": math.nan, "teacher_half": 0.0, "erm_entropy": math.nan, "erm_half": math.nan,
                     "paper_setting": in_paper_setting(not spelling.checkpoint, spelling.rescaled)}
        facts.append(known or {})
    summary["teacher_val_entropy"] = [f.get("teacher_entropy", math.nan) for f in facts]
    summary["erm_val_entropy"] = [f.get("erm_entropy", math.nan) for f in facts]
    summary["expected"] = pd.Series(
        [kit_expectation(row.method, f.get("teacher_entropy"), f.get("erm_entropy"),
                         f.get("erm_half", 0.0) + f.get("teacher_half", 0.0)) for row, f in zip(summary.itertuples(), facts)],
        index=summary.index, dtype=object)
    summary["kit"] = [judge(d, e) for d, e in zip(summary["direction"], summary["expected"])]
    summary["paper_setting"] = pd.Series([f.get("paper_setting") if m == "kd" else None
                                          for m, f in zip(summary["method"], facts)], index=summary.index, dtype=object)
    summary["paper_expected"] = pd.Series(
        [paper_expectation(m, s) if m != "kd" or inside else None
         for m, s, inside in zip(summary["method"], summary["setting"], summary["paper_setting"])],
        index=summary.index, dtype=object)
    summary["paper"] = ["outside" if m == "kd" and not inside else judge(d, e) for m, inside, d, e in
                        zip(summary["method"], summary["paper_setting"], summary["direction"], summary["paper_expected"])]
    for other in TRANSFER_METRICS:
        if f"{other}_direction" in summary.columns:
            summary[f"{other}_expected"] = pd.Series(
                [transfer_expectation(other, m, bool(inside)) for m, inside in zip(summary["method"], summary["paper_setting"])],
                index=summary.index, dtype=object)
            summary[f"{other}_judgement"] = [judge(d, e) if isinstance(d, str) else "not testable"
                                             for d, e in zip(summary[f"{other}_direction"], summary[f"{other}_expected"])]
    claims = []
    for row in summary.itertuples():
        if row.method != "kd":
            claims.append("")
            continue
        partners = summary[(summary["tier"] == row.tier) & (summary["task"] == row.task)
                           & (summary["student"] == row.student) & (summary["method"] == "ls")]
        claims.append(_claim_a(row.direction, row.n, partners))
    summary["claim_a"] = claims
    summary["statement"] = [f"{row.task}, {row.student}: {comparison_label(row.method, row.alpha, row.temperature, row.teacher)} "
                            f"{WORDS[row.direction]} {metric} ({row.baseline:.3f} → {row.value:.3f}; {interval_text(row)})"
                            for row in summary.itertuples()]
    return summary


def claim_a_text(verdicts: pd.DataFrame) -> str:
    """One plain line per KD comparison: its direction, the kit's and the paper's judgement and claim (a)."""
    check_columns(verdicts, ["method", "statement", "kit", "paper", "claim_a"], "verdicts")
    lines = [f"{row.statement} — prediction: {JUDGEMENTS[row.kit].replace('**', '')}; paper: "
             f"{JUDGEMENTS[row.paper].replace('**', '')}; claim (a): {row.claim_a}"
             for row in verdicts.itertuples() if row.method == "kd"]
    return "\n".join(lines) if lines else "no KD runs to judge"


def main_table(frame: pd.DataFrame, metrics: Sequence[str] = ("accuracy", "entropy", "max_prob", "nll", "ece"),
               digits: int = 3) -> pd.DataFrame:
    """Display table: one row per group, each metric as ``'mean ± half-width'`` over seeds, plus ``n``."""
    summary = seed_summary(frame, metrics=metrics)
    table = summary[GROUP_COLUMNS + ["n"]].copy()
    for metric in metrics:
        table[metric] = [format_ci(m, h, digits) for m, h in zip(summary[metric], summary[f"{metric}_ci"])]
    return table
