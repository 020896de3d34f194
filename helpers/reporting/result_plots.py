"""Plots of the experiment notebooks (05-09), in the kit's style (``helpers.reporting.plotting``).

Every function draws on ``ax`` (or ``axes``) when given, else on a new figure, and returns the
Figure. Entropies are in nats; intervals are 95% t-intervals over seeds (``helpers.reporting.verdicts``). One colour
and marker per method (``helpers.reporting.plotting.METHOD_COLORS``) and per teacher
(``helpers.reporting.plotting.teacher_style``, from the teacher's one spelling) in every figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from helpers.maths.regression import CrossingCI, LineFit
from helpers.maths.statistics import NEGLIGIBLE_ENTROPY, check_columns
from helpers.reporting.plotting import (MIN_FONT_SIZE, METHOD_COLORS, PALETTE, method_color, metric_axis_label, plain_text,
                                        reflected_density, set_title, teacher_style)
from helpers.reporting.verdicts import comparison_label, tier_name

METRIC_RANGES = {"accuracy": (0.0, 1.0), "max_prob": (0.0, 1.0), "ece": (0.0, 1.0), "entropy": (0.0, math.inf),
                 "nll": (0.0, math.inf)}

__all__ = [
    "METRIC_RANGES",
    "CURVE_COLORS",
    "inheritance_title",
    "entropies_by_run",
    "entropies_by_label",
    "entropy_density_plot",
    "length_histogram",
    "difference_plot",
    "inheritance_plot",
    "sweep_plot",
    "projection_plot",
]

#: Marker shape, colour and legend text of each knob of an inheritance experiment: every knob its own shape *and*
#: colour (the converged reference teacher a large black star), none of them the ERM blue or the fit's KD green.
_KNOB_STYLES = {"reference": ("*", "black", 15, "converged teacher"),
                "ls α": ("s", PALETTE[4], 8, "teacher trained with LS (α varied)"),
                "epochs": ("o", PALETTE[5], 8, "teacher stopped after fewer epochs"),
                "logit scale": ("^", PALETTE[3], 9, "converged teacher, logits rescaled")}
_GROUP_STYLES = (("o", PALETTE[5]), ("s", PALETTE[4]), ("D", PALETTE[3]), ("^", PALETTE[9]), ("v", "black"),
                 ("P", PALETTE[1]))

#: A qualitative, colour-blind-safe palette for curves that are *not* the kit's fixed methods (several KD
#: temperatures, several runs): distinguishable colours, not shades of one hue. The LS orange, ERM blue and
#: the teacher grey are left out, so those keep their meaning.
CURVE_COLORS: tuple[str, ...] = (PALETTE[2], PALETTE[4], "black", PALETTE[9], PALETTE[5], PALETTE[8], PALETTE[3])


def _figure(ax: Axes | None, figsize=(6.4, 4.0)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def entropies_by_run(records: Sequence, teacher=None) -> dict[str, np.ndarray]:
    """Per-example test entropies keyed for ``helpers.reporting.plotting.entropy_distribution``.

    The run whose config is ``teacher`` is ``"teacher"``; the first ERM, LS and KD runs are ``"erm"``,
    ``"ls"``, ``"kd"`` (the kit's colours); further runs are keyed by their label.
    """
    from helpers.maths.metrics import entropy

    curves: dict[str, np.ndarray] = {}
    for record in records:
        config = record.config
        key = "teacher" if teacher is not None and config == teacher else config.method
        if key in curves:
            key = config.label() + (f" ×{config.teacher_logit_scale:g}" if config.teacher_logit_scale != 1 else "")
        curves[key] = entropy(record.logits["test"]).numpy()
    if not curves:
        raise ValueError("records is empty")
    return curves


def length_histogram(lengths: Mapping[str, Sequence[int]], ax: Axes | None = None) -> Figure:
    """Histogram of tokens per example (one step curve per task), medians marked."""
    if not lengths:
        raise ValueError("lengths must map at least one task to its token counts")
    fig, ax = _figure(ax)
    top = max(int(np.max(v)) for v in lengths.values())
    bins = np.arange(0, top + 2)
    for i, (task, values) in enumerate(lengths.items()):
        values = np.asarray(values)
        color = PALETTE[i % len(PALETTE)]
        ax.hist(values, bins=bins, histtype="step", density=True, linewidth=2, color=color,
                label=f"{task} (median {np.median(values):.0f})")
        ax.axvline(np.median(values), color=color, linestyle=":", linewidth=1)
    ax.set_xlabel("tokens per example (with [CLS] and [SEP])")
    ax.set_ylabel("fraction of examples")
    ax.legend()
    return fig


def difference_plot(verdicts: pd.DataFrame, ax: Axes | None = None, metric: str = "entropy",
                    negligible: float | None = None, title: str | None = None) -> Figure:
    """Forest plot of paired differences (method − ERM, per seed) with their 95% intervals.

    ``verdicts`` is a ``helpers.reporting.verdicts.verdict_table``; one row per comparison, LS orange, KD green, labelled
    with the readable run spelling (``'KD α=0.5 τ=4 ← L6 (4 epochs)'``), its KD setting, ``n`` and, when several tiers are
    shown, the tier. A † marks a direction that does not survive Holm's correction over the table; a KD teacher outside
    the paper's setting is marked so; several teacher runs are named (their interval treats the run as a random
    effect). The grey band is the negligible band (default ``NEGLIGIBLE_ENTROPY`` for entropy, none otherwise): an
    interval entirely inside it reads "did not change". A comparison with one seed has no interval: a hollow marker.
    With an ``expected`` column (the pre-declared prediction), each label ends with the predicted direction (↑ or ↓).
    The title (``title``, then the reading) always says "95% t-intervals".
    """
    check_columns(verdicts, ["task", "student", "method", "difference", "low", "high", "setting", "alpha", "temperature",
                             "teacher"], "verdicts", non_empty=True)
    if negligible is None:
        negligible = NEGLIGIBLE_ENTROPY if metric == "entropy" else 0.0
    fig, ax = _figure(ax, figsize=(9.0, 0.45 * len(verdicts) + 1.6))
    several_tiers = "tier" in verdicts.columns and verdicts["tier"].nunique() > 1
    if negligible > 0:
        ax.axvspan(-negligible, negligible, color="0.85", linewidth=0, label=f"negligible band (±{negligible:g})")
    labels, daggers = [], 0
    for i, row in enumerate(verdicts.itertuples()):
        y = len(verdicts) - 1 - i
        low, high = (row.low, row.high) if not math.isnan(row.low) else (row.difference, row.difference)
        single = math.isnan(row.low)
        ax.plot([low, high], [y, y], color=method_color(row.method), linewidth=3, solid_capstyle="round")
        ax.plot([row.difference], [y], "o", color=method_color(row.method), markersize=7,
                markerfacecolor="white" if single else method_color(row.method))
        what = comparison_label(row.method, row.alpha, row.temperature, row.teacher)
        where = f"{tier_name(row.tier)} · " if several_tiers else ""
        notes = []
        if row.method == "kd" and isinstance(row.setting, str) and row.setting:
            outside = getattr(row, "paper", "") == "outside"
            notes.append(f"{row.setting}{', outside paper setting' if outside else ''}")
        if hasattr(row, "n"):
            runs = int(getattr(row, "runs", 1) or 1)
            notes.append(f"n={row.n}" + (f", {runs} teacher runs" if runs > 1 else ""))
        expected = getattr(row, "expected", None)
        predicted = {"up": " · predicted ↑", "down": " · predicted ↓"}.get(expected if isinstance(expected, str) else "", "")
        dagger = ""
        if hasattr(row, "holm") and not row.holm and row.direction not in ("unclear", "negligible") and not single:
            dagger, daggers = " †", daggers + 1
        labels.append((y, f"{where}{row.task} · {row.student} {what} ({'; '.join(notes)}){predicted}{dagger}"
                       if notes else f"{where}{row.task} · {row.student} {what}{predicted}{dagger}"))
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize=9)
    ax.set_xlabel(f"Δ {metric} vs ERM of the same student and seed" + (" (nats)" if metric in ("entropy", "nll") else ""))
    reading = "paired differences, 95% t-intervals over seeds"
    if "runs" in verdicts.columns and (verdicts["runs"] > 1).any():
        reading += " (teacher runs as a random effect where named)"
    if "holm" in verdicts.columns:
        reading += "; † = does not survive Holm's correction"
    set_title(ax, f"{plain_text(title)}\n{reading}" if title else reading, fontsize=10)
    if negligible > 0:
        ax.legend(fontsize=MIN_FONT_SIZE, loc="best")
    return fig


def inheritance_title(title: str | None = None, *, alpha: float | None = None, temperature: float | None = None,
                      student: str | None = None, tier: str | None = None) -> str:
    """The inheritance plot's title: ``title`` (Markdown backticks removed), then a line naming what was held fixed —
    ``'KD α=0.5, τ=4 · student L1 · frozen-feature tier'`` — from whichever of the four are given."""
    parts = []
    knobs = ", ".join(part for part in (f"α={float(alpha):g}" if alpha is not None else "",
                                        f"τ={float(temperature):g}" if temperature is not None else "") if part)
    if knobs:
        parts.append(f"KD {knobs}")
    if student:
        parts.append(f"student {student}")
    if tier:
        parts.append(tier_name(tier))
    lines = [plain_text(title)] if title else []
    if parts:
        lines.append(plain_text(" · ".join(parts)))
    return "\n".join(lines)


def _error_bars(points: pd.DataFrame) -> tuple[pd.Series, str]:
    """The points' error bars and their legend text: the **paired** 95% half-width of KD − ERM (same seed) when the
    points have it, else the t-interval over the KD students' seeds; either way with n."""
    n = sorted({int(v) for v in points["n"]}) if "n" in points.columns else []
    count = f", n = {'–'.join(map(str, (n[0], n[-1]) if len(n) > 1 else n))} seeds per point" if n else ""
    if "student_entropy_paired_ci" in points.columns and points["student_entropy_paired_ci"].notna().any():
        return (points["student_entropy_paired_ci"].fillna(0.0),
                f"error bars: paired 95% t-interval of KD − ERM (same seed){count}")
    return points["student_entropy_ci"].fillna(0.0), f"error bars: 95% t-interval over seeds{count}"


def inheritance_plot(points: pd.DataFrame, fit: LineFit | None, erm_entropy: float, erm_ci: float | None = None,
                     ax: Axes | None = None, title: str | None = None, *, alpha: float | None = None,
                     temperature: float | None = None, student: str | None = None, tier: str | None = None,
                     erm_se: float = 0.0, crossing: CrossingCI | None = None) -> Figure:
    """Student entropy against teacher entropy: one marker per teacher run, error bars, the fitted line with its 95%
    band, ``y = x`` (perfect inheritance) and the ERM student's entropy as the horizontal line where KD's direction flips.

    Error bars are the **paired** 95% interval of KD − ERM of the same seed when ``points`` has
    ``student_entropy_paired_ci`` (``helpers.experiments.sweeps.inheritance_points`` with the ERM students in its frame):
    a bar that misses the ERM line is a difference from ERM. The legend states n. Markers: with a ``label`` column,
    the teacher's own style (:func:`helpers.reporting.plotting.teacher_style`: the same in every panel); else one per
    knob — the converged teacher a black star, LS-trained teachers squares, early-stopped teachers circles, rescaled
    teachers triangles. The fit and its band are drawn only over the observed range of teacher entropies; the
    **crossover** (where the fit meets the ERM line) is drawn as its 95% interval — ``crossing`` when given (e.g.
    ``helpers.reporting.inheritance.InheritanceFit.crossover_interval``, over independent teacher runs), else the fit's
    Fieller interval (``erm_se``: the ERM mean's standard error) — shaded, with its point on the ERM line, only when
    the interval is bounded (the slope's interval above 0) and the point lies inside the observed range (else it is
    named in the legend). ``title`` (Markdown backticks removed) is followed
    by a line with KD's ``alpha`` and ``temperature``, the ``student`` and the ``tier`` when given
    (:func:`inheritance_title`).
    """
    check_columns(points, ["knob", "teacher_entropy", "student_entropy", "student_entropy_ci"], "points", non_empty=True)
    fig, ax = _figure(ax, figsize=(7.6, 5.4))
    top = float(max(points["teacher_entropy"].max(), points["student_entropy"].max(), erm_entropy)) * 1.08
    low_x, high_x = float(points["teacher_entropy"].min()), float(points["teacher_entropy"].max())
    by = "label" if "label" in points.columns else "knob"
    yerr, bars = _error_bars(points)
    paired = bars.startswith("error bars: paired")
    for name, group in points.groupby(by, sort=False):
        knob = group["knob"].iloc[0]
        if by == "label":
            marker, color = teacher_style(name)
            size, label = (13 if marker == "*" else 8), f"KD students of {name}"
        else:
            marker, color, size, label = _KNOB_STYLES.get(knob, ("D", PALETTE[9], 8, f"teacher varied by {knob}"))
        ax.errorbar(group["teacher_entropy"], group["student_entropy"], yerr=yerr.loc[group.index],
                    fmt=marker, color=color, markersize=size, markeredgecolor="white", markeredgewidth=0.6, capsize=3,
                    linestyle="none", alpha=0.9, label=label, zorder=3)
    ax.plot([], [], linestyle="none", label=bars)
    if fit is not None:
        xs = np.linspace(low_x, high_x, 50)
        band_low, band_high = fit.band(xs)
        ax.fill_between(xs, band_low, band_high, color=METHOD_COLORS["kd"], alpha=0.18, linewidth=0,
                        label="the fit's 95% band")
        ax.plot(xs, fit.predict(xs), color=METHOD_COLORS["kd"], linewidth=2,
                label=f"fit over the teachers: slope {fit.slope:.2f} [{fit.slope_low:.2f}, {fit.slope_high:.2f}], "
                      f"r = {fit.r:.2f}")
    else:
        ax.plot([], [], linestyle="none", label=f"no line: {len(points)} teacher points (a fit needs at least 4 teachers)")
    ax.plot([0.0, top], [0.0, top], color="black", linestyle=":", linewidth=1, label="student = teacher")
    ax.axhline(erm_entropy, color=METHOD_COLORS["erm"], linewidth=1.5, label=f"ERM student ({erm_entropy:.3f} nats)")
    if not paired and erm_ci is not None and not math.isnan(erm_ci):
        ax.axhspan(erm_entropy - erm_ci, erm_entropy + erm_ci, color=METHOD_COLORS["erm"], alpha=0.15, linewidth=0)
    if crossing is None and fit is not None:
        crossing = fit.crossing_interval(erm_entropy, erm_se)
    if fit is not None and fit.slope > 0 and crossing.bounded:  # as inheritance_text: only a slope clearly > 0
        cross = crossing.point
        if low_x <= cross <= high_x:  # inside the observed teachers: draw it with its interval
            left, right = max(crossing.low, 0.0), min(crossing.high, top)
            ax.axvspan(left, right, color=METHOD_COLORS["erm"], alpha=0.12, linewidth=0, hatch="//",
                       label=f"crossover {cross:.2f}, 95% Fieller interval [{crossing.low:.2f}, {crossing.high:.2f}]")
            ax.plot([cross], [erm_entropy], "o", color=METHOD_COLORS["erm"], markerfacecolor="white", markersize=8, zorder=4)
            on_right = cross < 0.5 * top
            height = 0.96 if erm_entropy < 0.5 * top else 0.5 * erm_entropy / top  # clear of the ERM line and legend
            ax.annotate(f"KD lowers entropy ← crossover {cross:.2f} [{crossing.low:.2f}, {crossing.high:.2f}] → KD raises it",
                        xy=(right if on_right else left, height), xycoords=("data", "axes fraction"),
                        xytext=(6 if on_right else -6, 0), textcoords="offset points", ha="left" if on_right else "right",
                        va="top", fontsize=MIN_FONT_SIZE,
                        bbox=dict(boxstyle="round", facecolor="white", edgecolor="none", alpha=0.8))
        else:  # an extrapolation: named, not drawn
            ax.plot([], [], linestyle="none",
                    label=f"fit meets ERM at {cross:.2f} nats: outside the teachers' range ({low_x:.2f}–{high_x:.2f}), not drawn")
    elif fit is not None:
        ax.plot([], [], linestyle="none", label="no crossover: the slope's interval is not above 0 (unbounded)")
    ax.set_xlim(0.0, top)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("teacher's mean test entropy (nats)")
    ax.set_ylabel("KD student's mean test entropy (nats)")
    ax.legend(fontsize=MIN_FONT_SIZE, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    heading = inheritance_title(title, alpha=alpha, temperature=temperature, student=student, tier=tier)
    if heading:
        ax.set_title(heading)
    return fig


def _band(part: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray, str]:
    """The band to draw around a curve: the 95% t-interval with n ≥ 3 seeds, the min–max over seeds with fewer
    (a t-interval from two seeds is ±12.7 sd: wider than the metric's range), clipped to the metric's range."""
    y = part[metric].to_numpy(float)
    n = int(part["n"].min()) if "n" in part.columns else 3
    if n == 1:
        return y, y, "none (one seed)"
    if n < 3 and f"{metric}_min" in part.columns:
        low, high, kind = part[f"{metric}_min"].to_numpy(float), part[f"{metric}_max"].to_numpy(float), f"min–max of {n} seed{'s' if n != 1 else ''}"
    else:
        ci = part[f"{metric}_ci"].fillna(0.0).to_numpy(float)
        low, high, kind = y - ci, y + ci, f"95% t-band, {n} seeds" if "n" in part.columns else "95% t-band"
    bottom, top = METRIC_RANGES.get(metric, (-math.inf, math.inf))
    return np.clip(low, bottom, top), np.clip(high, bottom, top), kind


def sweep_plot(summary: pd.DataFrame, metric: str = "entropy", ax: Axes | None = None, title: str | None = None) -> Figure:
    """``metric`` against α: LS (one curve) and KD (one curve per τ), mean over seeds with bands.

    Bands are 95% t-intervals over seeds with at least three seeds, else the min–max over the seeds (when the
    summary has ``<metric>_min``/``_max``, as ``helpers.experiments.sweeps.sweep_summary`` gives), always clipped to the
    metric's range (accuracy, max-probability and ECE in [0, 1]; entropy and NLL ≥ 0). The legend says which.
    """
    check_columns(summary, ["method", "alpha", "temperature", metric, f"{metric}_ci"], "summary", non_empty=True)
    fig, ax = _figure(ax)
    ls = summary[summary["method"] == "ls"].sort_values("alpha")
    curves = [("LS", ls, METHOD_COLORS["ls"], "-", "o")]
    kd = summary[summary["method"] == "kd"]
    temperatures = sorted({float(t) for t in kd["temperature"]})
    styles = ["--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
    for i, tau in enumerate(temperatures):  # a qualitative palette: one distinguishable colour per τ
        part = kd[kd["temperature"].astype(float) == tau].sort_values("alpha")
        curves.append((f"KD τ={tau:g}", part, CURVE_COLORS[i % len(CURVE_COLORS)], styles[i % len(styles)], "s^vDP"[i % 5]))
    kinds = set()
    for label, part, color, style, marker in curves:
        if part.empty:
            continue
        x, y = part["alpha"].to_numpy(float), part[metric].to_numpy(float)
        low, high, kind = _band(part, metric)
        kinds.add(kind)
        ax.plot(x, y, linestyle=style, marker=marker, color=color, linewidth=2, markersize=5, label=label)
        if not kind.startswith("none"):
            ax.fill_between(x, low, high, color=color, alpha=0.15, linewidth=0)
    drawn = sorted(kind for kind in kinds if not kind.startswith("none"))
    if drawn:
        ax.fill_between([], [], [], color="0.6", alpha=0.3, linewidth=0, label="band: " + "; ".join(drawn))
    elif kinds:  # one seed: nothing is shaded, and the legend shows no band swatch
        ax.plot([], [], linestyle="none", label="no bands: one seed")
    ax.set_xlabel("α (weight of the soft part)")
    ax.set_ylabel(metric_axis_label(metric, "test"))
    bottom, top = METRIC_RANGES.get(metric, (-math.inf, math.inf))
    if math.isfinite(top):
        ax.set_ylim(top=min(ax.get_ylim()[1], top + 0.02 * (top - bottom)))
    ax.legend(fontsize=MIN_FONT_SIZE)
    if title:
        set_title(ax, title)
    return fig


def projection_plot(projections: Mapping[str, tuple[pd.DataFrame, Any, float]], axes: Sequence[Axes] | None = None) -> Figure:
    """One panel per model: projected penultimate activations coloured by class, templates as black stars.

    ``projections`` maps a title to ``helpers.experiments.representations.head_projection``'s ``(frame, vertices, tightness)``.
    Every panel has the **same** axis limits (the union of all points and templates, equal aspect) and shows its axes
    — the two coordinates of the templates' plane, in the penultimate layer's activation units — so that the spreads
    of the panels can be compared by eye. The legend sits beside the last panel, outside every panel's data.
    """
    if not projections:
        raise ValueError("projections must map at least one title to a projection")
    created = axes is None
    if axes is None:
        fig, axes = plt.subplots(1, len(projections), figsize=(4.4 * len(projections), 5.0), squeeze=False,
                                 sharex=True, sharey=True)
        axes = axes[0]
    else:
        fig = axes[0].figure
    if len(axes) != len(projections):
        raise ValueError(f"got {len(axes)} axes for {len(projections)} projections")
    xs, ys = [], []
    for title, (frame, vertices, _) in projections.items():
        check_columns(frame, ["x", "y", "class"], f"projections[{title!r}] frame", non_empty=True)
        vertices = np.asarray(vertices, dtype=float)
        xs += [frame["x"].to_numpy(float), vertices[:, 0]]
        ys += [frame["y"].to_numpy(float), vertices[:, 1]]
    xs, ys = np.concatenate(xs), np.concatenate(ys)
    centre = np.array([(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2])
    half = 0.55 * max(np.ptp(xs), np.ptp(ys), 1e-9)  # one square window for every panel, with a margin
    for j, (ax, (title, (frame, vertices, tightness))) in enumerate(zip(axes, projections.items())):
        for i, (name, group) in enumerate(frame.groupby("class", sort=True)):
            ax.scatter(group["x"], group["y"], s=8, alpha=0.5, color=PALETTE[i % len(PALETTE)], label=name)
        vertices = np.asarray(vertices)
        ax.scatter(vertices[:, 0], vertices[:, 1], marker="*", s=220, color="black", label="templates")
        ax.set_title(f"{plain_text(title)}\nspread / separation = {tightness:.2f}", fontsize=11)
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel("template-plane coordinate 1 (activation units)")
        if j == 0:
            ax.set_ylabel("template-plane coordinate 2 (activation units)")
        ax.tick_params(labelleft=True, labelbottom=True)
    axes[-1].legend(fontsize=MIN_FONT_SIZE, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                    markerscale=1.5)  # beside the last panel: never over the points
    if created:
        fig.tight_layout()
    return fig


def _teacher_name(config) -> str:
    """A teacher run's name in the kit's one teacher spelling (``helpers.learning.results.teacher_label``): ``'L6 (4 epochs)'``,
    ``'L6 (1 of 6 epochs)'`` (a checkpoint), ``'L6 (LS α=0.1, 20 epochs)'`` — the same words a KD student's label uses
    after ``←``."""
    from helpers.learning.results import teacher_label

    name = config.student if isinstance(getattr(config, "student", None), str) else config.name  # TrainConfig / HeadConfig
    return teacher_label(name, objective=config.objective, epochs=getattr(config, "epochs", None),
                         schedule_epochs=getattr(config, "schedule_epochs", None), seed=getattr(config, "seed", None))


def entropies_by_label(records: Sequence, teachers: Sequence = ()) -> dict[str, np.ndarray]:
    """Per-example test entropies keyed by the runs' readable labels (``'L1 KD α=0.5 τ=4 ← L6 (4 epochs)'``).

    A run whose config is among ``teachers`` is keyed ``'teacher L6 (4 epochs)'``: the teacher's name in the kit's one
    spelling (``helpers.learning.results.teacher_label``), the very words its KD students' labels use after ``←``, so two
    teachers (the converged one and the one stopped early) get two keys. Two runs that would share a key raise a
    ``ValueError`` instead of one silently replacing the other.
    """
    from helpers.maths.metrics import entropy

    teachers = list(teachers)
    curves: dict[str, np.ndarray] = {}
    for record in records:
        config = record.config
        key = f"teacher {_teacher_name(config)}" if config in teachers else config.label()
        if key in curves:
            raise ValueError(f"two runs share the legend key {key!r}; pass distinct runs (e.g. one seed)")
        curves[key] = entropy(record.logits["test"]).numpy()
    if not curves:
        raise ValueError("records is empty")
    return curves


def _is_erm_key(key: str) -> bool:
    words = key.split(" ")
    return key.lower() == "erm" or (len(words) >= 2 and words[1] == "ERM" and words[0].lower() != "teacher")


def _marker_positions(x: np.ndarray, y: np.ndarray, offset: float, spacing: float = 0.2, floor: float = 0.01) -> list[int]:
    """Indices for markers spaced evenly along a curve's length (in axis-fraction units, so a narrow peak gets
    markers too), shifted by ``offset`` of a spacing so that curves lying on each other show different markers;
    none where the curve sits on the empty baseline (``y < floor``)."""
    length = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    targets = np.arange(offset * spacing, length[-1], spacing)
    chosen = np.unique(np.searchsorted(length, targets).clip(0, len(x) - 1))
    return [int(i) for i in chosen if y[i] >= floor]


_DENSITY_STYLES = ("-", "-.", (0, (1, 1)), (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), ":")
_DENSITY_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_DENSITY_COLORS = tuple(c for c in CURVE_COLORS if c not in ("black", METHOD_COLORS["kd"]))  # teachers' and KD's kept


def entropy_density_plot(entropies: Mapping[str, Any], num_classes: int | None = None, ax: Axes | None = None,
                         title: str | None = None, split: str | None = "test") -> Figure:
    """Densities of per-example predictive entropy, one curve per run, on the support ``[0, log K]`` (boundary-reflected
    kernel densities: see :func:`reflected_density`).

    Keys are legend labels (``entropies_by_label``), each with the curve's mean; the legend sits beside the plot in a
    legible size. Colours and markers are the kit's fixed ones: a teacher (``'teacher <spelling>'``) in its own style
    (:func:`helpers.reporting.plotting.teacher_style`), dotted; a KD student (``'... ← <teacher>'``) in its teacher's
    colour and marker, solid (a second student of that teacher dash-dotted, ...); LS in the LS orange; other curves
    in the remaining colours, each with its own line style and marker (markers at staggered positions). An ERM curve
    (a key ``'ERM'`` or ``'<student> ERM'``) is drawn last, dashed and thinner, so a curve that lies on top of it (KD
    at τ = 1 often sits on ERM) still shows around its dashes and by its markers.
    ``split`` names the split in the x label (``"test"``); ``None`` leaves it out, for a plot of several splits.
    """
    if not isinstance(entropies, Mapping) or not entropies:
        raise ValueError("entropies must be a non-empty mapping {label: per-example entropies}")
    if num_classes is not None and (not isinstance(num_classes, (int, np.integer)) or num_classes < 2):
        raise ValueError(f"num_classes must be an integer >= 2, got num_classes={num_classes!r}")
    arrays = {str(key): np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=float).ravel()
              for key, value in entropies.items()}
    upper = math.log(num_classes) if num_classes else max(float(a.max()) for a in arrays.values()) * 1.05
    created = ax is None
    fig, ax = _figure(ax, figsize=(10.0, 4.4))
    is_erm = [key for key in arrays if _is_erm_key(key)]
    order = [k for k in arrays if k not in is_erm] + is_erm
    used: dict[str, int] = {}  # curves drawn per colour family: the line style tells them apart
    other = 0
    curves = {key: reflected_density(arrays[key], upper) for key in order}
    peak = max(float(d.max()) for _, d in curves.values()) or 1.0
    for n, key in enumerate(order):
        x, density = curves[key]
        every = _marker_positions(x / upper, density / peak, offset=(n + 0.5) / len(order))
        width = 2.6
        if key in is_erm:
            color, style, width, marker = METHOD_COLORS["erm"], (0, (5, 4)), 1.8, None
        elif key.lower().startswith("teacher "):  # the teacher itself: its own style, dotted
            marker, color = teacher_style(key[len("teacher "):])
            style = (0, (1, 1))
        elif " ← " in key:  # a KD student: its teacher's colour and marker, solid (then dash-dot, ...)
            family = key.split(" ← ", 1)[1]
            marker, color = teacher_style(family)
            style = _DENSITY_STYLES[used.get(family, 0) % len(_DENSITY_STYLES)]
            used[family] = used.get(family, 0) + 1
        elif " LS " in f" {key} ":
            color, marker = METHOD_COLORS["ls"], "o"
            style = _DENSITY_STYLES[used.get("ls", 0) % len(_DENSITY_STYLES)]
            used["ls"] = used.get("ls", 0) + 1
        else:
            color = _DENSITY_COLORS[other % len(_DENSITY_COLORS)]
            style, marker = _DENSITY_STYLES[other % len(_DENSITY_STYLES)], _DENSITY_MARKERS[other % len(_DENSITY_MARKERS)]
            other += 1
        ax.plot(x, density, linestyle=style, color=color, linewidth=width, marker=marker, markevery=every,
                markersize=6, label=f"{plain_text(key)} (mean {arrays[key].mean():.3f} nats)")
    if num_classes:
        ax.axvline(upper, color="black", linestyle=":", linewidth=1.2, label=f"max entropy log K = {upper:.2f} nats")
    ax.set_xlim(0.0, upper * 1.03)
    ax.set_ylim(bottom=0.0)
    where = f" on the {split} split" if split else ""
    ax.set_xlabel(f"per-example predictive entropy{where} (nats)")
    ax.set_ylabel("density (per nat)")
    ax.legend(fontsize=MIN_FONT_SIZE, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    if title:
        set_title(ax, title)
    if created:
        fig.tight_layout()
    return fig
