"""Plots of the experiment notebooks (05-09), in the kit's style (``helpers.plotting``).

Every function draws on ``ax`` (or ``axes``) when given, else on a new figure, and returns the
Figure. Entropies are in nats; intervals are 95% t-intervals over seeds (``helpers.analysis``).
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

from helpers.analysis import NEGLIGIBLE_ENTROPY, LineFit, tier_name
from helpers.plotting import METHOD_COLORS, PALETTE, method_color, reflected_density

METRIC_RANGES = {"accuracy": (0.0, 1.0), "max_prob": (0.0, 1.0), "ece": (0.0, 1.0), "entropy": (0.0, math.inf),
                 "nll": (0.0, math.inf)}

__all__ = [
    "METRIC_RANGES",
    "entropies_by_run",
    "entropies_by_label",
    "entropy_density_plot",
    "length_histogram",
    "difference_plot",
    "inheritance_plot",
    "sweep_plot",
    "projection_plot",
]

_KNOB_MARKERS = {"reference": "*", "ls α": "s", "epochs": "o", "logit scale": "^"}


def _figure(ax: Axes | None, figsize=(6.4, 4.0)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise ValueError(f"{name} is empty")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks column(s) {missing}")


def entropies_by_run(records: Sequence, teacher=None) -> dict[str, np.ndarray]:
    """Per-example test entropies keyed for ``helpers.plotting.entropy_distribution``.

    The run whose config is ``teacher`` is ``"teacher"``; the first ERM, LS and KD runs are ``"erm"``,
    ``"ls"``, ``"kd"`` (the kit's colours); further runs are keyed by their label.
    """
    from helpers.metrics import entropy

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
                    negligible: float | None = None) -> Figure:
    """Forest plot of paired differences (method − ERM, per seed) with their 95% intervals.

    ``verdicts`` is a ``helpers.analysis.verdict_table``; one row per comparison, LS orange, KD green, labelled
    with the readable run spelling (``'KD α=0.5 τ=4 ← L6 (4 epochs)'``) and, when several tiers are shown, the tier.
    The grey band is the negligible band (default ``NEGLIGIBLE_ENTROPY`` for entropy, none otherwise): an interval
    entirely inside it reads "did not change". A comparison with one seed has no interval: a hollow marker.
    """
    _require(verdicts, ["task", "student", "method", "difference", "low", "high", "setting", "alpha", "temperature", "teacher"], "verdicts")
    if negligible is None:
        negligible = NEGLIGIBLE_ENTROPY if metric == "entropy" else 0.0
    fig, ax = _figure(ax, figsize=(8.0, 0.45 * len(verdicts) + 1.4))
    several_tiers = "tier" in verdicts.columns and verdicts["tier"].nunique() > 1
    if negligible > 0:
        ax.axvspan(-negligible, negligible, color="0.85", linewidth=0, label=f"negligible band (±{negligible:g})")
    labels = []
    for i, row in enumerate(verdicts.itertuples()):
        y = len(verdicts) - 1 - i
        low, high = (row.low, row.high) if not math.isnan(row.low) else (row.difference, row.difference)
        single = math.isnan(row.low)
        ax.plot([low, high], [y, y], color=method_color(row.method), linewidth=3, solid_capstyle="round")
        ax.plot([row.difference], [y], "o", color=method_color(row.method), markersize=7,
                markerfacecolor="white" if single else method_color(row.method))
        what = f"LS α={row.alpha:g}" if row.method == "ls" else (
            f"KD α={row.alpha:g} τ={float(row.temperature):g} ← {row.teacher}" if row.method == "kd" else str(row.method))
        where = f"{tier_name(row.tier)} · " if several_tiers else ""
        labels.append((y, f"{where}{row.task} · {row.student} {what} (n={row.n})" if hasattr(row, "n")
                       else f"{where}{row.task} · {row.student} {what}"))
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize=9)
    ax.set_xlabel(f"Δ {metric} vs ERM of the same student and seed" + (" (nats)" if metric in ("entropy", "nll") else ""))
    ax.set_title("paired differences, 95% t-intervals over seeds")
    if negligible > 0:
        ax.legend(fontsize=8, loc="best")
    return fig


def inheritance_plot(points: pd.DataFrame, fit: LineFit, erm_entropy: float, erm_ci: float | None = None,
                     ax: Axes | None = None, title: str | None = None) -> Figure:
    """Student entropy against teacher entropy: one marker per teacher (shape = knob), error bars over
    seeds, the fitted line, ``y = x`` (perfect inheritance) and the ERM student's entropy as the
    horizontal line where KD's direction flips (its crossing with the fit marked)."""
    _require(points, ["knob", "teacher_entropy", "student_entropy", "student_entropy_ci"], "points")
    fig, ax = _figure(ax, figsize=(6.8, 4.6))
    top = float(max(points["teacher_entropy"].max(), points["student_entropy"].max(), erm_entropy)) * 1.08
    by = "label" if "label" in points.columns else "knob"
    for i, (name, group) in enumerate(points.groupby(by, sort=False)):
        knob = group["knob"].iloc[0]
        label = (f"KD students of {name}" if by == "label" else
                 f"teacher varied by {knob}" if knob != "reference" else "converged teacher")
        ax.errorbar(group["teacher_entropy"], group["student_entropy"], yerr=group["student_entropy_ci"].fillna(0.0),
                    fmt=_KNOB_MARKERS.get(knob, "D") if by == "knob" else "osD^v"[i % 5],
                    color=PALETTE[(i + 4) % len(PALETTE)], markersize=8, capsize=3, linestyle="none", alpha=0.85,
                    label=label)
    xs = np.linspace(0.0, top, 50)
    ax.plot(xs, fit.predict(xs), color=METHOD_COLORS["kd"], linewidth=2,
            label=f"fit: slope {fit.slope:.2f}, r = {fit.r:.2f}")
    ax.plot(xs, xs, color="black", linestyle=":", linewidth=1, label="student = teacher")
    ax.axhline(erm_entropy, color=METHOD_COLORS["erm"], linewidth=1.5, label=f"ERM student ({erm_entropy:.3f})")
    if erm_ci is not None and not math.isnan(erm_ci):
        ax.axhspan(erm_entropy - erm_ci, erm_entropy + erm_ci, color=METHOD_COLORS["erm"], alpha=0.15, linewidth=0)
    cross = fit.crossing(erm_entropy)
    if fit.slope > 0 and fit.slope_low > 0 and 0.0 <= cross <= top:  # as inheritance_text: only a slope clearly > 0
        ax.axvline(cross, color=METHOD_COLORS["erm"], linestyle="--", linewidth=1)
        # inside the axes, beside the line and away from the tick labels: to the line's right when it sits in the
        # left half of the plot, else to its left
        right = cross < 0.5 * top
        height = 0.96 if erm_entropy < 0.5 * top else 0.5 * erm_entropy / top  # clear of the ERM line and the legend
        ax.annotate(f"KD lowers entropy ← {cross:.2f} → KD raises it", xy=(cross, height), xycoords=("data", "axes fraction"),
                    xytext=(6 if right else -6, 0), textcoords="offset points", ha="left" if right else "right", va="top",
                    fontsize=9, bbox=dict(boxstyle="round", facecolor="white", edgecolor="none", alpha=0.8))
    ax.set_xlim(0.0, top)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("teacher's mean test entropy (nats)")
    ax.set_ylabel("KD student's mean test entropy (nats)")
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
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
    summary has ``<metric>_min``/``_max``, as ``helpers.sweeps.sweep_summary`` gives), always clipped to the
    metric's range (accuracy, max-probability and ECE in [0, 1]; entropy and NLL ≥ 0). The legend says which.
    """
    _require(summary, ["method", "alpha", "temperature", metric, f"{metric}_ci"], "summary")
    fig, ax = _figure(ax)
    ls = summary[summary["method"] == "ls"].sort_values("alpha")
    curves = [("LS", ls, METHOD_COLORS["ls"], "-", "o")]
    kd = summary[summary["method"] == "kd"]
    temperatures = sorted({float(t) for t in kd["temperature"]})
    shades = np.linspace(0.45, 1.0, max(len(temperatures), 1))
    styles = ["--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
    for i, (shade, tau) in enumerate(zip(shades, temperatures)):
        part = kd[kd["temperature"].astype(float) == tau].sort_values("alpha")
        green = np.array(plt.matplotlib.colors.to_rgb(METHOD_COLORS["kd"]))
        curves.append((f"KD τ={tau:g}", part, tuple(1 - shade * (1 - green)), styles[i % len(styles)], "s^vD"[i % 4]))
    kinds = set()
    for label, part, color, style, marker in curves:
        if part.empty:
            continue
        x, y = part["alpha"].to_numpy(float), part[metric].to_numpy(float)
        low, high, kind = _band(part, metric)
        kinds.add(kind)
        ax.plot(x, y, linestyle=style, marker=marker, color=color, linewidth=2, markersize=5, label=label)
        ax.fill_between(x, low, high, color=color, alpha=0.15, linewidth=0)
    if kinds:
        ax.fill_between([], [], [], color="0.6", alpha=0.3, linewidth=0, label="band: " + "; ".join(sorted(kinds)))
    ax.set_xlabel("α (weight of the soft part)")
    ax.set_ylabel(f"test {metric}" + (" (nats)" if metric in ("entropy", "nll") else ""))
    bottom, top = METRIC_RANGES.get(metric, (-math.inf, math.inf))
    if math.isfinite(top):
        ax.set_ylim(top=min(ax.get_ylim()[1], top + 0.02 * (top - bottom)))
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def projection_plot(projections: Mapping[str, tuple[pd.DataFrame, Any, float]], axes: Sequence[Axes] | None = None) -> Figure:
    """One panel per model: projected penultimate activations coloured by class, templates as black stars.

    ``projections`` maps a title to ``helpers.representations.head_projection``'s ``(frame, vertices, tightness)``.
    """
    if not projections:
        raise ValueError("projections must map at least one title to a projection")
    if axes is None:
        fig, axes = plt.subplots(1, len(projections), figsize=(4.2 * len(projections), 4.2), squeeze=False)
        axes = axes[0]
    else:
        fig = axes[0].figure
    if len(axes) != len(projections):
        raise ValueError(f"got {len(axes)} axes for {len(projections)} projections")
    for ax, (title, (frame, vertices, tightness)) in zip(axes, projections.items()):
        _require(frame, ["x", "y", "class"], f"projections[{title!r}] frame")
        for i, (name, group) in enumerate(frame.groupby("class", sort=True)):
            ax.scatter(group["x"], group["y"], s=8, alpha=0.5, color=PALETTE[i % len(PALETTE)], label=name)
        vertices = np.asarray(vertices)
        ax.scatter(vertices[:, 0], vertices[:, 1], marker="*", s=220, color="black", label="templates")
        ax.set_title(f"{title}\nspread / separation = {tightness:.2f}", fontsize=10)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].legend(fontsize=8, loc="best", markerscale=1.5)
    fig.tight_layout()
    return fig


def entropies_by_label(records: Sequence, teachers: Sequence = ()) -> dict[str, np.ndarray]:
    """Per-example test entropies keyed by the runs' readable labels (``'L1 KD α=0.5 τ=4 ← L6 (4 epochs)'``);
    a run whose config is among ``teachers`` is keyed ``'teacher <label>'``."""
    from helpers.metrics import entropy

    teachers = list(teachers)
    curves: dict[str, np.ndarray] = {}
    for record in records:
        config = record.config
        key = f"teacher {config.label()}" if config in teachers else config.label()
        curves[key] = entropy(record.logits["test"]).numpy()
    if not curves:
        raise ValueError("records is empty")
    return curves


def entropy_density_plot(entropies: Mapping[str, Any], num_classes: int | None = None, ax: Axes | None = None,
                         title: str | None = None) -> Figure:
    """Densities of per-example test entropy, one curve per run, on the support ``[0, log K]`` (boundary-reflected
    kernel densities: see :func:`reflected_density`).

    Keys are legend labels. Every curve has its own colour *and* line style, and an ERM curve is drawn last, dashed,
    so a curve that lies on top of another (KD at τ = 1 often sits on ERM) stays visible.
    """
    if not isinstance(entropies, Mapping) or not entropies:
        raise ValueError("entropies must be a non-empty mapping {label: per-example entropies}")
    if num_classes is not None and (not isinstance(num_classes, (int, np.integer)) or num_classes < 2):
        raise ValueError(f"num_classes must be an integer >= 2, got num_classes={num_classes!r}")
    arrays = {key: np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=float).ravel()
              for key, value in entropies.items()}
    upper = math.log(num_classes) if num_classes else max(float(a.max()) for a in arrays.values()) * 1.05
    fig, ax = _figure(ax)
    is_erm = [key for key in arrays if key.lower() == "erm" or key.split(" ")[1:2] == ["ERM"]]
    order = [k for k in arrays if k not in is_erm] + is_erm
    colors = [c for c in PALETTE if c not in (METHOD_COLORS["erm"], METHOD_COLORS["teacher"])]
    styles = ["-", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 1))]
    other = teachers = 0
    for key in order:
        x, density = reflected_density(arrays[key], upper)
        if key in is_erm:
            color, style, width = METHOD_COLORS["erm"], "--", 2.4
        elif key.lower().startswith("teacher"):
            color, style, width = METHOD_COLORS["teacher"], ["-", ":", "-."][teachers % 3], 2.0
            teachers += 1
        else:
            color, style, width = colors[other % len(colors)], styles[other % len(styles)], 2.0
            other += 1
        ax.plot(x, density, linestyle=style, color=color, linewidth=width,
                label=f"{key} (mean {arrays[key].mean():.3f})")
    if num_classes:
        ax.axvline(upper, color="black", linestyle=":", linewidth=1.2, label=f"max log K = {upper:.2f}")
    ax.set_xlim(0.0, upper * 1.03)
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("per-example predictive entropy on the test split (nats)")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title)
    return fig
