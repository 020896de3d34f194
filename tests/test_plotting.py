"""Tests of helpers.reporting.plotting (headless Agg backend): figures, colours, order, values drawn."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import assert_legible  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers.maths.metrics import expected_calibration_error, reliability_bins  # noqa: E402
from helpers.reporting.plotting import (  # noqa: E402
    METHOD_COLORS,
    METHOD_LABELS,
    METHOD_ORDER,
    entropy_distribution,
    metric_bars,
    plot_before_after,
    plot_entropy_vs_teacher_confidence,
    plot_finite_training_demo,
    plot_gradient_descent_demo,
    reliability_diagram,
    set_style,
)


pytestmark = pytest.mark.usefixtures("close_figures")


def _same_color(a, b) -> bool:
    return np.allclose(to_rgba(a), to_rgba(b), atol=1e-3)


def _entropies(seed: int = 0, k: int = 6) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    log_k = math.log(k)
    # deliberately given out of METHOD_ORDER
    return {
        "kd": rng.uniform(0.3, 0.9, 200) * log_k,
        "erm": rng.uniform(0.0, 0.3, 200) * log_k,
        "teacher": rng.uniform(0.0, 0.5, 200) * log_k,
        "ls": torch.from_numpy(rng.uniform(0.5, 1.0, 200) * log_k),
    }


# ---------------------------------------------------------------- constants and style


def test_method_constants():
    assert METHOD_ORDER == ("teacher", "erm", "ls", "kd")
    assert set(METHOD_COLORS) == set(METHOD_ORDER)
    assert len({to_rgba(c) for c in METHOD_COLORS.values()}) == 4  # distinct colours
    colorblind = [to_rgba(c) for c in sns.color_palette("colorblind")]
    for color in METHOD_COLORS.values():  # all from seaborn's colour-blind-safe palette
        assert any(np.allclose(to_rgba(color), c, atol=1e-2) for c in colorblind)
    assert METHOD_LABELS == {"teacher": "Teacher", "erm": "ERM", "ls": "LS", "kd": "KD"}


def test_set_style_is_idempotent():
    set_style()
    first = dict(matplotlib.rcParams)
    set_style()
    assert dict(matplotlib.rcParams) == first


# ---------------------------------------------------------------- entropy distribution


def test_entropy_distribution_order_colors_and_max_line():
    set_style()
    k = 6
    fig = entropy_distribution(_entropies(k=k), num_classes=k)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [METHOD_LABELS[m] for m in METHOD_ORDER] + ["max (log K)"]
    for handle, method in zip(legend.legend_handles, METHOD_ORDER):
        assert _same_color(handle.get_color(), METHOD_COLORS[method])
    # one drawn curve per method, in METHOD_ORDER, in the method's colour
    curves = [line for line in ax.lines if line.get_linestyle() != ":"]
    assert len(curves) == 4
    for line, method in zip(curves, METHOD_ORDER):
        assert _same_color(line.get_color(), METHOD_COLORS[method])
    # the dotted max line sits at log K
    dotted = [line for line in ax.lines if line.get_linestyle() == ":"]
    assert len(dotted) == 1
    assert np.allclose(dotted[0].get_xdata(), math.log(k))
    assert ax.get_xlabel() == "predictive entropy (nats)"
    assert ax.get_ylim()[0] == 0.0 and ax.get_xlim()[0] == 0.0


def test_entropy_distribution_without_num_classes_has_no_max_line():
    entropies = _entropies()
    fig = entropy_distribution({"erm": entropies["erm"], "kd": entropies["kd"]})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ERM", "KD"]
    assert not [line for line in ax.lines if line.get_linestyle() == ":"]


def test_entropy_distribution_unknown_keys_follow_with_other_colors():
    entropies = _entropies()
    fig = entropy_distribution({"zeta": entropies["kd"], "kd": entropies["kd"], "alpha": entropies["erm"]})
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["KD", "zeta", "alpha"]
    colors = [to_rgba(h.get_color()) for h in legend.legend_handles]
    assert _same_color(colors[0], METHOD_COLORS["kd"])
    method_colors = {to_rgba(c) for c in METHOD_COLORS.values()}
    assert colors[1] not in method_colors and colors[2] not in method_colors
    assert colors[1] != colors[2]


def test_entropy_distribution_uses_given_axes():
    fig, axes = plt.subplots(1, 2)
    out = entropy_distribution(_entropies(), num_classes=6, ax=axes[1])
    assert out is fig
    assert axes[1].get_legend() is not None and axes[0].get_legend() is None


@pytest.mark.parametrize("constant", [0.0, math.log(4)])
def test_entropy_distribution_zero_variance_falls_back_to_histogram(constant):
    entropies = _entropies(k=4)
    entropies["ls"] = np.full(50, constant)  # e.g. a uniform predictor: always log K
    entropies["teacher"] = np.array([0.2])  # a single example
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = entropy_distribution(entropies, num_classes=4)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()][:4] == [METHOD_LABELS[m] for m in METHOD_ORDER]
    # KDE curves for the two regular methods, histogram patches for the degenerate ones
    curves = [line for line in ax.lines if line.get_linestyle() != ":"]
    assert [to_rgba(c.get_color()) for c in curves] == [to_rgba(METHOD_COLORS[m]) for m in ("erm", "kd")]
    patch_rgb = [to_rgba(p.get_facecolor())[:3] for p in ax.patches]
    for method in ("teacher", "ls"):
        assert any(np.allclose(rgb, to_rgba(METHOD_COLORS[method])[:3], atol=1e-3) for rgb in patch_rgb)


@pytest.mark.parametrize(
    "entropies",
    [{}, {"erm": np.array([])}, {"erm": np.array([0.1, float("nan")])}],
)
def test_entropy_distribution_bad_input_raises(entropies):
    with pytest.raises(ValueError):
        entropy_distribution(entropies)


def test_entropy_distribution_bad_num_classes_raises():
    with pytest.raises(ValueError, match="num_classes"):
        entropy_distribution(_entropies(), num_classes=1)


# ---------------------------------------------------------------- reliability diagram


def _calibration_data(seed: int = 0, n: int = 400, k: int = 5):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, k, generator=g)
    agree = torch.rand(n, generator=g) < 0.6
    targets = torch.where(agree, logits.argmax(1), torch.randint(0, k, (n,), generator=g))
    return logits, targets


@pytest.mark.parametrize("n_bins", [15, 10])
def test_reliability_diagram_bars_are_bin_accuracies(n_bins):
    logits, targets = _calibration_data()
    fig = reliability_diagram(logits, targets, n_bins=n_bins, label="kd")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    bins = reliability_bins(logits, targets, n_bins)
    nonempty = bins["count"] > 0
    accuracy_bars = [c for c in ax.containers if c.get_label() == "accuracy"]
    assert len(accuracy_bars) == 1
    heights = [bar.get_height() for bar in accuracy_bars[0]]
    np.testing.assert_allclose(heights, bins["accuracy"][nonempty].numpy(), atol=1e-6)
    lefts = [bar.get_x() for bar in accuracy_bars[0]]
    np.testing.assert_allclose(lefts, bins["edges"][:-1][nonempty].numpy(), atol=1e-6)
    # the gap bars span |accuracy - confidence|
    gap_bars = [c for c in ax.containers if c.get_label() == "gap"]
    assert len(gap_bars) == 1
    gaps = (bins["accuracy"] - bins["confidence"]).abs()[nonempty].numpy()
    np.testing.assert_allclose([bar.get_height() for bar in gap_bars[0]], gaps, atol=1e-6)
    # ECE in the title, the diagonal drawn, both axes on [0, 1]
    ece = expected_calibration_error(logits, targets, n_bins)
    assert f"{ece:.3f}" in ax.get_title()
    assert "ECE" in ax.get_title() and "KD" in ax.get_title()
    diagonal = [line for line in ax.lines if np.allclose(line.get_xdata(), [0, 1])]
    assert diagonal and np.allclose(diagonal[0].get_ydata(), [0, 1])
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)


def test_reliability_diagram_on_given_axes_without_label():
    fig, ax = plt.subplots()
    logits, targets = _calibration_data(seed=1)
    assert reliability_diagram(logits.numpy(), targets.numpy(), ax=ax) is fig
    assert ax.get_title().startswith("ECE = ")


def test_reliability_diagram_bad_input_raises():
    with pytest.raises(ValueError):
        reliability_diagram(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="n_bins"):
        reliability_diagram(torch.zeros(2, 3), torch.tensor([0, 1]), n_bins=0)
    with pytest.raises(ValueError, match="targets"):
        reliability_diagram(torch.zeros(2, 3), torch.tensor([0, 3]))


# ---------------------------------------------------------------- metric bars


def _results() -> pd.DataFrame:
    rows = []
    for method, base in (("kd", 0.9), ("ls", 1.1), ("erm", 0.4), ("teacher", 0.2)):
        for seed, shift in enumerate((0.0, 0.05, 0.4)):  # skewed: mean != median
            rows.append({"method": method, "seed": seed, "entropy": base + shift, "ece": 0.02 + shift / 4})
    return pd.DataFrame(rows)


def test_metric_bars_means_order_and_colors():
    results = _results()
    fig = metric_bars(results, metric="entropy")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [METHOD_LABELS[m] for m in METHOD_ORDER]
    bars = sorted((p for p in ax.patches if p.get_height() > 0), key=lambda p: p.get_x())
    assert len(bars) == 4
    means = results.groupby("method")["entropy"].mean()
    np.testing.assert_allclose([b.get_height() for b in bars], [means[m] for m in METHOD_ORDER])
    for bar, method in zip(bars, METHOD_ORDER):
        assert _same_color(bar.get_facecolor(), METHOD_COLORS[method])
    # error bars (95% CI) are drawn: one line per method, centred on its bar, spanning the mean
    assert len(ax.lines) == 4
    for line, bar in zip(sorted(ax.lines, key=lambda line: np.nanmean(line.get_xdata())), bars):
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert np.nanmean(x) == pytest.approx(bar.get_x() + bar.get_width() / 2)
        assert np.nanmin(y) < bar.get_height() < np.nanmax(y)
    assert ax.get_ylabel() == "mean entropy (nats)"  # the unit on the axis


def test_metric_bars_other_metric_on_given_axes():
    fig, ax = plt.subplots()
    assert metric_bars(_results(), metric="ece", ax=ax) is fig
    assert ax.get_ylabel() == "mean ECE (fraction)"


@pytest.mark.parametrize(
    "results, kwargs",
    [
        (pd.DataFrame(columns=["method", "entropy"]), {}),
        (_results(), {"metric": "accuracy"}),
        (_results(), {"by": "model"}),
    ],
)
def test_metric_bars_bad_input_raises(results, kwargs):
    with pytest.raises(ValueError):
        metric_bars(results, **kwargs)


# ---------------------------------------------------------------- notebooks 02-04 (computed elsewhere, drawn here)


def test_plot_before_after_titles_quote_both_eces():
    g = torch.Generator().manual_seed(3)
    z = 2.0 * torch.randn(500, 6, generator=g)
    y = torch.multinomial(torch.softmax(z, dim=-1), 1, generator=g).squeeze(1)
    fig = plot_before_after(2.0 * z, y, 2.0, n_bins=10)
    before, after = fig.axes[0].get_title(), fig.axes[1].get_title()
    assert f"{expected_calibration_error(2.0 * z, y, 10):.3f}" in before
    assert f"{expected_calibration_error(z, y, 10):.3f}" in after and "T = 2" in after
    with pytest.raises(ValueError, match="temperature"):
        plot_before_after(z, y, 0.0)


def test_plot_finite_training_demo_draws_every_method_and_the_converged_markers():
    from helpers.maths.toy_training import FINITE_TRAINING_METHODS, FiniteTrainingDemo

    steps = [1, 10, 100]
    trajectory = pd.DataFrame([{"method": m, "step": s, "test_entropy": 1.0 / (i + 1) / s, "test_accuracy": 0.5,
                                "train_entropy": 0.1} for i, m in enumerate(FINITE_TRAINING_METHODS) for s in steps])
    converged = pd.DataFrame([{"method": m, "test_entropy": 0.01 * (i + 1), "test_accuracy": 0.5,
                               "train_entropy": 0.0} for i, m in enumerate(FINITE_TRAINING_METHODS)])
    demo = FiniteTrainingDemo(0.5, 2.0, 0.5, trajectory, converged, pd.DataFrame())
    fig = plot_finite_training_demo(demo)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == list(FINITE_TRAINING_METHODS.values())
    erm = ax.lines[0]
    np.testing.assert_allclose(erm.get_ydata(), trajectory[trajectory["method"] == "erm"]["test_entropy"])
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    np.testing.assert_allclose([m.get_ydata()[0] for m in markers], converged["test_entropy"])
    assert ax.get_xscale() == "log"


def test_theory_plots_draw_the_computed_numbers():
    from helpers.maths import theory, toy_training

    demo = toy_training.gradient_descent_demo(num_classes=4, alpha=0.2, steps=50)
    fig = plot_gradient_descent_demo(demo)
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), demo.ls_gap[demo.steps >= 1])
    frame = theory.entropy_vs_teacher_confidence([3.0, 1.0, 0.0], 0.5, 2.0, [0.4, 0.8])
    fig = plot_entropy_vs_teacher_confidence(frame, 0.5, 2.0, num_classes=3)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), frame["kd_entropy"])
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), frame["kd_mixed_entropy"])  # dashed at tau != 1


def test_reliability_diagram_writes_each_nonempty_bins_count(close_figures):
    import torch

    from helpers.maths.metrics import reliability_bins
    from helpers.reporting.plotting import reliability_diagram

    generator = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(200, 4, generator=generator) * 2, torch.randint(0, 4, (200,), generator=generator)
    fig = reliability_diagram(logits, targets, n_bins=10)
    counts = reliability_bins(logits, targets, 10)["count"]
    written = sorted(int(t.get_text()) for t in fig.axes[0].texts if t.get_text().isdigit())
    assert written == sorted(int(c) for c in counts if c > 0) and sum(written) == 200


# ----------------------------------------------------------------------------- legibility (reviewer's checklist)


def test_plain_text_strips_markdown_from_titles():
    from helpers.reporting.plotting import plain_text, set_title

    assert plain_text("shipped `full`, **fine-tuned** tier") == "shipped full, fine-tuned tier"
    assert plain_text(None) == ""
    fig, ax = plt.subplots()
    set_title(ax, "`trec`: seed 0")
    assert ax.get_title() == "trec: seed 0"


def _confident_logits(n=1276, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = 4.0 * torch.randn(n, 6, generator=g)
    y = torch.where(torch.rand(n, generator=g) < 0.8, z.argmax(1), torch.randint(0, 6, (n,), generator=g))
    return z, y


@pytest.mark.parametrize("ax_given", [False, True])
def test_reliability_diagram_counts_are_horizontal_legible_and_not_clipped(ax_given):
    z, y = _confident_logits()
    fig = reliability_diagram(z, y, label="teacher", ax=plt.subplots(figsize=(6.4, 4.0))[1] if ax_given else None,
                              title="`L6 (4 epochs)`")
    ax = fig.axes[0]
    counts = [t for t in ax.texts if t.get_text().isdigit()]
    assert counts and max(int(t.get_text()) for t in counts) >= 100  # three-digit counts, like the reviewer's "455"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    boxes = [t.get_window_extent(renderer) for t in counts]
    for text, box in zip(counts, boxes):
        assert text.get_rotation() == 0 and text.get_fontsize() >= 8
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1  # inside the figure
    for i, a in enumerate(boxes):  # no two counts touch
        assert not any(a.overlaps(b) for b in boxes[i + 1:])
    title = ax.title.get_window_extent(renderer)
    assert not any(title.overlaps(b) for b in boxes)  # the title sits above the counts
    assert ax.get_title().startswith("L6 (4 epochs): ECE")
    assert "examples per bin" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert_legible(fig, minimum=8.0)


def test_plot_before_after_is_legible():
    z, y = _confident_logits()
    assert_legible(plot_before_after(z, y, 2.0))


def test_metric_bars_units_and_title_without_backticks():
    frame = pd.DataFrame({"method": ["erm", "ls", "kd"] * 2, "entropy": [0.3, 0.6, 0.2, 0.31, 0.62, 0.21],
                          "accuracy": [0.9, 0.88, 0.91] * 2, "nll": [0.3] * 6})
    assert "(nats)" in metric_bars(frame, "entropy").axes[0].get_ylabel()
    assert "(nats)" in metric_bars(frame, "nll").axes[0].get_ylabel()
    assert "fraction" in metric_bars(frame, "accuracy").axes[0].get_ylabel()
    fig = metric_bars(frame, "entropy", title="`random` demo models")
    assert fig.axes[0].get_title() == "random demo models"
    assert_legible(fig)


def test_theory_and_distribution_plots_are_legible():
    from helpers.maths import theory, toy_training

    assert_legible(plot_gradient_descent_demo(toy_training.gradient_descent_demo(num_classes=4, alpha=0.2, steps=50)))
    frame = theory.entropy_vs_teacher_confidence([3.0, 1.0, 0.0], 0.5, 2.0, [0.4, 0.8])
    assert_legible(plot_entropy_vs_teacher_confidence(frame, 0.5, 2.0, num_classes=3))
    assert_legible(entropy_distribution(_entropies(), num_classes=6))
