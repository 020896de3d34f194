"""One plotting style for the whole kit: seaborn theme, fixed colours per method, and every figure of notebooks 01-04.

Conventions
-----------
* Methods are keyed ``"teacher"``, ``"erm"``, ``"ls"``, ``"kd"`` and always drawn in
  :data:`METHOD_ORDER` with the colour :data:`METHOD_COLORS` gives them (seaborn's
  colour-blind-safe ``"colorblind"`` palette) and the name :data:`METHOD_LABELS` gives them.
  Other keys come after, in the order given, with the palette's remaining colours.
* Entropies are in nats (natural log); "confidence" is the max-probability.
* Every function draws on ``ax`` when given (else on a new figure) and returns the Figure.
  Call :func:`set_style` once at the top of a notebook.
* Layering: :mod:`helpers.maths.theory` and :mod:`helpers.maths.calibration` compute, this module draws; they never
  import it. The ``plot_*`` functions below draw what those modules computed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.maths.calibration import scale_logits
from helpers.maths.losses import validate_temperature
from helpers.maths.metrics import expected_calibration_error, reliability_bins

__all__ = [
    "METHOD_ORDER",
    "METHOD_COLORS",
    "METHOD_LABELS",
    "PALETTE",
    "MIN_FONT_SIZE",
    "METRIC_AXIS_LABELS",
    "set_style",
    "plain_text",
    "set_title",
    "metric_axis_label",
    "method_order",
    "method_color",
    "method_label",
    "teacher_style",
    "entropy_distribution",
    "reflected_density",
    "reliability_diagram",
    "metric_bars",
    "plot_gradient_descent_demo",
    "plot_entropy_vs_teacher_confidence",
    "plot_finite_training_demo",
    "plot_before_after",
]

#: seaborn's "colorblind" palette (hex), fixed here so colours never depend on global state.
PALETTE: tuple[str, ...] = (
    "#0173b2",  # blue
    "#de8f05",  # orange
    "#029e73",  # green
    "#d55e00",  # vermillion
    "#cc78bc",  # pink
    "#ca9161",  # brown
    "#fbafe4",  # light pink
    "#949494",  # grey
    "#ece133",  # yellow
    "#56b4e9",  # sky blue
)

METHOD_ORDER: tuple[str, ...] = ("teacher", "erm", "ls", "kd")
METHOD_COLORS: dict[str, str] = {
    "teacher": PALETTE[7],  # grey: the reference model
    "erm": PALETTE[0],
    "ls": PALETTE[1],
    "kd": PALETTE[2],
}
METHOD_LABELS: dict[str, str] = {"teacher": "Teacher", "erm": "ERM", "ls": "LS", "kd": "KD"}

_OTHER_COLORS: tuple[str, ...] = tuple(c for c in PALETTE if c not in METHOD_COLORS.values())

#: The smallest font size (points) of any text the kit's figures write (legends, annotations, tick labels).
MIN_FONT_SIZE: float = 9.0

#: Axis labels of the kit's metrics, with their units (entropy and NLL in nats, the rest fractions in [0, 1]).
METRIC_AXIS_LABELS: dict[str, str] = {
    "entropy": "entropy (nats)",
    "nll": "NLL (nats)",
    "accuracy": "accuracy (fraction correct)",
    "max_prob": "max-probability (fraction)",
    "ece": "ECE (fraction)",
    "train_seconds": "training time (s)",
}


def metric_axis_label(metric: str, prefix: str = "") -> str:
    """An axis label for ``metric`` with its unit: ``'entropy (nats)'``, ``'test accuracy (fraction correct)'``."""
    text = METRIC_AXIS_LABELS.get(metric, metric)
    return f"{prefix} {text}".strip() if prefix else text


def plain_text(text: Any) -> str:
    """A figure title or label without Markdown markup: backticks and ``**``/``__`` emphasis removed
    (``"shipped `full`"`` -> ``"shipped full"``). Every title the kit's plotting helpers build goes through it."""
    if text is None:
        return ""
    return str(text).replace("`", "").replace("**", "").replace("__", "")


def set_title(ax: Axes, text: Any, **kwargs: Any):
    """``ax.set_title`` of :func:`plain_text` (no literal Markdown backticks in a figure)."""
    return ax.set_title(plain_text(text), **kwargs)

_STYLE_RC: dict[str, Any] = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def set_style() -> None:
    """Apply the kit's seaborn theme (whitegrid, context "notebook", colour-blind palette).

    Idempotent: calling it again leaves the same ``rcParams``.
    """
    sns.set_theme(context="notebook", style="whitegrid", palette=list(PALETTE), rc=_STYLE_RC)


def method_order(keys: Sequence[str]) -> list[str]:
    """``keys`` sorted as in :data:`METHOD_ORDER`; unknown keys follow in the order given."""
    keys = list(dict.fromkeys(keys))
    known = [m for m in METHOD_ORDER if m in keys]
    return known + [k for k in keys if k not in METHOD_ORDER]


def _color_map(keys: Sequence[str]) -> dict[str, str]:
    colors: dict[str, str] = {}
    others = 0
    for key in method_order(keys):
        if key in METHOD_COLORS:
            colors[key] = METHOD_COLORS[key]
        else:
            colors[key] = _OTHER_COLORS[others % len(_OTHER_COLORS)]
            others += 1
    return colors


def method_color(key: str) -> str:
    """The fixed colour of a method (other keys get the first colour not used by a method)."""
    return METHOD_COLORS.get(key, _OTHER_COLORS[0])


#: The teachers' styles, fixed by the teacher's spelling alone (``helpers.learning.results.teacher_label``), so one teacher
#: keeps its marker and colour in every panel and notebook: a finished run is a star (black for L6, greys for smaller
#: models); a checkpoint after a
#: fraction f of its run takes the style of f's fifth (earliest first); a rescaled run a triangle (up: sharper);
#: an LS-trained teacher a pink square. None of them is the ERM blue, the LS orange or the KD green.
_CHECKPOINT_STYLES: tuple[tuple[str, str], ...] = (("v", PALETTE[3]), ("s", PALETTE[4]), ("D", PALETTE[5]),
                                                    ("P", "#6a3d9a"), ("X", "0.45"))
_FINISHED_STYLE = ("*", "black")


def teacher_style(label: str) -> tuple[str, str]:
    """``(marker, colour)`` of a teacher, from its spelling: ``'L6 (6 epochs)'`` → black star (``'L1 (3 epochs)'``: a
    grey star); ``'L6 (1 of 6 epochs)'``
    → the first checkpoint style (the fraction 1/6 lies in the first fifth of the run); ``'L6 (6 epochs, logits ×2)'``
    → a black triangle up (×0.5: down); ``'L6 (LS α=0.1, 20 epochs)'`` → a pink square. The run's seed does not
    change the style: every run of a teacher setting looks the same."""
    import re

    from helpers.learning.results import parse_teacher_label

    spelling = parse_teacher_label(label)
    checkpoint = re.search(r"([\d.]+) of ([\d.]+) epochs", spelling.setting)
    scale = re.search(r"logits ×([\d.]+)", spelling.setting)
    if checkpoint:
        fraction = float(checkpoint.group(1)) / float(checkpoint.group(2))
        marker, color = _CHECKPOINT_STYLES[min(int(fraction * len(_CHECKPOINT_STYLES) - 1e-9), len(_CHECKPOINT_STYLES) - 1)]
    elif "LS α=" in spelling.setting:
        marker, color = "s", PALETTE[6]
    else:  # a finished run: a star, black for the biggest model (L6), lighter greys for smaller ones
        size = re.fullmatch(r"L(\d+)", spelling.model)
        marker, color = _FINISHED_STYLE[0], _FINISHED_STYLE[1] if not size or int(size.group(1)) >= 6 \
            else str(round(0.1 * (6 - int(size.group(1))), 2))
    if scale:
        marker = "^" if float(scale.group(1)) > 1 else "v"
    return marker, color


def method_label(key: str) -> str:
    """Display name of a method (``"kd"`` -> ``"KD"``); unknown keys are shown as given."""
    return METHOD_LABELS.get(key, str(key))


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots()
        return fig, ax
    try:
        fig = ax.get_figure(root=True)
    except TypeError:  # older matplotlib without the ``root`` argument
        fig = ax.figure
    return fig, ax


def _as_1d_array(values: Any, name: str) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains non-finite values (NaN or inf)")
    return array


def reflected_density(values, upper: float | None = None, grid: int = 256, bandwidth: float | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian kernel density of ``values`` on their support ``[0, upper]`` (entropy lies in [0, log K]),
    with the mass that would spill past a boundary reflected back (so the curve neither stops at the data's
    minimum nor leaks below 0). Returns ``(x, density)``; the density integrates to 1 over the support.

    ``bandwidth`` defaults to Scott's rule; values with no spread get a bandwidth of 1% of the support.
    """
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError("values must be a non-empty array of finite numbers")
    if (values < -1e-9).any():
        raise ValueError("values must be >= 0 (entropies)")
    if upper is None:
        upper = float(values.max()) * 1.05 or 1.0
    if upper <= 0:
        raise ValueError(f"upper must be > 0, got upper={upper!r}")
    values = np.clip(values, 0.0, upper)
    sd = float(values.std(ddof=1)) if values.size > 1 else 0.0
    h = bandwidth if bandwidth is not None else (sd * values.size ** (-1 / 5) if sd > 0 else 0.0)
    h = max(h, 0.01 * upper)
    x = np.linspace(0.0, upper, grid)
    density = np.zeros_like(x)
    for centres in (values, -values, 2 * upper - values):  # the data and their mirror images at 0 and at upper
        density += np.exp(-0.5 * ((x[:, None] - centres[None, :]) / h) ** 2).sum(axis=1)
    density /= values.size * h * math.sqrt(2 * math.pi)
    return x, density


def entropy_distribution(
    entropies: Mapping[str, Any],
    num_classes: int | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Density (KDE) of per-example predictive entropy (nats), one curve per method.

    ``entropies`` maps a method key to per-example entropies. Curves follow
    :data:`METHOD_ORDER` and :data:`METHOD_COLORS`; a method whose entropies have zero
    variance (no density exists) is drawn as a narrow one-bin histogram instead, and the
    y axis then stops at 1.5x the highest curve. With ``num_classes`` a dotted vertical
    line marks the maximum ``log K``.
    """
    if not isinstance(entropies, Mapping) or len(entropies) == 0:
        raise ValueError("entropies must be a non-empty mapping {method: per-example entropies}")
    if num_classes is not None and (not isinstance(num_classes, (int, np.integer)) or num_classes < 2):
        raise ValueError(f"num_classes must be an integer >= 2, got num_classes={num_classes!r}")
    arrays = {key: _as_1d_array(entropies[key], f"entropies[{key!r}]") for key in method_order(list(entropies))}
    colors = _color_map(list(arrays))
    fig, ax = _figure_and_axes(ax)

    max_entropy = math.log(num_classes) if num_classes is not None else None
    handles: list[Any] = []
    curve_top, spikes = 0.0, False
    for key, values in arrays.items():
        color, label = colors[key], method_label(key)
        n_lines = len(ax.lines)
        if values.size >= 2 and np.ptp(values) > 0:
            x, density = reflected_density(values, max_entropy)  # covers [0, log K]; no abrupt stop at the data
            ax.plot(x, density, color=color, linewidth=2)
        if len(ax.lines) > n_lines:
            curve_top = max(curve_top, float(np.nanmax(ax.lines[-1].get_ydata())))
        else:  # zero variance or a single example: no density, fall back to a (one-bin) histogram
            spikes = True
            width = 0.02 * (max_entropy if max_entropy else max(1.0, float(values.max())))
            center = float(values.mean())
            sns.histplot(
                x=values,
                ax=ax,
                color=color,
                stat="density",
                bins=1,
                binrange=(center - width / 2, center + width / 2),
                alpha=0.5,
            )
        handles.append(Line2D([], [], color=color, linewidth=2, label=label))

    if max_entropy is not None:
        ax.axvline(max_entropy, color="black", linestyle=":", linewidth=1.5, label="max (log K)")
        handles.append(Line2D([], [], color="black", linestyle=":", linewidth=1.5, label="max (log K)"))
    ax.set_xlabel("predictive entropy (nats)")
    ax.set_ylabel("density")
    ax.set_xlim(left=0.0)
    if max_entropy is not None:
        ax.set_xlim(right=max(ax.get_xlim()[1], 1.03 * max_entropy))
    if spikes and curve_top > 0:  # a point mass has no finite density: keep the curves readable
        ax.set_ylim(0.0, 1.5 * curve_top)
    else:
        ax.set_ylim(bottom=0.0)
    ax.legend(handles=handles, labels=[h.get_label() for h in handles])
    return fig


def reliability_diagram(
    logits: Any,
    targets: Any,
    n_bins: int = 15,
    label: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Reliability diagram: accuracy per equal-width confidence bin, with the gap shaded.

    Bars (one per non-empty bin of :func:`helpers.maths.metrics.reliability_bins`) have height
    equal to the bin's accuracy; the hatched part between accuracy and the bin's mean
    confidence is the gap, whose count-weighted mean is the ECE written in the title. The bins' counts of examples
    (a bin of 3 examples says little) are written horizontally in a strip above the plot, staggered on two rows so
    that neighbouring counts never touch. The diagonal is perfect calibration; both axes span [0, 1].
    ``title`` (optional) is written before the ECE (``"<title>: ECE = …"``), else the method's name from ``label``.
    """
    if isinstance(logits, torch.Tensor):
        if logits.numel() == 0:
            raise ValueError("logits is empty")
    elif np.size(logits) == 0:
        raise ValueError("logits is empty")
    bins = reliability_bins(logits, targets, n_bins)
    ece = expected_calibration_error(logits, targets, n_bins)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.4, 6.4))
    else:
        fig, ax = _figure_and_axes(ax)

    edges = bins["edges"].numpy()
    nonempty = (bins["count"] > 0).numpy()
    left = edges[:-1][nonempty]
    width = np.diff(edges)[nonempty]
    accuracy = bins["accuracy"].numpy()[nonempty]
    confidence = bins["confidence"].numpy()[nonempty]
    color = method_color(label) if label in METHOD_COLORS else PALETTE[0]

    ax.bar(left, accuracy, width=width, align="edge", color=color, edgecolor="white", label="accuracy")
    ax.bar(
        left,
        np.abs(confidence - accuracy),
        bottom=np.minimum(confidence, accuracy),
        width=width,
        align="edge",
        color=PALETTE[3],
        alpha=0.3,
        hatch="//",
        edgecolor=PALETTE[3],
        label="gap",
    )
    ax.plot([0.0, 1.0], [0.0, 1.0], linestyle="--", color="black", linewidth=1, label="perfect calibration")
    counts = bins["count"].numpy()[nonempty].astype(int)
    index = np.flatnonzero(nonempty)
    for i, x, w, n in zip(index, left, width, counts):  # per-bin example counts, above the axes, two staggered rows
        ax.annotate(f"{n}", xy=(x + w / 2, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(0, 3 + 11 * (i % 2)), textcoords="offset points", ha="center", va="bottom",
                    fontsize=MIN_FONT_SIZE, color="0.25", annotation_clip=False)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy (fraction correct)")
    name = plain_text(title) if title else (method_label(label) if label is not None else None)
    ax.set_title(f"{name}: ECE = {ece:.3f}" if name else f"ECE = {ece:.3f}", pad=30)
    handles, names = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], linestyle="none"))
    names.append("numbers on top: examples per bin")
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=MIN_FONT_SIZE)
    return fig


def metric_bars(
    results: pd.DataFrame,
    metric: str = "entropy",
    by: str = "method",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Mean of ``metric`` per ``by`` group (one row per run/seed) with 95% bootstrap CI bars.

    Groups follow :data:`METHOD_ORDER` and :data:`METHOD_COLORS`; the CI bootstrap is seeded,
    so the figure is reproducible. The y label carries the metric's unit (:data:`METRIC_AXIS_LABELS`).
    """
    if not isinstance(results, pd.DataFrame):
        raise ValueError(f"results must be a pandas DataFrame, got {type(results).__name__}")
    if results.empty:
        raise ValueError("results is empty")
    for name, column in (("metric", metric), ("by", by)):
        if column not in results.columns:
            raise ValueError(f"unknown {name} column {column!r}; columns are {list(results.columns)}")
    if not pd.api.types.is_numeric_dtype(results[metric]):
        raise ValueError(f"metric column {metric!r} must be numeric, got dtype {results[metric].dtype}")
    data = results[[by, metric]].dropna()
    if data.empty:
        raise ValueError(f"metric column {metric!r} has no non-missing values")
    data = data.assign(**{by: data[by].astype(str)})
    order = method_order(list(data[by]))
    colors = _color_map(order)
    fig, ax = _figure_and_axes(ax)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        sns.barplot(
            data=data,
            x=by,
            y=metric,
            hue=by,
            order=order,
            hue_order=order,
            palette=colors,
            errorbar=("ci", 95),
            seed=0,
            capsize=0.2,
            saturation=1.0,
            legend=False,
            ax=ax,
        )
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels([method_label(k) for k in order])
    ax.set_xlabel("")
    ax.set_ylabel(metric_axis_label(metric, "mean"))
    if title:
        set_title(ax, title)
    return fig


# ----------------------------------------------------------------------------- notebooks 02-04


def plot_gradient_descent_demo(demo) -> Figure:
    """Two panels against the step (log axis) of :func:`helpers.maths.toy_training.gradient_descent_demo`: the logit gap and
    the label's probability, CE and LS, with LS's closed-form gap and max-probability as dashed lines."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    shown = demo.steps >= 1  # a log axis: step 0 (all logits 0) is left out
    x = demo.steps[shown]
    panels = ((left, "gap", demo.predicted_gap, r"logit gap  $z_y - \max_{k \neq y} z_k$", "upper left"),
              (right, "max_prob", demo.predicted_max_prob, "probability of the label", "lower right"))
    for ax, key, predicted, ylabel, where in panels:
        ax.plot(x, getattr(demo, f"ce_{key}")[shown], color=METHOD_COLORS["erm"], linewidth=2, label="CE (ERM)")
        ax.plot(x, getattr(demo, f"ls_{key}")[shown], color=METHOD_COLORS["ls"], linewidth=2,
                label=f"LS (α={demo.alpha:g})")
        ax.axhline(predicted, color="black", linestyle="--", linewidth=1, label="LS closed form")
        ax.set_xscale("log")
        ax.set_xlabel("gradient-descent step")
        ax.set_ylabel(ylabel)
        ax.legend(loc=where)
    right.set_ylim(0.0, 1.02)
    fig.suptitle(plain_text(f"One example, K={demo.num_classes}, learning rate {demo.learning_rate:g}"))
    fig.tight_layout()
    return fig


def plot_entropy_vs_teacher_confidence(frame: pd.DataFrame, alpha: float, temperature: float = 1.0,
                                       num_classes: int | None = None, ax: Axes | None = None) -> Figure:
    """Line plot of :func:`helpers.maths.theory.entropy_vs_teacher_confidence`'s table: KD optimum vs LS target entropy
    (plus, dashed, the mixture reading of the KD target when ``temperature != 1``)."""
    fig, ax = _figure_and_axes(ax)
    x = frame["teacher_confidence"]
    ax.plot(x, frame["kd_entropy"], color=METHOD_COLORS["kd"], linewidth=2, label="KD optimum")
    if temperature != 1.0:
        ax.plot(x, frame["kd_mixed_entropy"], color=METHOD_COLORS["kd"], linestyle="--", linewidth=1.5,
                label="(1-α)·y + α·p_t^τ  (a reading, not the optimum)")
    ax.plot(x, frame["ls_entropy"], color=METHOD_COLORS["ls"], linewidth=2, label="LS target (= LS optimum)")
    ax.plot(x, frame["teacher_entropy"], color=METHOD_COLORS["teacher"], linestyle=":", linewidth=1.5,
            label=f"teacher p_t^τ at τ={temperature:g}")
    if num_classes is not None:
        ax.axhline(math.log(num_classes), color="black", linestyle=":", linewidth=1, label="log K")
    ax.set_xlabel("teacher confidence (max-probability at τ=1)")
    ax.set_ylabel("entropy (nats)")
    set_title(ax, f"α={alpha:g}, τ={temperature:g}")
    ax.legend(fontsize=MIN_FONT_SIZE)
    fig.tight_layout()
    return fig


_FINITE_STYLE = {"erm": (METHOD_COLORS["erm"], "-"), "ls": (METHOD_COLORS["ls"], "-"),
                 "kd_confident": (METHOD_COLORS["kd"], "-"), "kd_unconfident": (METHOD_COLORS["kd"], "--")}


def plot_finite_training_demo(demo, ax: Axes | None = None) -> Figure:
    """Test-set entropy against the gradient step (log axis) for each method of
    :func:`helpers.maths.toy_training.finite_training_demo`; the value at convergence (L-BFGS) as a marker at the right."""
    from helpers.maths.toy_training import FINITE_TRAINING_METHODS

    fig, ax = _figure_and_axes(ax)
    trajectory = demo.trajectory
    last = int(trajectory["step"].max())
    converged = demo.converged.set_index("method") if not demo.converged.empty else None
    for method, label in FINITE_TRAINING_METHODS.items():
        rows = trajectory[trajectory["method"] == method]
        color, style = _FINITE_STYLE[method]
        ax.plot(rows["step"], rows["test_entropy"], color=color, linestyle=style, linewidth=2, label=label)
        if converged is not None:
            ax.plot([3.0 * last], [converged.loc[method, "test_entropy"]], marker="o", color=color, markersize=8,
                    linestyle="none")
    if converged is not None:
        ax.axvline(1.7 * last, color="black", linewidth=0.8)
        ax.text(3.0 * last, ax.get_ylim()[1], "converged", ha="center", va="bottom", fontsize=MIN_FONT_SIZE)
    ax.set_xscale("log")
    ax.set_xlabel("gradient-descent step (markers: trained to convergence)")
    ax.set_ylabel("mean test entropy (nats)")
    ax.set_ylim(bottom=0.0)
    set_title(ax, f"Linear students on a toy problem (α={demo.alpha:g}, τ={demo.temperature:g})")
    ax.legend(fontsize=MIN_FONT_SIZE)
    fig.tight_layout()
    return fig


def plot_before_after(logits: Any, targets: Any, temperature: float, n_bins: int = 15) -> Figure:
    """Two reliability diagrams (:func:`reliability_diagram`): logits as they are, and divided by ``temperature``."""
    temperature = validate_temperature(temperature)
    fig, (before, after) = plt.subplots(1, 2, figsize=(10.4, 6.2))
    reliability_diagram(logits, targets, n_bins, ax=before)
    reliability_diagram(scale_logits(logits, temperature), targets, n_bins, ax=after)
    set_title(before, f"before (T = 1): {before.get_title()}", pad=30)
    set_title(after, f"after (T = {temperature:.3g}): {after.get_title()}", pad=30)
    fig.tight_layout()
    return fig
