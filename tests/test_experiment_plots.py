"""The experiment notebooks' plots return Figures and refuse bad input."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import assert_legible  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers.maths.regression import fit_line  # noqa: E402
from helpers.reporting.verdicts import verdict_table  # noqa: E402
from helpers.reporting.result_plots import (  # noqa: E402
    difference_plot,
    entropies_by_label,
    entropies_by_run,
    entropy_density_plot,
    reflected_density,
    inheritance_plot,
    length_histogram,
    projection_plot,
    sweep_plot,
)


pytestmark = pytest.mark.usefixtures("close_figures")


def _runs():
    rows = []
    for seed in range(3):
        common = dict(tier="finetune", task="trec", student="L2", seed=seed, accuracy=0.9, max_prob=0.9, nll=0.3, ece=0.03, train_seconds=1.0)
        rows += [{**common, "teacher": "", "method": "erm", "alpha": 0.0, "temperature": "", "entropy": 0.3 + 0.01 * seed},
                 {**common, "teacher": "", "method": "ls", "alpha": 0.1, "temperature": "", "entropy": 0.6 + 0.02 * seed},
                 {**common, "teacher": "L6", "method": "kd", "alpha": 0.5, "temperature": 4.0, "entropy": 0.1 + 0.01 * seed}]
    return pd.DataFrame(rows)


def test_difference_plot_draws_one_interval_per_comparison():
    fig = difference_plot(verdict_table(_runs()))
    assert isinstance(fig, Figure) and len(fig.axes[0].get_yticklabels()) == 2
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # LS carries its pre-declared prediction; KD has none without the teacher's validation entropy
    assert "trec · L2 KD α=0.5 τ=4 ← L6 (standard; n=3)" in labels and "trec · L2 LS α=0.1 (n=3) · predicted ↑" in labels
    band = [p for p in fig.axes[0].patches if p.get_label().startswith("negligible band")]
    assert band and band[0].get_x() == pytest.approx(-0.01)  # the negligible band is drawn, ±0.01 nats
    with pytest.raises(ValueError, match="lacks column"):
        difference_plot(pd.DataFrame({"task": ["trec"]}))


def test_inheritance_plot_marks_the_crossover():
    points = pd.DataFrame({"knob": ["reference", "ls α", "ls α", "epochs"], "teacher_entropy": [0.1, 0.5, 0.9, 0.3],
                           "student_entropy": [0.15, 0.45, 0.8, 0.3], "student_entropy_ci": [0.01, 0.02, 0.02, np.nan]})
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    fig = inheritance_plot(points, fit, erm_entropy=0.3, erm_ci=0.02, erm_se=0.01)
    ax = fig.axes[0]
    crossing = fit.crossing_interval(0.3, 0.01)
    span = _crossover_span(ax)  # drawn as its 95% Fieller interval, not as an exact line
    assert span == pytest.approx((max(crossing.low, 0.0), crossing.high))
    point = [line for line in ax.get_lines() if list(line.get_xdata()) == [pytest.approx(crossing.point)]]
    assert point and point[0].get_ydata()[0] == pytest.approx(0.3)
    assert any(f"95% Fieller interval [{crossing.low:.2f}, {crossing.high:.2f}]" in label for label in _legend_labels(ax))
    assert not [line for line in ax.get_lines() if len(line.get_xdata()) == 2 and len(set(line.get_xdata())) == 1]
    with pytest.raises(ValueError, match="empty"):
        inheritance_plot(points.iloc[0:0], fit, 0.3)


def test_sweep_plot_has_ls_and_one_kd_curve_per_temperature():
    rows = []
    for alpha in (0.0, 0.5):
        rows.append(dict(method="ls", alpha=alpha, temperature="", entropy=0.3 + alpha, entropy_ci=0.01))
        for tau in (1.0, 4.0):
            rows.append(dict(method="kd", alpha=alpha, temperature=tau, entropy=0.3 - 0.1 * alpha * tau, entropy_ci=np.nan))
    fig = sweep_plot(pd.DataFrame(rows))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["LS", "KD τ=1", "KD τ=4"]
    with pytest.raises(ValueError, match="lacks column"):
        sweep_plot(pd.DataFrame(rows), metric="accuracy")


def test_projection_plot_one_panel_per_model():
    frame = pd.DataFrame({"x": [0.0, 1.0, 0.5], "y": [0.0, 0.0, 1.0], "class": ["a", "b", "c"]})
    vertices = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]])
    fig = projection_plot({"ERM": (frame, vertices, 0.5), "LS": (frame, vertices, 0.2)})
    assert len(fig.axes) == 2 and "0.20" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="at least one"):
        projection_plot({})


def test_length_histogram():
    fig = length_histogram({"trec": [10, 12, 13, 20], "rt": [20, 30, 25]})
    assert isinstance(fig, Figure) and "median 12" in fig.axes[0].get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError):
        length_histogram({})


def test_entropies_by_run_keys_teacher_and_methods():
    from helpers.learning.frozen_features import toy_feature_set
    from helpers.learning.features import HeadConfig, run_head

    data = toy_feature_set(per_class=10, dim=4)
    teacher = HeadConfig(layer=6, hidden=4, epochs=2)
    student = HeadConfig(layer=1, hidden=4, epochs=1)
    configs = [teacher, student, student.replace(method="ls", alpha=0.1),
               student.replace(method="kd", alpha=0.5, teacher=teacher),
               student.replace(method="kd", alpha=0.5, teacher=teacher, teacher_logit_scale=2.0)]
    curves = entropies_by_run([run_head(c, data) for c in configs], teacher=teacher)
    assert list(curves)[:4] == ["teacher", "erm", "ls", "kd"] and len(curves) == 5
    assert list(curves)[4].endswith("×2") and curves["erm"].shape == (15,)


def test_difference_plot_names_the_tier_when_tiers_are_mixed():
    both = pd.concat([_runs(), _runs().assign(tier="features")], ignore_index=True)
    labels = [t.get_text() for t in difference_plot(verdict_table(both)).axes[0].get_yticklabels()]
    assert any(label.startswith("frozen-feature tier · ") for label in labels)
    assert any(label.startswith("fine-tuned tier · ") for label in labels)


def _sweep(n, seeds_accuracy):
    """A sweep summary whose accuracy t-interval from two seeds would leave [0, 1]."""
    rows = []
    for alpha in (0.0, 0.5):
        values = np.array(seeds_accuracy)
        half = 12.706 * values.std(ddof=1) / np.sqrt(len(values))
        rows.append(dict(method="ls", alpha=alpha, temperature="", accuracy=values.mean(), accuracy_ci=half, n=n,
                         accuracy_min=values.min(), accuracy_max=values.max()))
        rows.append(dict(method="kd", alpha=alpha, temperature=4.0, accuracy=values.mean(), accuracy_ci=half, n=n,
                         accuracy_min=values.min(), accuracy_max=values.max()))
    return pd.DataFrame(rows)


def _band_limits(ax):
    low, high = [], []
    for collection in ax.collections:
        for path in collection.get_paths():
            ys = path.vertices[:, 1]
            if len(ys):
                low.append(ys.min())
                high.append(ys.max())
    return min(low), max(high)


def test_sweep_plot_bands_stay_inside_the_metric_range_and_use_min_max_with_two_seeds():
    fig = sweep_plot(_sweep(2, [0.86, 0.96]), metric="accuracy")
    ax = fig.axes[0]
    low, high = _band_limits(ax)
    assert high <= 1.0 and low >= 0.0
    assert (low, high) == pytest.approx((0.86, 0.96))  # min–max of the two seeds, not the t-interval
    assert any("min–max of 2 seeds" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_ylim()[1] <= 1.02


def test_sweep_plot_clips_a_t_band_with_three_seeds():
    fig = sweep_plot(_sweep(3, [0.9, 0.99, 0.999]).assign(accuracy_ci=0.3), metric="accuracy")
    low, high = _band_limits(fig.axes[0])
    assert high == pytest.approx(1.0) and low >= 0.0
    assert any("95% t-band, 3 seeds" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_sweep_plot_curves_have_distinct_line_styles():
    rows = []
    for alpha in (0.0, 0.5):
        rows.append(dict(method="ls", alpha=alpha, temperature="", entropy=0.3, entropy_ci=0.01))
        for tau in (1.0, 4.0):
            rows.append(dict(method="kd", alpha=alpha, temperature=tau, entropy=0.3, entropy_ci=0.01))
    lines = [line for line in sweep_plot(pd.DataFrame(rows)).axes[0].get_lines() if line.get_label() != "_nolegend_"]
    assert len({(str(line.get_linestyle()), line.get_marker()) for line in lines}) == 3


def test_reflected_density_covers_the_support_and_integrates_to_one():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.uniform(0.0, 0.02, 300), rng.uniform(0.3, 0.6, 50)])
    upper = np.log(6)
    x, density = reflected_density(values, upper)
    assert x[0] == 0.0 and x[-1] == pytest.approx(upper)
    assert np.trapezoid(density, x) == pytest.approx(1.0, abs=0.01)
    assert density[0] > 0  # the curve reaches the boundary at 0 instead of stopping at the data's minimum
    with pytest.raises(ValueError):
        reflected_density([-0.5, 0.2], upper)


def test_entropy_density_plot_draws_erm_last_dashed_and_spans_zero_to_log_k():
    same = np.linspace(0.1, 0.5, 40)
    fig = entropy_density_plot({"L1 ERM": same, "L1 KD α=0.5 τ=1 ← L6 (4 epochs)": same,
                                "teacher L6": same * 0.5}, num_classes=6)
    lines = [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("max")]
    assert lines[-1].get_label().startswith("L1 ERM") and lines[-1].get_linestyle() == "--"
    assert len({(line.get_color(), line.get_linestyle()) for line in lines}) == 3
    assert lines[0].get_xdata()[0] == 0.0 and lines[0].get_xdata()[-1] == pytest.approx(np.log(6))


def test_entropies_by_label_use_the_readable_run_labels():
    from helpers.learning.frozen_features import toy_feature_set
    from helpers.learning.features import HeadConfig, run_head

    data = toy_feature_set(per_class=10, dim=4)
    teacher = HeadConfig(layer=6, hidden=4, epochs=2)
    student = HeadConfig(layer=1, hidden=4, epochs=1)
    early = teacher.replace(epochs=1)
    configs = [teacher, early, student, student.replace(method="kd", alpha=0.5, temperature=4.0, teacher=teacher),
               student.replace(method="kd", alpha=0.5, temperature=4.0, teacher=early)]
    curves = entropies_by_label([run_head(c, data) for c in configs], teachers=[teacher, early])
    # two teachers, two keys, each in the kit's one teacher spelling: the words its KD students' labels use after ←
    assert list(curves) == ["teacher L6 (2 epochs)", "teacher L6 (1 epoch)", "L1 ERM", "L1 KD α=0.5 τ=4 ← L6 (2 epochs)",
                            "L1 KD α=0.5 τ=4 ← L6 (1 epoch)"]
    for key in list(curves)[:2]:
        assert any(other.endswith("← " + key.removeprefix("teacher ")) for other in curves)
    with pytest.raises(ValueError, match="share the legend key"):
        entropies_by_label([run_head(student, data), run_head(student, data)])


def test_inheritance_annotation_stays_inside_the_axes():
    points = pd.DataFrame({"knob": ["epochs"] * 4, "label": ["L6 (4 epochs)", "L6 (4 epochs)", "L6 (1 epoch)", "L6 (1 epoch)"],
                           "teacher_entropy": [0.05, 0.05, 0.9, 0.9], "student_entropy": [0.2, 0.22, 0.6, 0.58],
                           "student_entropy_ci": [np.nan] * 4})
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    for erm in (0.25, 0.55):  # crossover in the left half, then in the right half
        fig = inheritance_plot(points, fit, erm_entropy=erm)
        ax = fig.axes[0]
        fig.canvas.draw()
        box, inside = ax.texts[0].get_window_extent(), ax.get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert {"KD students of L6 (4 epochs)", "KD students of L6 (1 epoch)"} <= set(legend)
        plt.close(fig)


def test_inheritance_plot_marks_no_crossover_when_the_slope_is_not_clearly_positive():
    points = pd.DataFrame({"knob": ["epochs"] * 4, "teacher_entropy": [0.1, 0.1, 0.9, 0.9],
                           "student_entropy": [0.2, 0.6, 0.25, 0.65], "student_entropy_ci": [np.nan] * 4})
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    assert fit.slope > 0 and fit.slope_low < 0
    ax = inheritance_plot(points, fit, erm_entropy=0.4).axes[0]
    assert not ax.texts and not [line for line in ax.get_lines() if len(set(line.get_xdata())) == 1]


# ----------------------------------------------------------------------------- legibility (reviewer's checklist)


def _legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _crossover_span(ax):
    """The x extent of the shaded crossover interval (None when none is drawn)."""
    spans = [patch for patch in ax.patches if patch.get_label().startswith("crossover")]
    if not spans:
        return None
    patch = spans[0]  # axvspan: x in data units, y in axes units
    xs = [patch.get_x(), patch.get_x() + patch.get_width()] if hasattr(patch, "get_width") else patch.get_xy()[:, 0]
    return float(min(xs)), float(max(xs))


def _density_inputs():
    rng = np.random.default_rng(0)
    same = rng.uniform(0.1, 0.6, 300)
    return {"teacher L6 (4 epochs)": rng.uniform(0.0, 0.2, 300), "teacher L6 (1 of 4 epochs)": rng.uniform(0.5, 1.2, 300),
            "L1 ERM": same, "L1 LS α=0.1": rng.uniform(0.4, 1.0, 300),
            "L1 KD α=0.5 τ=1 ← L6 (4 epochs)": same, "L1 KD α=0.5 τ=1 ← L6 (1 of 4 epochs)": rng.uniform(0.3, 1.0, 300)}


def test_entropy_density_plot_legend_has_one_distinct_legible_key_per_curve():
    entropies = _density_inputs()
    fig = entropy_density_plot(entropies, num_classes=6, title="`trec`: fine-tuned models")
    ax = fig.axes[0]
    labels = _legend_labels(ax)
    assert len(labels) == len(set(labels)) == len(entropies) + 1  # every curve plus the log K line
    drawn = [line.get_label() for line in ax.get_lines()]
    assert sorted(drawn) == sorted(labels)  # every line drawn has its legend key, and no key lacks a line
    for key in entropies:  # the full run/teacher label, both teachers
        assert any(label.startswith(key + " (mean") for label in labels)
    assert all(text.get_fontsize() >= 9 for text in ax.get_legend().get_texts())
    assert ax.get_title() == "trec: fine-tuned models"
    assert "(nats)" in ax.get_xlabel()
    assert_legible(fig)


def test_entropy_density_plot_keeps_a_curve_identical_to_erm_visible():
    fig = entropy_density_plot(_density_inputs(), num_classes=6)
    lines = {line.get_label().split(" (mean")[0]: line for line in fig.axes[0].get_lines()}
    erm, kd = lines["L1 ERM"], lines["L1 KD α=0.5 τ=1 ← L6 (4 epochs)"]
    np.testing.assert_allclose(erm.get_ydata(), kd.get_ydata())  # the same data: one curve on top of the other
    assert fig.axes[0].get_lines().index(erm) == len(lines) - 2  # ERM last (before the log K line)
    assert erm.get_linestyle() == "--" and erm.get_linewidth() < kd.get_linewidth()  # thinner, dashed: KD shows around
    assert kd.get_marker() not in (None, "None", "") and kd.get_color() != erm.get_color()
    styles = {(str(line.get_color()), str(line.get_linestyle()), str(line.get_marker())) for line in lines.values()}
    assert len(styles) == len(lines)


def test_entropy_density_plot_names_the_split_only_when_there_is_one():
    values = {"teacher, test split": np.linspace(0.0, 0.5, 30), "teacher, training split": np.linspace(0.0, 0.2, 30)}
    assert "test split" not in entropy_density_plot(values, num_classes=6, split=None).axes[0].get_xlabel()
    assert "training split" in entropy_density_plot(values, num_classes=6, split="training").axes[0].get_xlabel()
    assert "test split" in entropy_density_plot(values, num_classes=6).axes[0].get_xlabel()


def _knob_points():
    return pd.DataFrame({"knob": ["reference", "ls α", "ls α", "epochs", "epochs", "logit scale"],
                         "teacher_entropy": [0.30, 0.50, 0.70, 0.40, 0.60, 0.35],
                         "student_entropy": [0.32, 0.47, 0.66, 0.41, 0.58, 0.36],
                         "student_entropy_ci": [0.01, 0.02, 0.02, 0.01, 0.02, 0.01]})


def test_inheritance_plot_title_names_alpha_tau_student_and_tier_without_backticks():
    points = _knob_points()
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    fig = inheritance_plot(points, fit, 0.45, 0.01, title="shipped `full`, trec: 6 teachers", alpha=0.5, temperature=4.0,
                           student="L1", tier="features")
    title = fig.axes[0].get_title()
    assert "`" not in title and "shipped full" in title
    assert "α=0.5" in title and "τ=4" in title and "student L1" in title and "frozen-feature tier" in title
    assert_legible(fig)
    assert inheritance_plot(points, fit, 0.45).axes[0].get_title() == ""  # the old call still works, untitled


def test_inheritance_plot_knobs_have_distinct_markers_and_colours_in_the_legend():
    points = _knob_points()
    fig = inheritance_plot(points, fit_line(points["teacher_entropy"], points["student_entropy"]), 0.45)
    ax = fig.axes[0]
    styles = {}
    for container in ax.containers:  # one errorbar container per knob
        line = container.lines[0]
        styles[container.get_label()] = (line.get_marker(), str(line.get_color()))
    assert len(styles) == 4 and len(set(styles.values())) == 4
    assert len({marker for marker, _ in styles.values()}) == 4  # shapes alone tell the knobs apart
    assert {"converged teacher", "teacher stopped after fewer epochs"} <= set(_legend_labels(ax))
    labels = _legend_labels(ax)
    assert len(labels) == len(set(labels))


def test_inheritance_plot_draws_fit_and_crossover_only_inside_the_observed_teacher_range():
    points = _knob_points()
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    low, high = points["teacher_entropy"].min(), points["teacher_entropy"].max()
    ax = inheritance_plot(points, fit, 0.45).axes[0]
    fitted = [line for line in ax.get_lines() if line.get_label().startswith("fit")][0]
    assert min(fitted.get_xdata()) == pytest.approx(low) and max(fitted.get_xdata()) == pytest.approx(high)
    band = [c for c in ax.collections if c.get_label() == "the fit's 95% band"]
    assert band and band[0].get_paths()[0].vertices[:, 0].min() == pytest.approx(low)
    span = _crossover_span(ax)
    assert span is not None and low <= fit.crossing(0.45) <= high
    # an ERM entropy the fit meets far left of every teacher: the crossover is an extrapolation, named but not drawn
    ax = inheritance_plot(points, fit, 0.05).axes[0]
    assert _crossover_span(ax) is None
    assert not ax.texts and any("not drawn" in label for label in _legend_labels(ax))


def test_sweep_plot_temperature_curves_have_distinguishable_colours():
    from matplotlib.colors import to_rgb

    rows = []
    for alpha in (0.0, 0.5):
        rows.append(dict(method="ls", alpha=alpha, temperature="", entropy=0.3, entropy_ci=0.01))
        for tau in (1.0, 2.0, 4.0, 8.0):
            rows.append(dict(method="kd", alpha=alpha, temperature=tau, entropy=0.3, entropy_ci=0.01))
    fig = sweep_plot(pd.DataFrame(rows), title="`trec`: test entropy")
    lines = [line for line in fig.axes[0].get_lines() if line.get_label() != "_nolegend_"]
    colors = [np.array(to_rgb(line.get_color())) for line in lines]
    gaps = [np.abs(a - b).max() for i, a in enumerate(colors) for b in colors[i + 1:]]
    assert min(gaps) > 0.25  # not shades of one green
    assert "(nats)" in fig.axes[0].get_ylabel()
    assert_legible(fig)


def test_projection_plot_panels_share_limits_and_show_labelled_axes():
    frame = pd.DataFrame({"x": [0.0, 1.0, 0.5], "y": [0.0, 0.0, 1.0], "class": ["a", "b", "c"]})
    wide = frame.assign(x=frame["x"] * 4, y=frame["y"] * 4)
    vertices = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]])
    fig = projection_plot({"`ERM`": (wide, vertices * 3, 0.5), "LS": (frame, vertices, 0.2)})
    left, right = fig.axes
    assert left.get_xlim() == pytest.approx(right.get_xlim()) and left.get_ylim() == pytest.approx(right.get_ylim())
    assert left.get_xlim()[1] >= 4.0 and left.get_ylim()[1] >= 4.0  # the union of both panels' points
    for ax in fig.axes:
        assert "coordinate" in ax.get_xlabel() and "units" in ax.get_xlabel() and len(ax.get_xticks()) > 1
    assert "coordinate" in left.get_ylabel()
    assert_legible(fig)


def test_difference_plot_is_legible():
    assert_legible(difference_plot(verdict_table(_runs())))


def test_sweep_plot_with_one_seed_shows_no_band_swatch():
    rows = [dict(method=m, alpha=a, temperature=t, entropy=0.3 + a, entropy_ci=np.nan, n=1)
            for a in (0.0, 0.5) for m, t in (("ls", ""), ("kd", 4.0))]
    ax = sweep_plot(pd.DataFrame(rows)).axes[0]
    assert not ax.collections and "no bands: one seed" in _legend_labels(ax)


# ----------------------------------------------------------------------------- one style per method and per teacher


def test_a_checkpoint_teachers_legend_key_is_its_one_spelling():
    from types import SimpleNamespace

    import torch

    from helpers.learning.finetune import TrainConfig

    finished = TrainConfig(task="trec", student="L6", epochs=6)
    checkpoint = finished.replace(epochs=1, schedule_epochs=6)
    student = TrainConfig(task="trec", student="L1", epochs=3)
    kd = student.replace(method="kd", alpha=0.5, temperature=4.0, teacher=checkpoint)
    logits = {"test": torch.zeros(4, 6)}
    records = [SimpleNamespace(config=c, logits=logits) for c in (checkpoint, finished, kd)]
    curves = entropies_by_label(records, teachers=[checkpoint, finished])
    # the 1-of-6 checkpoint is not "L6 (1 epoch)": the legend uses the spelling its KD student's label uses after ←
    assert list(curves) == ["teacher L6 (1 of 6 epochs)", "teacher L6 (6 epochs)", "L1 KD α=0.5 τ=4 ← L6 (1 of 6 epochs)"]


def test_every_teacher_keeps_its_marker_and_colour_across_panels_and_figures():
    from helpers.reporting.plotting import METHOD_COLORS, teacher_style

    rungs = ["L6 (1 of 6 epochs)", "L6 (2 of 6 epochs)", "L6 (3 of 6 epochs)", "L6 (6 epochs)"]
    styles = [teacher_style(label) for label in rungs]
    assert len(set(styles)) == 4 and len({m for m, _ in styles}) == 4  # shapes alone tell the rungs apart
    assert not {c for _, c in styles} & {METHOD_COLORS["erm"], METHOD_COLORS["ls"], METHOD_COLORS["kd"]}
    assert teacher_style("L6 (2 of 6 epochs, seed 2)") == teacher_style("L6 (2 of 6 epochs)")  # runs of one setting

    def panel(labels):
        points = pd.DataFrame({"knob": "epochs", "label": labels, "teacher_entropy": np.linspace(0.1, 0.9, len(labels)),
                               "student_entropy": np.linspace(0.2, 0.7, len(labels)), "student_entropy_ci": 0.01,
                               "n": 5})
        ax = inheritance_plot(points, None, 0.4).axes[0]
        return {c.get_label().removeprefix("KD students of "): (c.lines[0].get_marker(), c.lines[0].get_color())
                for c in ax.containers}

    tau4, tau1 = panel(rungs), panel([rungs[0], rungs[-1]])  # τ = 1 has only the extreme rungs
    assert tau1[rungs[0]] == tau4[rungs[0]] and tau1[rungs[-1]] == tau4[rungs[-1]]
    assert tau4 == {label: style for label, style in zip(rungs, styles)}
    # the density figure: each teacher and its KD student in the teacher's colour and marker, LS in the LS colour
    lines = {line.get_label().split(" (mean")[0]: line
             for line in entropy_density_plot(_density_inputs(), num_classes=6).axes[0].get_lines()}
    for teacher in ("L6 (4 epochs)", "L6 (1 of 4 epochs)"):
        marker, color = teacher_style(teacher)
        for key in (f"teacher {teacher}", f"L1 KD α=0.5 τ=1 ← {teacher}"):
            assert (lines[key].get_marker(), lines[key].get_color()) == (marker, color)
    assert lines["L1 LS α=0.1"].get_color() == METHOD_COLORS["ls"] != METHOD_COLORS["kd"]


def test_inheritance_plot_error_bars_are_paired_when_the_points_have_them_and_the_legend_states_n():
    points = pd.DataFrame({"knob": "epochs", "label": ["L6 (1 of 6 epochs)", "L6 (2 of 6 epochs)", "L6 (6 epochs)"],
                           "teacher_entropy": [1.0, 0.4, 0.08], "student_entropy": [0.88, 0.52, 0.2],
                           "student_entropy_ci": [0.06, 0.07, 0.05], "student_entropy_paired_ci": [0.04, 0.03, 0.02],
                           "n": [5, 5, 5]})
    ax = inheritance_plot(points, None, 0.37, erm_ci=0.05).axes[0]
    labels = _legend_labels(ax)
    assert "error bars: paired 95% t-interval of KD − ERM (same seed), n = 5 seeds per point" in labels
    bars = ax.containers[1].lines[2][0].get_segments()[0]  # the 2-of-6 rung's bar
    assert bars[1][1] - bars[0][1] == pytest.approx(2 * 0.03)
    assert not [p for p in ax.patches if p.get_label() == "" and p.get_facecolor()[3] == pytest.approx(0.15)]
    unpaired = inheritance_plot(points.drop(columns=["student_entropy_paired_ci"]), None, 0.37).axes[0]
    assert "error bars: 95% t-interval over seeds, n = 5 seeds per point" in _legend_labels(unpaired)


def test_forest_plot_marks_holm_and_the_setting_and_says_95_percent_t_intervals():
    runs = _runs()
    noisy = runs[runs["method"] == "kd"].assign(teacher="L6 (1 of 6 epochs)",
                                                entropy=lambda f: 0.305 + 0.04 * (f["seed"] - 1.2))
    verdicts = verdict_table(pd.concat([runs, noisy], ignore_index=True))
    verdicts.loc[verdicts["teacher"] == "L6 (1 of 6 epochs)", ["direction", "holm"]] = ["up", False]
    ax = difference_plot(verdicts, title="shipped full, fine-tuned tier").axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(label.endswith("†") and "standard, outside paper setting" in label for label in labels)
    assert "trec · L2 KD α=0.5 τ=4 ← L6 (standard; n=3)" in labels
    assert ax.get_title().startswith("shipped full, fine-tuned tier\n") and "95% t-intervals" in ax.get_title()
    assert "† = does not survive Holm's correction" in ax.get_title()


def test_the_projection_legend_never_covers_a_panel():
    frame = pd.DataFrame({"x": [0.0, 1.0, 0.5], "y": [0.0, 0.0, 1.0], "class": ["a", "b", "c"]})
    vertices = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]])
    fig = projection_plot({"ERM": (frame, vertices, 0.5), "LS": (frame, vertices, 0.2)})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = next(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None).get_window_extent(renderer)
    for ax in fig.axes:
        assert not legend.overlaps(ax.get_window_extent(renderer))


def test_inheritance_plot_draws_the_crossover_interval_it_is_given():
    from helpers.maths.regression import CrossingCI

    points = _knob_points()
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    ax = inheritance_plot(points, fit, 0.45, crossing=CrossingCI(0.47, 0.40, 0.55, True)).axes[0]
    assert _crossover_span(ax) == pytest.approx((0.40, 0.55))  # e.g. over independent teacher runs, not the fit's
    ax = inheritance_plot(points, fit, 0.45, crossing=CrossingCI(0.47, -math.inf, math.inf, False)).axes[0]
    assert _crossover_span(ax) is None and any("unbounded" in label for label in _legend_labels(ax))
