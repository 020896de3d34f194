"""The verdicts and the sentences about measured numbers: every notebook sentence that states a result comes from here.

* :func:`verdict_table` pairs each LS or KD run with the ERM run of the same tier, task, student and seed
  (``helpers.maths.statistics``), reads a direction from the 95% t-interval and the negligible band, corrects the
  family with Holm's method, and judges each comparison against the pre-declared hypotheses of
  ``helpers.maths.hypotheses``: the kit's (LS raises entropy; KD moves it towards its teacher, predicted from
  **validation** entropies) and the paper's per setting (standard and self KD lower it, reverse KD raises it).
* Claim (a) is judged per KD comparison only where the same tier, task and student has an LS comparison;
  claim (b) is the kit's KD hypothesis. Missing partners read *not testable*, never *contradicts*.
* Inheritance fits are on teacher means (one point per teacher); a slope, r or crossover is reported only with at
  least :data:`MIN_TEACHERS_FOR_FIT` distinct teachers, and a crossover only inside the observed teacher range.

Entropies are in nats.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.maths.hypotheses import (
    HYPOTHESES_TEXT,
    JUDGEMENTS,
    judge,
    kd_expectation,
    kd_setting,
    kit_expectation,
    model_size,
    paper_expectation,
)
from helpers.maths.statistics import (
    GROUP_COLUMNS,
    METRICS,
    NEGLIGIBLE_ENTROPY,
    LineFit,
    check_columns,
    difference_summary,
    fit_line,
    format_ci,
    holm,
    mean_ci,
    paired_differences,
    seed_summary,
    t_quantile,
)

_check_columns = check_columns

__all__ = [
    "MIN_TEACHERS_FOR_FIT",
    "TIER_NAMES",
    "tier_name",
    "verdict_table",
    "claim_a_text",
    "main_table",
    "negligible_text",
    "hypotheses_text",
    "statistics_primer",
    "verdict_markdown",
    "claim_a_markdown",
    "expectation_markdown",
    "inheritance_check",
    "inheritance_check_markdown",
    "findings_markdown",
    "InheritanceFit",
    "inheritance_fit",
    "inheritance_text",
    "shipped_summary",
    "sweep_text",
    "band_text",
    "knob_text",
    "tightness_text",
    "teacher_quality_text",
    "virtual_teacher_text",
]

MIN_TEACHERS_FOR_FIT = 4  # a line through fewer teacher means (e.g. two clusters) has |r| ≈ 1 whatever the data
TIER_NAMES = {"finetune": "fine-tuned tier", "features": "frozen-feature tier", "paper": "paper-scale tier"}
_WORDS = {"down": "lowered", "up": "raised", "unclear": "did not clearly change", "negligible": "did not change",
          "down-small": "lowered, by less than the negligible band,", "up-small": "raised, by less than the negligible band,",
          "down?": "lowered (one seed, untested)", "up?": "raised (one seed, untested)"}
_CLEAN = {"up": "up", "down": "down"}  # the directions that count as a practical change


def tier_name(tier: str) -> str:
    """``'fine-tuned tier'``, ``'frozen-feature tier'``, … (the tier code itself for unknown tiers)."""
    return TIER_NAMES.get(str(tier), str(tier))


# --------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------


def _what(method: str, alpha: float, temperature, teacher: str) -> str:
    if method == "ls":
        return f"LS α={alpha:g}"
    if method == "kd":
        return f"KD α={alpha:g} τ={float(temperature):g} ← {teacher}"
    return str(method)


def _claim_a(kd_direction: str, kd_n: int, ls_rows: pd.DataFrame) -> str:
    """Claim (a) for one KD comparison against the LS comparison of the same tier, task and student."""
    ls_rows = ls_rows[ls_rows["n"] >= 2]
    if ls_rows.empty:
        return "not testable: no LS comparison with an interval for this student"
    if kd_n < 2:
        return "not testable: one seed"
    ls_direction = _CLEAN.get(ls_rows["direction"].iloc[0])
    kd = _CLEAN.get(kd_direction)
    if ls_direction is None or kd is None:
        return "undecided: a direction is unclear or negligible"
    return "opposite directions (claim a holds)" if ls_direction != kd else "same direction (claim a fails)"


def verdict_table(frame: pd.DataFrame, expectations: pd.DataFrame | None = None, metric: str = "entropy",
                  level: float = 0.95, negligible: float = NEGLIGIBLE_ENTROPY) -> pd.DataFrame:
    """Paired (method − ERM) differences per group, judged against the pre-declared hypotheses.

    ``expectations`` (``helpers.experiments.sweeps.kd_expectations``: ``tier, task, student, teacher, teacher_entropy,
    erm_entropy`` on the validation split) gives each KD comparison its teacher-aware prediction; without it a KD
    comparison has no kit prediction (*not testable*). Columns added to ``difference_summary``'s: ``setting``,
    ``holm_p`` / ``holm`` (Holm-adjusted p over the whole table / rejected at 5%), ``seeds_up`` / ``seeds_down``
    (per-seed signs), ``teacher_val_entropy``, ``erm_val_entropy``, ``expected`` (kit) and ``kit``
    (:func:`helpers.maths.hypotheses.judge`), ``paper_expected`` and ``paper``, ``claim_a`` and a plain-words ``statement``.
    """
    differences = paired_differences(frame, metric)
    summary = difference_summary(differences, level, negligible)
    signs = differences.assign(up=differences["difference"] > 0, down=differences["difference"] < 0)
    signs = signs.groupby(GROUP_COLUMNS, sort=False, dropna=False)[["up", "down"]].sum().reset_index()
    summary = summary.merge(signs.rename(columns={"up": "seeds_up", "down": "seeds_down"}), on=GROUP_COLUMNS, how="left")
    summary.insert(3, "setting", [kd_setting(s, t) if m == "kd" else "" for s, t, m in
                                  zip(summary["student"], summary["teacher"], summary["method"])])
    summary["holm_p"], summary["holm"] = holm(summary["p"].to_numpy(float), 1.0 - level)
    teacher_h = pd.Series(np.nan, index=summary.index)
    erm_h = pd.Series(np.nan, index=summary.index)
    if expectations is not None and not expectations.empty:
        check_columns(expectations, ["tier", "task", "student", "teacher", "teacher_entropy", "erm_entropy"], "expectations")
        lookup = {(r.tier, r.task, r.student, r.teacher): (r.teacher_entropy, r.erm_entropy)
                  for r in expectations.itertuples()}
        for i, row in summary.iterrows():
            if row["method"] == "kd":
                teacher_h[i], erm_h[i] = lookup.get((row["tier"], row["task"], row["student"], row["teacher"]),
                                                    (np.nan, np.nan))
    summary["teacher_val_entropy"], summary["erm_val_entropy"] = teacher_h, erm_h
    summary["expected"] = pd.Series([kit_expectation(m, t, e) for m, t, e in zip(summary["method"], teacher_h, erm_h)],
                                    index=summary.index, dtype=object)
    summary["kit"] = [judge(d, e) for d, e in zip(summary["direction"], summary["expected"])]
    summary["paper_expected"] = pd.Series([paper_expectation(m, s) for m, s in zip(summary["method"], summary["setting"])],
                                          index=summary.index, dtype=object)
    summary["paper"] = [judge(d, e) for d, e in zip(summary["direction"], summary["paper_expected"])]
    claims = []
    for row in summary.itertuples():
        if row.method != "kd":
            claims.append("")
            continue
        partners = summary[(summary["tier"] == row.tier) & (summary["task"] == row.task)
                           & (summary["student"] == row.student) & (summary["method"] == "ls")]
        claims.append(_claim_a(row.direction, row.n, partners))
    summary["claim_a"] = claims
    statements = []
    for row in summary.itertuples():
        interval = f"[{row.low:+.3f}, {row.high:+.3f}]" if not math.isnan(row.low) else "none (one seed)"
        statements.append(f"{row.task}, {row.student}: {_what(row.method, row.alpha, row.temperature, row.teacher)} "
                          f"{_WORDS[row.direction]} {metric} ({row.baseline:.3f} → {row.value:.3f}; Δ = "
                          f"{row.difference:+.3f}, 95% CI {interval}, n={row.n})")
    summary["statement"] = statements
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


# --------------------------------------------------------------------------------------------
# Rendering: the notebooks' sentences about measured numbers come from here (Markdown strings)
# --------------------------------------------------------------------------------------------


def hypotheses_text() -> str:
    """The pre-declared hypotheses (``helpers.maths.hypotheses``), in one paragraph."""
    return HYPOTHESES_TEXT


def negligible_text(negligible: float = NEGLIGIBLE_ENTROPY) -> str:
    """How the verdicts read an interval (the negligible band is a constant of the kit, not a measurement)."""
    return (f"**How to read a verdict.** Each LS or KD run is paired with the ERM run of the same tier, task, student and "
            f"seed; the 95% t-interval of the per-seed differences and their mean decide the words. An interval above 0 "
            f"reads *raised* (below 0: *lowered*) when the mean change is at least {negligible:g} nats — the *negligible "
            f"band* (`helpers.maths.statistics.NEGLIGIBLE_ENTROPY`); with a smaller mean it reads *raised, by less than the "
            f"negligible band* — real, but too small to matter. An interval lying entirely inside ±{negligible:g} nats "
            f"reads *did not change*; one that crosses 0 and leaves the band, *did not clearly change*. With one seed "
            f"there is no interval: the sign is reported and flagged *untested*. Many comparisons at 95% each would make "
            f"about one in twenty null comparisons look real, so the family is also read with **Holm's correction** "
            f"(a † marks a direction that does not survive it).")


def statistics_primer(n: int = 5, level: float = 0.95) -> str:
    """A short primer on the verdicts' statistics, with the t critical values computed (not typed)."""
    rows = ", ".join(f"n = {k}: t = {t_quantile(0.5 + level / 2, k - 1):.3f}" for k in (3, 5, 8, 10))
    return (f"**Paired differences.** Each LS or KD student shares its seed — data order and initial weights — with an "
            f"ERM student, so we look at the per-seed differences d₁ … dₙ: the seed-to-seed noise they share cancels. "
            f"**The interval** is mean(d) ± t · sd(d) / √n, with t the {level:.1%}-two-sided critical value of Student's t "
            f"with n − 1 degrees of freedom ({rows}). With n = 3 the multiplier is more than twice the normal 1.96: three "
            f"seeds buy a wide interval. With n = {n}: t = {t_quantile(0.5 + level / 2, n - 1):.3f}. **The negligible "
            f"band** (±{NEGLIGIBLE_ENTROPY:g} nats) separates *is there a change* (does the interval exclude 0?) from *does "
            f"it matter* (is the mean change at least the band? is the whole interval inside it?). **A family** of m "
            f"comparisons is read with Holm's correction: sort the p-values, compare the k-th smallest with "
            f"0.05 / (m − k + 1), stop at the first that fails.")


def _interval(row) -> str:
    if isinstance(row.low, float) and math.isnan(row.low):
        return f"Δ = {row.difference:+.3f}, one seed"
    return f"Δ = {row.difference:+.3f}, 95% CI [{row.low:+.3f}, {row.high:+.3f}], n = {row.n}"


def _dagger(row) -> str:
    return "" if getattr(row, "holm", True) or row.direction in ("unclear", "negligible") or row.n < 2 else " †"


def _prediction(row) -> str:
    if row.method == "ls":
        return "prediction *up*"
    if row.expected is None or (isinstance(row.expected, float) and math.isnan(row.expected)):
        if isinstance(row.teacher_val_entropy, float) and math.isnan(row.teacher_val_entropy):
            return "no prediction (the teacher's validation entropy is not measured)"
        return (f"no prediction (teacher {row.teacher_val_entropy:.3f} ≈ ERM {row.erm_val_entropy:.3f} nats on "
                f"validation)")
    sign = "<" if row.expected == "down" else ">"
    return (f"prediction *{row.expected}* (teacher {row.teacher_val_entropy:.3f} {sign} ERM {row.erm_val_entropy:.3f} "
            f"nats on validation)")


def verdict_markdown(verdicts: pd.DataFrame) -> str:
    """One bullet per comparison of a :func:`verdict_table`, grouped by tier, task and student: what moved, the kit's
    prediction and how the result stands against it, and against the paper's statement for the setting."""
    check_columns(verdicts, ["tier", "task", "student", "method", "alpha", "temperature", "teacher", "direction",
                             "difference", "low", "high", "n", "baseline", "value", "kit", "paper", "expected",
                             "paper_expected", "setting"], "verdicts")
    if verdicts.empty:
        return "_No LS or KD run has an ERM partner of the same seed: nothing to judge._"
    lines = []
    for (tier, task, student), group in verdicts.groupby(["tier", "task", "student"], sort=False):
        lines.append(f"**{tier_name(tier)}, {task}, student {student}** (ERM test entropy {group['baseline'].iloc[0]:.3f} "
                     f"nats):")
        lines.append("")
        for row in group.itertuples():
            paper = ("paper: LS raises it" if row.method == "ls" else
                     f"paper ({row.setting} KD {'raises' if row.paper_expected == 'up' else 'lowers'} it)"
                     if row.paper_expected else "paper: no statement")
            lines.append(f"* {_what(row.method, row.alpha, row.temperature, row.teacher)}: {_WORDS[row.direction]} the "
                         f"entropy ({_interval(row)}){_dagger(row)} — {_prediction(row)}: {JUDGEMENTS[row.kit]}; "
                         f"{paper}: {_of_paper(row.paper)}.")
        lines.append("")
    return "\n".join(lines).rstrip()


def _of_paper(judgement: str) -> str:
    """A judgement against the paper's statement, worded as such (not as the kit's prediction)."""
    return {"as predicted": "as the paper says"}.get(judgement, JUDGEMENTS[judgement].replace("prediction", "paper's statement"))


def _count(n: int, of: int) -> str:
    return f"{n} of {of}"


def _tally(series: pd.Series, keys: Sequence[str]) -> str:
    counts = series.value_counts()
    return ", ".join(f"{JUDGEMENTS[k].replace('**', '')}: {int(counts[k])}" for k in keys if k in counts)


def claim_a_markdown(verdicts: pd.DataFrame, label: str | None = None) -> str:
    """Per tier: LS against its prediction; KD against the kit's prediction and the paper's per setting; claim (a)
    where testable, split by whether the teacher was more or less confident than the ERM student; the family read
    with Holm's correction and as a pooled sign count over seeds."""
    check_columns(verdicts, ["tier", "method", "direction", "n", "kit", "paper", "claim_a", "expected", "holm",
                             "seeds_up", "seeds_down", "setting"], "verdicts")
    if verdicts.empty:
        return "_No LS or KD run has an ERM partner of the same seed: no verdict._"
    parts = []
    order = list(JUDGEMENTS)
    for tier, group in verdicts.groupby("tier", sort=False):
        seeds = sorted(set(int(n) for n in group["n"]))
        head = (f"**{label or tier_name(tier)}** ({len(group)} comparisons, n = {', '.join(map(str, seeds))} "
                f"seed{'s' if seeds != [1] else ''} each)")
        sentences = []
        ls, kd = group[group["method"] == "ls"], group[group["method"] == "kd"]
        if not ls.empty:
            sentences.append(f"LS (predicted: raises entropy) — {_tally(ls['kit'], order)}.")
        if not kd.empty:
            sentences.append(f"KD against the kit's prediction (towards the teacher, from validation entropies) — "
                             f"{_tally(kd['kit'], order)}.")
            for setting, part in kd.groupby("setting", sort=False):
                if part["paper_expected"].notna().any():
                    word = "raises" if part["paper_expected"].iloc[0] == "up" else "lowers"
                    counts = part["paper"].value_counts()
                    tally = ", ".join(f"{_of_paper(k).replace('**', '')}: {int(counts[k])}" for k in order if k in counts)
                    sentences.append(f"{setting.capitalize()} KD against the paper's statement ({setting} KD {word} "
                                     f"entropy) — {tally}.")
            testable = kd[~kd["claim_a"].str.startswith("not testable")]
            if testable.empty:
                sentences.append(f"Claim (a) is **not testable** here: {kd['claim_a'].iloc[0].split(': ', 1)[-1]}.")
            else:
                holds = int(testable["claim_a"].str.startswith("opposite").sum())
                fails = int(testable["claim_a"].str.startswith("same").sum())
                sentence = (f"Claim (a) (KD and LS move entropy in opposite directions): opposite in "
                            f"{_count(holds, len(testable))} KD comparisons with an LS partner, the same direction in "
                            f"{fails}, undecided in {len(testable) - holds - fails}")
                by_side = []
                for side, name in (("down", "more confident than the ERM student"),
                                   ("up", "less confident than the ERM student")):
                    part = testable[testable["expected"] == side]
                    if part.empty:
                        continue
                    opposite = int(part["claim_a"].str.startswith("opposite").sum())
                    same = int(part["claim_a"].str.startswith("same").sum())
                    by_side.append(f"with a teacher {name}: opposite in {_count(opposite, len(part))}, the same "
                                   f"direction in {same}")
                sentences.append(sentence + (" — " + "; ".join(by_side) if by_side else "") + ".")
            judged = kd[kd["expected"].notna() & (kd["n"] >= 2)]
            if not judged.empty:
                agree = int(sum(r.seeds_down if r.expected == "down" else r.seeds_up for r in judged.itertuples()))
                total = int(judged["n"].sum())
                sentences.append(f"Pooled over seeds and settings, {_count(agree, total)} per-seed KD differences went "
                                 f"the predicted way (seeds share ERM runs, so this is a description, not a test).")
        tested = group[(group["n"] >= 2) & group["direction"].isin(["up", "down", "up-small", "down-small"])]
        if not tested.empty:
            survived = int(tested["holm"].sum())
            sentences.append(f"Read as a family of {len(group)} comparisons with Holm's correction at 5%, "
                             f"{_count(survived, len(tested))} directions survive.")
        if (group["n"] == 1).any():
            sentences.append("With one seed these are signs, not tested directions.")
        parts.append(f"{head}: " + " ".join(sentences))
    return "\n\n".join(parts)


def expectation_markdown(expectations: pd.DataFrame) -> str:
    """Plain words for ``helpers.experiments.sweeps.kd_expectations``: each teacher against the ERM student on validation."""
    check_columns(expectations, ["tier", "task", "student", "teacher", "teacher_entropy", "erm_entropy", "erm_ci"],
                  "expectations")
    if expectations.empty:
        return "_No KD teacher with a measured validation entropy._"
    lines = []
    for (tier, task, student), group in expectations.groupby(["tier", "task", "student"], sort=False):
        erm = group.iloc[0]
        parts = []
        for row in group.itertuples():
            expected = kd_expectation(row.teacher_entropy, row.erm_entropy)
            word = {"down": "more confident: predicts *lowered*", "up": "less confident: predicts *raised*",
                    None: "about as confident: no prediction"}[expected]
            parts.append(f"{row.teacher} {row.teacher_entropy:.3f} ({word})")
        lines.append(f"* {tier_name(tier)}, {task}, student {student}: ERM validation entropy "
                     f"{format_ci(erm['erm_entropy'], erm['erm_ci'])} nats; teachers: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def inheritance_check(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The KD rows of a :func:`verdict_table` with ``matches``: True (moved towards the teacher, as predicted),
    False (away from it), None (no clear direction, a negligible one, or no prediction)."""
    check_columns(verdicts, ["method", "kit"], "verdicts")
    kd = verdicts[verdicts["method"] == "kd"].copy()
    kd["matches"] = [True if k == "as predicted" else False if k == "opposite" else None for k in kd["kit"]]
    return kd


def inheritance_check_markdown(check: pd.DataFrame) -> str:
    """Claim (b) per tier: in how many KD comparisons the student moved towards its teacher's confidence."""
    check_columns(check, ["tier", "matches", "kit"], "check")
    if check.empty:
        return "_No KD comparison: claim (b) not checked._"
    lines = []
    for tier, group in check.groupby("tier", sort=False):
        judged = group[group["matches"].notna()]
        towards = int((judged["matches"] == True).sum())  # noqa: E712
        away = len(judged) - towards
        if judged.empty:
            lines.append(f"* {tier_name(tier)}: none of the {len(group)} KD comparisons has both a prediction and a "
                         f"clear direction — claim (b) cannot be judged from these runs.")
            continue
        text = (f"* {tier_name(tier)}: KD moved the student's entropy **towards its teacher's** in "
                f"{_count(towards, len(judged))} comparisons with a prediction and a clear direction")
        if len(judged) < len(group):
            text += f" ({len(group) - len(judged)} more: {_tally(group[group['matches'].isna()]['kit'], list(JUDGEMENTS))})"
        if away == 0:
            text += " — as claim (b) says."
        elif towards == 0:
            text += " — **the data contradict claim (b) here**: KD moved the student away from its teacher."
        else:
            text += f" — and **away from it in {away}**: claim (b) holds only in part here."
        lines.append(text)
    return "\n".join(lines)


def findings_markdown(verdicts_by_label: Mapping[str, pd.DataFrame]) -> str:
    """The closing findings, one entry per source (tier, live or shipped): claim (a) and the predictions
    (:func:`claim_a_markdown`), then claim (b) (:func:`inheritance_check_markdown`). The words follow the data."""
    if not verdicts_by_label:
        raise ValueError("verdicts_by_label must name at least one verdict table")
    lines = []
    for label, verdicts in verdicts_by_label.items():
        lines.append(claim_a_markdown(verdicts, label=label))
        if (verdicts["method"] == "kd").any():
            lines.append(inheritance_check_markdown(inheritance_check(verdicts)))
    return "\n\n".join(line for line in lines if line).strip()


# --------------------------------------------------------------------------------------------
# Inheritance fits (one point per teacher)
# --------------------------------------------------------------------------------------------


class InheritanceFit:
    """A line through teacher means, or the reason there is none (fewer than :data:`MIN_TEACHERS_FOR_FIT`)."""

    def __init__(self, points: pd.DataFrame, erm_entropy: float, fit: LineFit | None, reason: str = "") -> None:
        self.points, self.erm_entropy, self.fit, self.reason = points, float(erm_entropy), fit, reason
        self.x_range = (float(points["teacher_entropy"].min()), float(points["teacher_entropy"].max())) \
            if len(points) else (math.nan, math.nan)

    @property
    def crossover(self) -> float:
        """Teacher entropy where the line meets the ERM student's entropy (NaN without a fit or a rising slope)."""
        if self.fit is None or not self.fit.slope_low > 0:
            return math.nan
        return self.fit.crossing(self.erm_entropy)

    @property
    def crossover_inside(self) -> bool:
        low, high = self.x_range
        return math.isfinite(self.crossover) and low <= self.crossover <= high


def inheritance_fit(points: pd.DataFrame, erm_entropy: float, x: str = "teacher_entropy",
                    minimum: int = MIN_TEACHERS_FOR_FIT) -> InheritanceFit:
    """Fit student entropy on ``x`` over **teacher means** (one row per teacher: ``helpers.experiments.sweeps.inheritance_points``);
    no fit below ``minimum`` distinct teachers (the reason says so)."""
    check_columns(points, [x, "student_entropy"], "points")
    if "point" in points.columns and points["point"].duplicated().any():
        raise ValueError("points must hold one row per teacher (teacher means), not one per seed")
    distinct = int(points[x].round(6).nunique())
    frame = points if x == "teacher_entropy" else \
        points.drop(columns=["teacher_entropy"], errors="ignore").rename(columns={x: "teacher_entropy"})
    if distinct < minimum:
        return InheritanceFit(frame, erm_entropy, None, f"only {distinct} distinct teacher{'s' if distinct != 1 else ''} "
                                                        f"(a slope, r or crossover needs at least {minimum})")
    return InheritanceFit(frame, erm_entropy, fit_line(frame["teacher_entropy"], frame["student_entropy"]))


def inheritance_text(result: InheritanceFit, context: str, x_name: str = "teacher test entropy") -> str:
    """Plain words on claim (b) from an :func:`inheritance_fit`. ``context`` names what was fitted — the tier, the
    student, α and τ (e.g. ``'fine-tuned tier, trec, L1 students, KD α=0.5 τ=4'``)."""
    points = len(result.points)
    if result.fit is None:
        return (f"{context}: {points} teacher{'s' if points != 1 else ''} — {result.reason}, so no line is fitted and "
                f"nothing is claimed about the slope.")
    fit = result.fit
    low, high = result.x_range
    tightness = "a tight" if abs(fit.r) >= 0.8 else "a moderate" if abs(fit.r) >= 0.5 else "a loose"
    text = (f"{context}: over {fit.n} teachers (one point each: the mean over seeds), student entropy "
            f"{'rises' if fit.slope > 0 else 'falls'} with {x_name}: slope {fit.slope:.2f} (95% CI [{fit.slope_low:.2f}, "
            f"{fit.slope_high:.2f}]); r = {fit.r:.2f} (95% CI [{fit.r_low:.2f}, {fit.r_high:.2f}]): {tightness} relation.")
    cross = result.crossover
    if math.isfinite(cross) and result.crossover_inside:
        text += (f" The line meets the ERM student's entropy ({result.erm_entropy:.3f}) at a {x_name} of {cross:.3f}, "
                 f"inside the observed range [{low:.3f}, {high:.3f}]: the crossover, where KD's direction flips.")
        if cross < result.erm_entropy and fit.slope_high < 1:
            text += (f" The crossover lies **below** the ERM student's own entropy and the slope is below 1: the student "
                     f"inherits only part of its teacher's confidence, so a teacher must be clearly more confident than "
                     f"the student would become alone (here below {cross:.3f} nats, not {result.erm_entropy:.3f}) before KD "
                     f"lowers the student's entropy.")
    elif math.isfinite(cross):
        text += (f" The line would meet the ERM student's entropy ({result.erm_entropy:.3f}) at {cross:.3f}, **outside** "
                 f"the observed teachers' range [{low:.3f}, {high:.3f}]: an extrapolation, so no crossover is claimed.")
    else:
        text += " The slope's interval is not above 0, so no crossover is claimed."
    if fit.slope_high < 0:
        text += " **The data contradict claim (b) here:** the student's entropy falls as its teacher's rises."
    elif not fit.slope_low > 0:
        text += " Claim (b) is **not confirmed** by these points."
    else:
        text += " That is claim (b): the student inherits its teacher's confidence."
    return text


def shipped_summary(shipped, tier: str = "finetune") -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``(main_table, verdict_table, markdown)`` of one tier of shipped results (``helpers.pipeline.shipped.Shipped``), with
    the shipped validation-split expectations when the shipment has them. Labelled *shipped* throughout."""
    results = shipped.results
    students = results[(results["role"] == "student") & (results["tier"] == tier)].drop(columns=["run_id"], errors="ignore")
    if students.empty:
        raise ValueError(f"the shipped results have no {tier!r} students")
    expectations = getattr(shipped, "expectations", None)
    verdicts = verdict_table(students, expectations)
    text = (f"**Shipped results** ({shipped.caption()}).\n\n"
            + claim_a_markdown(verdicts, label=f"shipped {shipped.preset}, {tier_name(tier)}"))
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
    """Plain words on an α/τ sweep (``helpers.experiments.sweeps.sweep_summary``), set against notebook 08's explanation:
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
