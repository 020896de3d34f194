"""The experiment notebooks' plots return Figures and refuse bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers.analysis import fit_line, verdict_table  # noqa: E402
from helpers.experiment_plots import (  # noqa: E402
    difference_plot,
    entropies_by_run,
    inheritance_plot,
    length_histogram,
    projection_plot,
    sweep_plot,
)


pytestmark = pytest.mark.usefixtures("close_figures")


def _runs():
    rows = []
    for seed in range(3):
        common = dict(task="trec", student="L2", seed=seed, accuracy=0.9, max_prob=0.9, nll=0.3, ece=0.03, train_seconds=1.0)
        rows += [{**common, "teacher": "", "method": "erm", "alpha": 0.0, "temperature": "", "entropy": 0.3 + 0.01 * seed},
                 {**common, "teacher": "", "method": "ls", "alpha": 0.1, "temperature": "", "entropy": 0.6 + 0.02 * seed},
                 {**common, "teacher": "L6", "method": "kd", "alpha": 0.5, "temperature": 4.0, "entropy": 0.1 + 0.01 * seed}]
    return pd.DataFrame(rows)


def test_difference_plot_draws_one_interval_per_comparison():
    fig = difference_plot(verdict_table(_runs()))
    assert isinstance(fig, Figure) and len(fig.axes[0].get_yticklabels()) == 2
    with pytest.raises(ValueError, match="lacks column"):
        difference_plot(pd.DataFrame({"task": ["trec"]}))


def test_inheritance_plot_marks_the_crossover():
    points = pd.DataFrame({"knob": ["reference", "ls α", "ls α", "epochs"], "teacher_entropy": [0.1, 0.5, 0.9, 0.3],
                           "student_entropy": [0.15, 0.45, 0.8, 0.3], "student_entropy_ci": [0.01, 0.02, 0.02, np.nan]})
    fit = fit_line(points["teacher_entropy"], points["student_entropy"])
    fig = inheritance_plot(points, fit, erm_entropy=0.3, erm_ci=0.02)
    ax = fig.axes[0]
    vertical = [line for line in ax.get_lines() if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2]
    assert vertical and vertical[0].get_xdata()[0] == pytest.approx(fit.crossing(0.3))
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
    from helpers.features import HeadConfig, run_head, toy_feature_set

    data = toy_feature_set(per_class=10, dim=4)
    teacher = HeadConfig(layer=6, hidden=4, epochs=2)
    student = HeadConfig(layer=1, hidden=4, epochs=1)
    configs = [teacher, student, student.replace(method="ls", alpha=0.1),
               student.replace(method="kd", alpha=0.5, teacher=teacher),
               student.replace(method="kd", alpha=0.5, teacher=teacher, teacher_logit_scale=2.0)]
    curves = entropies_by_run([run_head(c, data) for c in configs], teacher=teacher)
    assert list(curves)[:4] == ["teacher", "erm", "ls", "kd"] and len(curves) == 5
    assert list(curves)[4].endswith("×2") and curves["erm"].shape == (15,)
