"""Claim (b) as a line: student entropy against teacher entropy over teacher means, and the sentences about it.

* :func:`inheritance_fit` fits one point per teacher run (the mean over its KD students' seeds:
  ``helpers.experiments.sweeps.inheritance_points``); a slope, r or crossover is reported only with at least
  :data:`MIN_TEACHERS_FOR_FIT` distinct teachers (teacher *settings*: the runs of one setting are one teacher).
* The line comes with its 95% band; the **crossover** — where it meets the ERM students' mean entropy — with Fieller's
  interval (the ERM mean's standard error included; unbounded when the slope's interval contains 0), and
  leave-one-teacher-out slopes beside the slope (``helpers.maths.regression``).
* With several independent teacher training runs (teacher seeds), each giving a whole ladder, the slope and the
  crossover are also fitted **per run** and read over runs (a t-interval on runs − 1 degrees of freedom: the teacher
  run as the unit, as in the verdicts); the claims then rest on that reading, since the checkpoints of one run are not
  independent points.
* :func:`inheritance_text` claims "below the student's own entropy" or "slope below 1" only when the interval says so,
  and says when the teachers are not independent (checkpoints or rescalings of one training run).

Entropies are in nats.
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.maths.regression import CrossingCI, LineFit, fit_line, leave_one_out_slopes
from helpers.maths.statistics import MeanCI, check_columns, mean_ci

__all__ = [
    "MIN_TEACHERS_FOR_FIT",
    "InheritanceFit",
    "inheritance_fit",
    "inheritance_text",
    "knob_text",
]

MIN_TEACHERS_FOR_FIT = 4  # a line through fewer teacher means (e.g. two clusters) has |r| ≈ 1 whatever the data


class InheritanceFit:
    """A line through teacher means, or the reason there is none (fewer than :data:`MIN_TEACHERS_FOR_FIT` teachers).

    ``erm_entropy`` / ``erm_se``: the ERM students' mean entropy and its standard error (the crossover's level);
    ``teachers``: distinct teacher settings; ``training_runs``: distinct training runs behind the points (None when
    the points do not say); ``leave_one_out``: the slope with each teacher left out; ``run_slopes`` /
    ``run_crossings``: the slope and crossover over independent training runs (a line per run with at least three
    distinct teachers; None with fewer than two such runs).
    """

    def __init__(self, points: pd.DataFrame, erm_entropy: float, fit: LineFit | None, reason: str = "",
                 erm_se: float = 0.0, teachers: int = 0, training_runs: int | None = None,
                 leave_one_out: dict | None = None, run_slopes: MeanCI | None = None,
                 run_crossings: MeanCI | None = None) -> None:
        self.points, self.erm_entropy, self.fit, self.reason = points, float(erm_entropy), fit, reason
        self.erm_se, self.teachers, self.training_runs = float(erm_se), int(teachers), training_runs
        self.leave_one_out = dict(leave_one_out or {})
        self.run_slopes, self.run_crossings = run_slopes, run_crossings
        self.x_range = (float(points["teacher_entropy"].min()), float(points["teacher_entropy"].max())) \
            if len(points) else (math.nan, math.nan)

    @property
    def slope_interval(self) -> tuple[float, float] | None:
        """The slope's 95% interval the claims rest on: over independent runs when there are some, else the fit's."""
        if self.run_slopes is not None:
            return self.run_slopes.low, self.run_slopes.high
        return None if self.fit is None else (self.fit.slope_low, self.fit.slope_high)

    @property
    def crossover_interval(self) -> CrossingCI | None:
        """The crossover with its 95% interval (None without a fit): over independent runs when there are some (the
        mean of the runs' crossovers with its t-interval; unbounded when the slope's interval over runs is not above 0
        or some run's line does not rise), else the pooled fit's Fieller interval."""
        if self.fit is None:
            return None
        if self.run_slopes is not None:
            runs = self.run_crossings
            if runs is None or not self.run_slopes.low > 0:
                return CrossingCI(self.fit.crossing(self.erm_entropy), -math.inf, math.inf, False)
            return CrossingCI(runs.mean, runs.low, runs.high, True)
        return self.fit.crossing_interval(self.erm_entropy, self.erm_se)

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
                    minimum: int = MIN_TEACHERS_FOR_FIT, erm_se: float = 0.0) -> InheritanceFit:
    """Fit student entropy on ``x`` over **teacher means** (one row per teacher run:
    ``helpers.experiments.sweeps.inheritance_points``); no fit below ``minimum`` distinct teachers (the reason says
    so). Teachers are the ``label`` column's settings when the points have one (the runs of a setting are one
    teacher), else their ``teacher`` spellings, else the distinct ``x`` values. ``erm_se`` is the standard error of ``erm_entropy`` (sd / √n over the
    ERM students), carried into the crossover's Fieller interval."""
    check_columns(points, [x, "student_entropy"], "points")
    if "point" in points.columns and points["point"].duplicated().any():
        raise ValueError("points must hold one row per teacher (teacher means), not one per seed")
    if erm_se < 0 or not math.isfinite(erm_se):
        raise ValueError(f"erm_se must be a finite number >= 0, got erm_se={erm_se!r}")
    frame = points if x == "teacher_entropy" else \
        points.drop(columns=["teacher_entropy"], errors="ignore").rename(columns={x: "teacher_entropy"})
    name = next((c for c in ("label", "teacher") if c in frame.columns), None)
    groups = frame[name].astype(str) if name else frame["teacher_entropy"].round(6)
    teachers = int(groups.nunique())
    training_runs = int(frame["training_run"].nunique()) if "training_run" in frame.columns else None
    distinct_x = int(frame["teacher_entropy"].round(6).nunique())
    if min(teachers, distinct_x) < minimum:
        count = min(teachers, distinct_x)
        return InheritanceFit(frame, erm_entropy, None, f"only {count} distinct teacher{'s' if count != 1 else ''} "
                                                        f"(a slope, r or crossover needs at least {minimum})",
                              erm_se, teachers, training_runs)
    fit = fit_line(frame["teacher_entropy"], frame["student_entropy"])
    loo = leave_one_out_slopes(frame["teacher_entropy"], frame["student_entropy"], groups.tolist())
    slopes, crossings = _per_run(frame, erm_entropy)
    return InheritanceFit(frame, erm_entropy, fit, "", erm_se, teachers, training_runs, loo, slopes, crossings)


def _per_run(frame: pd.DataFrame, erm_entropy: float) -> tuple[MeanCI | None, MeanCI | None]:
    """Slope and crossover over the independent training runs that hold a line each (at least three distinct
    teachers): their means with t-intervals over runs; ``(None, None)`` with fewer than two such runs."""
    if "training_run" not in frame.columns:
        return None, None
    lines = [fit_line(part["teacher_entropy"], part["student_entropy"])
             for _, part in frame.groupby("training_run", sort=False) if part["teacher_entropy"].round(6).nunique() >= 3]
    if len(lines) < 2:
        return None, None
    slopes = mean_ci([line.slope for line in lines])
    rising = all(line.slope > 0 for line in lines)
    crossings = mean_ci([line.crossing(erm_entropy) for line in lines]) if rising else None
    return slopes, crossings


def _independence(result: InheritanceFit) -> str:
    points, runs = len(result.points), result.training_runs
    if runs is None or runs >= points or result.run_slopes is not None:
        return ""
    if runs == 1:
        return (f" The {points} teachers come from **one training run** (its checkpoints or rescalings), so they are not "
                f"independent teachers: the intervals treat them as independent and hold only **conditional on that "
                f"teacher run**.")
    return (f" The {points} points come from {runs} training runs (checkpoints or rescalings of a run share it), so "
            f"they are not all independent: read the intervals as approximate.")


def _leave_one_out_text(result: InheritanceFit) -> str:
    slopes = {k: v for k, v in result.leave_one_out.items() if math.isfinite(v)}
    if not slopes:
        return ""
    name, value = max(slopes.items(), key=lambda item: abs(item[1] - result.fit.slope))
    return (f" Leaving one teacher out, the slope ranges over {min(slopes.values()):.2f}–{max(slopes.values()):.2f} "
            f"(the most influential: without {name}, {value:.2f}).")


def inheritance_text(result: InheritanceFit, context: str, x_name: str = "teacher test entropy") -> str:
    """Plain words on claim (b) from an :func:`inheritance_fit`. ``context`` names what was fitted — the tier, the
    student, α and τ (e.g. ``'fine-tuned tier, trec, L1 students, KD α=0.5 τ=4'``)."""
    points = len(result.points)
    if result.fit is None:
        return (f"{context}: {points} teacher point{'s' if points != 1 else ''} — {result.reason}, so no line is fitted "
                f"and nothing is claimed about the slope.")
    fit = result.fit
    low, high = result.x_range
    established = (fit.r_low > 0) if fit.r > 0 else (fit.r_high < 0)  # the r interval excludes 0
    tightness = ("a tight" if abs(fit.r) >= 0.8 else "a moderate" if abs(fit.r) >= 0.5 else "a loose") \
        if established else "no established"
    over = f"{fit.n} teachers" if result.teachers == fit.n else f"{fit.n} teacher runs of {result.teachers} teachers"
    text = (f"{context}: over {over} (one point each: the mean over its students' seeds), student entropy "
            f"{'rises' if fit.slope > 0 else 'falls'} with {x_name}: slope {fit.slope:.2f} (95% CI [{fit.slope_low:.2f}, "
            f"{fit.slope_high:.2f}]); r = {fit.r:.2f} (95% CI [{fit.r_low:.2f}, {fit.r_high:.2f}]): {tightness} relation.")
    text += _leave_one_out_text(result)
    slope_low, slope_high = result.slope_interval
    if result.run_slopes is not None:
        runs = result.run_slopes
        text += (f" Fitted within each of the {runs.n} independent teacher runs (the unit of replication), the slope is "
                 f"{runs.mean:.2f} (95% CI over runs [{runs.low:.2f}, {runs.high:.2f}]); the claims below rest on it.")
    if slope_high < 1:
        text += " The whole slope interval lies **below 1**: the student inherits only part of a change in its teacher's entropy."
    elif slope_low <= 1 <= slope_high:
        text += " Whether the slope is below 1 is not decided: its interval contains 1."
    crossing = result.crossover_interval
    if not slope_low > 0 or crossing is None or not crossing.bounded:
        text += " The slope's interval is not above 0, so no crossover is claimed (its interval would be unbounded)."
    else:
        erm = result.erm_entropy
        where = "inside" if low <= crossing.point <= high else "**outside**"
        kind = "95% CI over runs" if result.run_crossings is not None else "95% Fieller interval"
        text += (f" The line meets the ERM students' entropy ({erm:.3f}) at a {x_name} of {crossing.point:.3f} "
                 f"({kind} [{crossing.low:.3f}, {crossing.high:.3f}]), {where} the observed range "
                 f"[{low:.3f}, {high:.3f}]")
        if where == "inside":
            text += ": the crossover, where KD's direction flips."
            if crossing.low < low or crossing.high > high:
                text += " Its interval reaches beyond the observed teachers."
        else:
            text += ": an extrapolation, so no crossover is claimed."
        if where == "inside" and crossing.high < erm:
            text += (f" The whole interval lies **below** the ERM students' own entropy: a teacher must be clearly more "
                     f"confident than the student would become alone (here below {crossing.point:.3f} nats, not "
                     f"{erm:.3f}) before KD lowers the student's entropy.")
            if slope_high < 1:
                text += " With the slope below 1 too: **partial inheritance**."
        elif where == "inside" and crossing.low <= erm <= crossing.high:
            text += (" Whether it lies below the students' own entropy is not decided: the interval contains "
                     f"{erm:.3f}.")
    if slope_high < 0:
        text += " **The data contradict claim (b) here:** the student's entropy falls as its teacher's rises."
    elif not slope_low > 0:
        text += " Claim (b) is **not confirmed** by these points."
    else:
        text += " That is claim (b): the student inherits its teacher's confidence."
    return text + _independence(result)


def knob_text(points: pd.DataFrame) -> str:
    """Per knob of an inheritance experiment: the span of teacher entropies and of the students' mean entropies, and
    the span of teacher and student accuracies (confidence moves; does correctness?)."""
    check_columns(points, ["knob", "teacher_entropy", "student_entropy", "teacher_accuracy", "student_accuracy"], "points")
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
