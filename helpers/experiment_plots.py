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

from helpers.analysis import LineFit
from helpers.plotting import METHOD_COLORS, PALETTE, method_color

__all__ = [
    "entropies_by_run",
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


def difference_plot(verdicts: pd.DataFrame, ax: Axes | None = None, metric: str = "entropy") -> Figure:
    """Forest plot of paired differences (method − ERM, per seed) with their 95% intervals.

    ``verdicts`` is a ``helpers.analysis.verdict_table``; one row per comparison, LS orange, KD green.
    """
    _require(verdicts, ["task", "student", "method", "difference", "low", "high", "setting", "alpha", "temperature", "teacher"], "verdicts")
    fig, ax = _figure(ax, figsize=(7.0, 0.45 * len(verdicts) + 1.2))
    labels = []
    for i, row in enumerate(verdicts.itertuples()):
        y = len(verdicts) - 1 - i
        low, high = (row.low, row.high) if not math.isnan(row.low) else (row.difference, row.difference)
        ax.plot([low, high], [y, y], color=method_color(row.method), linewidth=3, solid_capstyle="round")
        ax.plot([row.difference], [y], "o", color=method_color(row.method), markersize=7)
        what = f"LS α={row.alpha:g}" if row.method == "ls" else (
            f"KD α={row.alpha:g} τ={float(row.temperature):g} ({row.setting}, ← {row.teacher})")
        labels.append((y, f"{row.task} · {row.student} · {what}"))
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_yticks([y for y, _ in labels], [text for _, text in labels], fontsize=9)
    ax.set_xlabel(f"Δ {metric} vs ERM of the same student and seed (nats)")
    ax.set_title("paired differences, 95% t-intervals over seeds")
    return fig


def inheritance_plot(points: pd.DataFrame, fit: LineFit, erm_entropy: float, erm_ci: float | None = None,
                     ax: Axes | None = None, title: str | None = None) -> Figure:
    """Student entropy against teacher entropy: one marker per teacher (shape = knob), error bars over
    seeds, the fitted line, ``y = x`` (perfect inheritance) and the ERM student's entropy as the
    horizontal line where KD's direction flips (its crossing with the fit marked)."""
    _require(points, ["knob", "teacher_entropy", "student_entropy", "student_entropy_ci"], "points")
    fig, ax = _figure(ax, figsize=(6.8, 4.6))
    top = float(max(points["teacher_entropy"].max(), points["student_entropy"].max(), erm_entropy)) * 1.08
    for i, (knob, group) in enumerate(points.groupby("knob", sort=False)):
        ax.errorbar(group["teacher_entropy"], group["student_entropy"], yerr=group["student_entropy_ci"].fillna(0.0),
                    fmt=_KNOB_MARKERS.get(knob, "D"), color=PALETTE[(i + 4) % len(PALETTE)], markersize=8,
                    capsize=3, linestyle="none", label=f"teacher varied by {knob}" if knob != "reference" else "converged teacher")
    xs = np.linspace(0.0, top, 50)
    ax.plot(xs, fit.predict(xs), color=METHOD_COLORS["kd"], linewidth=2,
            label=f"fit: slope {fit.slope:.2f}, r = {fit.r:.2f}")
    ax.plot(xs, xs, color="black", linestyle=":", linewidth=1, label="student = teacher")
    ax.axhline(erm_entropy, color=METHOD_COLORS["erm"], linewidth=1.5, label=f"ERM student ({erm_entropy:.3f})")
    if erm_ci is not None and not math.isnan(erm_ci):
        ax.axhspan(erm_entropy - erm_ci, erm_entropy + erm_ci, color=METHOD_COLORS["erm"], alpha=0.15, linewidth=0)
    cross = fit.crossing(erm_entropy)
    if fit.slope > 0 and 0.0 <= cross <= top:
        ax.axvline(cross, color=METHOD_COLORS["erm"], linestyle="--", linewidth=1)
        ax.annotate(f"KD lowers entropy ← {cross:.2f} → KD raises it", (cross, 0.97 * top), ha="center", va="top",
                    fontsize=9, bbox=dict(boxstyle="round", facecolor="white", edgecolor="none", alpha=0.8))
    ax.set_xlim(0.0, top)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("teacher's mean test entropy (nats)")
    ax.set_ylabel("KD student's mean test entropy (nats)")
    ax.legend(fontsize=8, loc="lower right")
    if title:
        ax.set_title(title)
    return fig


def sweep_plot(summary: pd.DataFrame, metric: str = "entropy", ax: Axes | None = None, title: str | None = None) -> Figure:
    """``metric`` against α: LS (one curve) and KD (one curve per τ), mean over seeds with 95% bands."""
    _require(summary, ["method", "alpha", "temperature", metric, f"{metric}_ci"], "summary")
    fig, ax = _figure(ax)
    ls = summary[summary["method"] == "ls"].sort_values("alpha")
    curves = [("LS", ls, METHOD_COLORS["ls"], "-")]
    kd = summary[summary["method"] == "kd"]
    temperatures = sorted({float(t) for t in kd["temperature"]})
    shades = np.linspace(0.45, 1.0, max(len(temperatures), 1))
    for shade, tau in zip(shades, temperatures):
        part = kd[kd["temperature"].astype(float) == tau].sort_values("alpha")
        green = np.array(plt.matplotlib.colors.to_rgb(METHOD_COLORS["kd"]))
        curves.append((f"KD τ={tau:g}", part, tuple(1 - shade * (1 - green)), "-"))
    for label, part, color, style in curves:
        if part.empty:
            continue
        x, y, ci = part["alpha"].to_numpy(float), part[metric].to_numpy(float), part[f"{metric}_ci"].fillna(0.0).to_numpy(float)
        ax.plot(x, y, style, marker="o", color=color, linewidth=2, markersize=4, label=label)
        ax.fill_between(x, y - ci, y + ci, color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("α (weight of the soft part)")
    ax.set_ylabel(f"test {metric}" + (" (nats)" if metric in ("entropy", "nll") else ""))
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
