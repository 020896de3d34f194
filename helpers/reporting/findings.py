"""The sentences about a verdict table (:func:`helpers.reporting.verdicts.verdict_table`): every notebook sentence that
states a comparison's result, a tally or a finding comes from here, as Markdown.

* Every tally counts **every** outcome — *as predicted*, *no practical change*, *not confirmed* (unclear), *not
  testable*, … — never only the clear ones.
* The paper's statements are tallied only over teachers in the paper's setting; the others are counted as *outside
  the paper's setting*.
* Beside each entropy verdict stands what KD did to accuracy, NLL and ECE (the same paired interval), and
  :func:`transfer_markdown` sets it against what the knowledge-transfer view predicts.
* A KD comparison whose students come from one teacher run says that its inference is **conditional on that teacher
  run**; with several runs, the teacher run is a random effect (``helpers.maths.statistics``).

Entropies are in nats.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import pandas as pd

from helpers.maths.hypotheses import (
    HYPOTHESES_TEXT,
    JUDGEMENTS,
    PAPER_SETTING_MARGIN,
    TRANSFER_EXPECTATION,
    kd_expectation,
    paper_setting_text,
)
from helpers.maths.statistics import NEGLIGIBLE_BANDS, NEGLIGIBLE_ENTROPY, check_columns, format_ci, t_quantile
from helpers.reporting.verdicts import (
    TRANSFER_METRICS,
    WORDS,
    comparison_label,
    interval_text,
    main_table,
    tier_name,
    verdict_table,
)

__all__ = [
    "hypotheses_text",
    "negligible_text",
    "statistics_primer",
    "verdict_markdown",
    "claim_a_markdown",
    "expectation_markdown",
    "inheritance_check",
    "inheritance_check_markdown",
    "transfer_markdown",
    "findings_markdown",
    "shipped_summary",
    "tally",
]

_METRIC_NAMES = {"accuracy": "accuracy", "nll": "NLL", "ece": "ECE", "entropy": "entropy"}


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
            f"there is no interval: the sign is reported and flagged *untested*. Students of **one teacher run** say "
            f"nothing about other runs of that teacher: such a verdict holds *conditional on that teacher run*. Many "
            f"comparisons at 95% each would make about one in twenty null comparisons look real, so the family is also "
            f"read with **Holm's correction** (a † marks a direction that does not survive it). Accuracy, NLL and ECE "
            f"are read the same way, each with its own band ({_bands_text()}).")


def _bands_text() -> str:
    units = {"entropy": " nats", "nll": " nats"}
    return ", ".join(f"{_METRIC_NAMES[m]} ±{NEGLIGIBLE_BANDS[m]:g}{units.get(m, '')}" for m in ("accuracy", "nll", "ece"))


def statistics_primer(n: int = 5, level: float = 0.95) -> str:
    """A short primer on the verdicts' statistics, with the t critical values computed (not typed)."""
    rows = ", ".join(f"n = {k}: t = {t_quantile(0.5 + level / 2, k - 1):.3f}" for k in (3, 5, 8, 10))
    return (f"**Paired differences.** Each LS or KD student shares its seed — data order and initial weights — with an "
            f"ERM student, so we look at the per-seed differences d₁ … dₙ: the seed-to-seed noise they share cancels. "
            f"**The interval** is mean(d) ± t · sd(d) / √n, with t the {level:.1%}-two-sided critical value of Student's t "
            f"with n − 1 degrees of freedom ({rows}). With n = 3 the multiplier is more than twice the normal 1.96: three "
            f"seeds buy a wide interval. "
            + (f"With n = {n}: t = {t_quantile(0.5 + level / 2, n - 1):.3f}.\n\n" if n >= 2 else
               f"With n = {n} there is no interval (n − 1 = 0 degrees of freedom): a pooled class's seeds give one.\n\n")
            + f"**Teacher runs.** Students of one teacher run are not independent evidence about the *teacher*: that "
            f"interval holds conditional on the run. With R independent teacher runs per teacher, each with its own "
            f"students, the kit reads a comparison with a **linear mixed model** (`statsmodels` MixedLM, REML): "
            f"d = μ + (teacher run) + (student seed, where the runs share seeds and so share ERM partners) + noise, the "
            f"run and seed as random intercepts; the interval is μ̂ ± t · se(μ̂) with R − 1 degrees of freedom "
            f"(R = 3: t = {t_quantile(0.5 + level / 2, 2):.3f}). Why not a bootstrap over teacher runs: three runs give "
            f"ten distinct resamples, and a percentile interval from them is far too narrow; the t reference on R − 1 "
            f"degrees of freedom is honest about how little three runs know.\n\n"
            f"**The negligible band** (±{NEGLIGIBLE_ENTROPY:g} nats) separates *is there a change* (does the interval "
            f"exclude 0?) from *does it matter* (is the mean change at least the band? is the whole interval inside it?). "
            f"**The prediction's band** adds the uncertainty of the ERM mean: KD is predicted to move the student only "
            f"when the teacher's validation entropy lies outside the ERM students' 95% interval widened by the band. "
            f"**A family** of m comparisons is read with Holm's correction: sort the p-values, compare the k-th smallest "
            f"with 0.05 / (m − k + 1), stop at the first that fails.\n\n"
            f"**A crossover is a ratio.** Where a fitted line a + b·x meets the ERM level y₀, x* = (y₀ − a) / b. Its "
            f"interval is **Fieller's**: the x for which (y₀ − a − b·x)² ≤ t² · Var(y₀ − a − b·x); it is unbounded when "
            f"the slope's interval contains 0. With few teachers one point can decide a slope, so the slope comes with "
            f"the slopes fitted with each teacher left out.")


def _dagger(row) -> str:
    return "" if getattr(row, "holm", True) or row.direction in ("unclear", "negligible") or row.n < 2 else " †"


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _prediction(row) -> str:
    if row.method == "ls":
        return "prediction *up*"
    if _is_missing(row.expected):
        if _is_missing(row.teacher_val_entropy):
            return "no prediction (the teacher's validation entropy is not measured)"
        return (f"no prediction (teacher {row.teacher_val_entropy:.3f} vs ERM {row.erm_val_entropy:.3f} nats on "
                f"validation: within the ERM interval widened by the band)")
    sign = "<" if row.expected == "down" else ">"
    return (f"prediction *{row.expected}* (teacher {row.teacher_val_entropy:.3f} {sign} ERM {row.erm_val_entropy:.3f} "
            f"nats on validation)")


def _of_paper(judgement: str) -> str:
    """A judgement against the paper's statement, worded as such (not as the kit's prediction)."""
    return {"as predicted": "as the paper says"}.get(judgement, JUDGEMENTS[judgement].replace("prediction", "paper's statement"))


def _paper_clause(row) -> str:
    if row.method == "ls":
        return f"paper: LS raises it: {_of_paper(row.paper)}"
    if row.paper == "outside":
        return f"paper ({row.setting} KD): {JUDGEMENTS['outside']}"
    if _is_missing(row.paper_expected):
        return "paper: no statement"
    word = "raises" if row.paper_expected == "up" else "lowers"
    return f"paper ({row.setting} KD {word} it): {_of_paper(row.paper)}"


def _runs_clause(row) -> str:
    if row.method != "kd":
        return ""
    runs = int(getattr(row, "runs", 1) or 1)
    return " [one teacher run: conditional on it]" if runs == 1 else f" [{runs} teacher runs: a random effect]"


def _transfer_clause(row) -> str:
    parts = []
    for metric in TRANSFER_METRICS:
        if not isinstance(getattr(row, f"{metric}_direction", None), str):
            continue
        values = {name: getattr(row, f"{metric}_{name}") for name in ("difference", "low", "high")}
        values["n"] = row.n
        if _is_missing(values["low"]):
            parts.append(f"{_METRIC_NAMES[metric]} {values['difference']:+.3f}")
        else:
            parts.append(f"{_METRIC_NAMES[metric]} {values['difference']:+.3f} [{values['low']:+.3f}, {values['high']:+.3f}]")
    return f" Beside it: {', '.join(parts)}." if parts else ""


def verdict_markdown(verdicts: pd.DataFrame) -> str:
    """One bullet per comparison of a verdict table, grouped by tier, task and student: what moved, the kit's
    prediction and how the result stands against it, against the paper's statement (only in the paper's setting),
    whether it holds conditional on one teacher run, and KD's paired effects on accuracy, NLL and ECE."""
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
            lines.append(f"* {comparison_label(row.method, row.alpha, row.temperature, row.teacher)}: "
                         f"{WORDS[row.direction]} the entropy ({interval_text(row)}){_dagger(row)}{_runs_clause(row)} — "
                         f"{_prediction(row)}: {JUDGEMENTS[row.kit]}; {_paper_clause(row)}.{_transfer_clause(row)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def tally(series: pd.Series, keys: Sequence[str] = tuple(JUDGEMENTS), paper: bool = False) -> str:
    """Every outcome of a judgement column with its count, in the order of ``keys`` (none left out):
    ``'as predicted: 3, no practical change (the prediction is not confirmed): 1, not confirmed …: 2'``."""
    counts = series.value_counts()
    word = (lambda k: _of_paper(k)) if paper else (lambda k: JUDGEMENTS[k])
    listed = [f"{word(k).replace('**', '')}: {int(counts[k])}" for k in keys if k in counts]
    listed += [f"{k}: {int(counts[k])}" for k in counts.index if k not in keys]
    return ", ".join(listed)


def _claim_a_sentence(kd: pd.DataFrame) -> str:
    testable = kd[~kd["claim_a"].str.startswith("not testable")]
    if testable.empty:
        return f"Claim (a) is **not testable** here: {kd['claim_a'].iloc[0].split(': ', 1)[-1]}."
    holds = int(testable["claim_a"].str.startswith("opposite").sum())
    fails = int(testable["claim_a"].str.startswith("same").sum())
    sentence = (f"Claim (a) (KD and LS move entropy in opposite directions): opposite in {holds} of {len(testable)} KD "
                f"comparisons with an LS partner, the same direction in {fails}, undecided in {len(testable) - holds - fails}")
    if len(testable) < len(kd):
        sentence += f" ({len(kd) - len(testable)} more not testable)"
    by_side = []
    for side, name in (("down", "more confident than the ERM student"), ("up", "less confident than the ERM student")):
        part = testable[testable["expected"] == side]
        if part.empty:
            continue
        opposite = int(part["claim_a"].str.startswith("opposite").sum())
        same = int(part["claim_a"].str.startswith("same").sum())
        by_side.append(f"with a teacher {name}: opposite in {opposite} of {len(part)}, the same direction in {same}")
    return sentence + (" — " + "; ".join(by_side) if by_side else "") + "."


def claim_a_markdown(verdicts: pd.DataFrame, label: str | None = None) -> str:
    """Per tier: LS against its prediction; KD against the kit's prediction and, in the paper's setting only, the
    paper's statement per setting; claim (a) where testable, split by whether the teacher was more or less confident
    than the ERM student; the family read with Holm's correction and as a pooled sign count over seeds. Every tally
    counts every outcome."""
    check_columns(verdicts, ["tier", "method", "direction", "n", "kit", "paper", "claim_a", "expected", "holm",
                             "seeds_up", "seeds_down", "setting"], "verdicts")
    if verdicts.empty:
        return "_No LS or KD run has an ERM partner of the same seed: no verdict._"
    parts = []
    for tier, group in verdicts.groupby("tier", sort=False):
        seeds = sorted(set(int(n) for n in group["n"]))
        head = (f"**{label or tier_name(tier)}** ({len(group)} comparisons, n = {', '.join(map(str, seeds))} "
                f"student{'s' if seeds != [1] else ''} each)")
        sentences = []
        ls, kd = group[group["method"] == "ls"], group[group["method"] == "kd"]
        if not ls.empty:
            sentences.append(f"LS (predicted: raises entropy) — {tally(ls['kit'])}.")
        if not kd.empty:
            runs = kd["runs"] if "runs" in kd.columns else pd.Series(1, index=kd.index)
            if (runs <= 1).all():
                sentences.append("Each KD teacher is **one teacher run**: every KD verdict holds conditional on that run.")
            else:
                count = f"{int(runs.min())}" if runs.min() == runs.max() else f"{int(runs.min())}–{int(runs.max())}"
                sentences.append(f"KD teachers have {count} independent runs each; where there are several, the "
                                 f"teacher run is read as a random effect.")
            sentences.append(f"KD against the kit's prediction (towards the teacher, from validation entropies) — "
                             f"{tally(kd['kit'])}.")
            outside = int((kd["paper"] == "outside").sum())
            for setting, part in kd[kd["paper"] != "outside"].groupby("setting", sort=False):
                if part["paper_expected"].notna().any():
                    word = "raises" if part["paper_expected"].dropna().iloc[0] == "up" else "lowers"
                    sentences.append(f"{setting.capitalize()} KD in the paper's setting against the paper's statement "
                                     f"({setting} KD {word} entropy) — {tally(part['paper'], paper=True)}.")
            if outside:
                sentences.append(f"{outside} KD comparison{'s are' if outside != 1 else ' is'} **outside the paper's "
                                 f"setting** (an earlier checkpoint, a rescaled or a less accurate teacher) and "
                                 f"{'are' if outside != 1 else 'is'} not judged against it.")
            sentences.append(_claim_a_sentence(kd))
            judged = kd[kd["expected"].notna() & (kd["n"] >= 2)]
            if not judged.empty:
                agree = int(sum(r.seeds_down if r.expected == "down" else r.seeds_up for r in judged.itertuples()))
                total = int(judged["n"].sum())
                sentences.append(f"Pooled over seeds and settings, {agree} of {total} per-seed KD differences went "
                                 f"the predicted way (seeds share ERM runs, so this is a description, not a test).")
        tested = group[(group["n"] >= 2) & group["direction"].isin(["up", "down", "up-small", "down-small"])]
        if not tested.empty:
            survived = int(tested["holm"].sum())
            sentences.append(f"Read as a family of {len(group)} comparisons with Holm's correction at 5%, "
                             f"{survived} of {len(tested)} directions survive.")
        if (group["n"] == 1).any():
            sentences.append("With one seed these are signs, not tested directions.")
        parts.append(f"{head}: " + " ".join(sentences))
    return "\n\n".join(parts)


def expectation_markdown(expectations: pd.DataFrame) -> str:
    """Plain words for ``helpers.experiments.sweeps.kd_expectations``: each teacher against the ERM student on validation
    (no prediction within the ERM interval widened by the negligible band)."""
    check_columns(expectations, ["tier", "task", "student", "teacher", "teacher_entropy", "erm_entropy", "erm_ci"],
                  "expectations")
    if expectations.empty:
        return "_No KD teacher with a measured validation entropy._"
    lines = []
    for (tier, task, student), group in expectations.groupby(["tier", "task", "student"], sort=False):
        erm = group.iloc[0]
        parts = []
        for row in group.itertuples():
            expected = kd_expectation(row.teacher_entropy, row.erm_entropy, erm_half=row.erm_ci)
            word = {"down": "more confident: predicts *lowered*", "up": "less confident: predicts *raised*",
                    None: "within the ERM interval widened by the band: no prediction"}[expected]
            parts.append(f"{row.teacher} {row.teacher_entropy:.3f} ({word})")
        lines.append(f"* {tier_name(tier)}, {task}, student {student}: ERM validation entropy "
                     f"{format_ci(erm['erm_entropy'], erm['erm_ci'])} nats; teachers: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def inheritance_check(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The KD rows of a verdict table with ``matches``: True (moved towards the teacher, as predicted), False (away
    from it), None (any other outcome: no clear direction, no practical change, a small one, or no prediction)."""
    check_columns(verdicts, ["method", "kit"], "verdicts")
    kd = verdicts[verdicts["method"] == "kd"].copy()
    kd["matches"] = [True if k == "as predicted" else False if k == "opposite" else None for k in kd["kit"]]
    return kd


def inheritance_check_markdown(check: pd.DataFrame) -> str:
    """Claim (b) per tier, counting every outcome: towards the teacher, away from it, no practical change, unclear, not
    testable. It holds "as claim (b) says" only when every comparison with a prediction moved towards its teacher."""
    check_columns(check, ["tier", "matches", "kit"], "check")
    if check.empty:
        return "_No KD comparison: claim (b) not checked._"
    lines = []
    for tier, group in check.groupby("tier", sort=False):
        predicted = group[group["kit"] != "not testable"]
        towards = int((group["kit"] == "as predicted").sum())
        away = int((group["kit"] == "opposite").sum())
        counts = tally(group["kit"])
        if predicted.empty:
            lines.append(f"* {tier_name(tier)}: none of the {len(group)} KD comparisons has a prediction and an "
                         f"interval — claim (b) cannot be judged from these runs ({counts}).")
            continue
        text = (f"* {tier_name(tier)}: of {len(predicted)} KD comparisons with a prediction, KD moved the student's "
                f"entropy **towards its teacher's** in {towards} and away from it in {away} ({counts})")
        if towards == len(predicted):
            text += " — as claim (b) says."
        elif towards == 0 and away > 0:
            text += " — **the data contradict claim (b) here**: KD moved the student away from its teacher."
        elif towards == 0:
            text += " — claim (b) is **not confirmed** here: no comparison moved clearly towards the teacher."
        else:
            text += " — claim (b) holds only in part here."
        lines.append(text)
    return "\n".join(lines)


def transfer_markdown(verdicts: pd.DataFrame, label: str | None = None) -> str:
    """What KD from teachers in the paper's setting did to accuracy, NLL and ECE, against what the knowledge-transfer
    view predicts (accuracy up, NLL and ECE down: ``helpers.maths.hypotheses.TRANSFER_EXPECTATION``), one line per
    metric with every comparison's interval and a tally of every outcome."""
    check_columns(verdicts, ["tier", "method", "paper"], "verdicts")
    kd = verdicts[(verdicts["method"] == "kd") & (verdicts["paper"] != "outside")]
    kd = kd[[bool(v) for v in kd.get("paper_setting", pd.Series(True, index=kd.index))]]
    name = label or ", ".join(tier_name(t) for t in verdicts["tier"].unique())
    if kd.empty:
        return (f"**{name}**: no KD comparison has a teacher in the paper's setting ({paper_setting_text()}), so "
                f"nothing is read about what KD transfers besides confidence.")
    lines = [f"**{name}** — KD from teachers in the paper's setting ({len(kd)} comparison{'s' if len(kd) != 1 else ''}). "
             f"If KD transfers knowledge, the student's accuracy rises and its NLL and ECE fall:"]
    for metric in TRANSFER_METRICS:
        if f"{metric}_judgement" not in kd.columns:
            continue
        word = {"up": "up", "down": "down"}[TRANSFER_EXPECTATION[metric]]
        each = "; ".join(f"{comparison_label(r.method, r.alpha, r.temperature, r.teacher)} ({r.task}, {r.student}): "
                         f"{interval_text(r._asdict(), prefix=f'{metric}_')}" for r in kd.itertuples())
        lines.append(f"* {_METRIC_NAMES[metric]} (predicted *{word}*) — {tally(kd[f'{metric}_judgement'])}. {each}.")
    return "\n".join(lines)


def findings_markdown(verdicts_by_label: Mapping[str, pd.DataFrame]) -> str:
    """The closing findings, one entry per source (tier, live or shipped): claim (a) and the predictions
    (:func:`claim_a_markdown`), claim (b) (:func:`inheritance_check_markdown`) and what KD transferred besides
    confidence (:func:`transfer_markdown`). The words follow the data."""
    if not verdicts_by_label:
        raise ValueError("verdicts_by_label must name at least one verdict table")
    lines = []
    for label, verdicts in verdicts_by_label.items():
        lines.append(claim_a_markdown(verdicts, label=label))
        if (verdicts["method"] == "kd").any():
            lines.append(inheritance_check_markdown(inheritance_check(verdicts)))
            lines.append(transfer_markdown(verdicts, label=f"{label}, besides confidence"))
    return "\n\n".join(line for line in lines if line).strip()


def shipped_summary(shipped, tier: str = "finetune") -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """``(main_table, verdict_table, markdown)`` of one tier of shipped results (``helpers.learning.shipped.Shipped``),
    with the shipped validation-split expectations when the shipment has them. Labelled *shipped* throughout."""
    results = shipped.results
    students = results[(results["role"] == "student") & (results["tier"] == tier)].drop(columns=["run_id"], errors="ignore")
    if students.empty:
        raise ValueError(f"the shipped results have no {tier!r} students")
    expectations = getattr(shipped, "expectations", None)
    verdicts = verdict_table(students, expectations)
    text = (f"**Shipped results** ({shipped.caption()}).\n\n"
            + claim_a_markdown(verdicts, label=f"shipped {shipped.preset}, {tier_name(tier)}"))
    return main_table(students), verdicts, text
