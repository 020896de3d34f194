"""Notebook 08's explorers driven headless: move a slider, read the displayed numbers."""

import pandas as pd
import pytest

from helpers.reporting.verdicts import format_ci
from helpers.teaching.explorer import GridExplorer, LiveExplorer
from helpers.learning.frozen_features import toy_feature_set
from helpers.learning.features import HeadConfig, run_head

DATA = toy_feature_set(num_classes=3, per_class=40, dim=8, seed=3)
STUDENT = HeadConfig(layer=1, hidden=8, epochs=3, batch_size=32, learning_rate=5e-3)
TEACHER = HeadConfig(layer=6, hidden=8, epochs=20, batch_size=32, learning_rate=5e-3)


def _summary():
    rows = []
    for alpha in (0.0, 0.5, 0.9):
        rows.append(dict(method="ls", alpha=alpha, temperature=float("nan"), entropy=0.3 + alpha, entropy_ci=0.01,
                         accuracy=0.9 - 0.01 * alpha, accuracy_ci=0.005))
        for tau in (1.0, 4.0):
            rows.append(dict(method="kd", alpha=alpha, temperature=tau, entropy=0.3 - 0.1 * alpha * tau, entropy_ci=0.02,
                             accuracy=0.9, accuracy_ci=0.004))
    return pd.DataFrame(rows)


def test_grid_explorer_shows_the_selected_grid_point():
    app = GridExplorer(_summary(), method="kd", alpha=0.5, temperature=1.0)
    assert app.state["entropy"] == pytest.approx(0.25)
    app.sliders["temperature"].value = 4.0
    assert app.state["entropy"] == pytest.approx(0.3 - 0.1 * 0.5 * 4.0)
    assert format_ci(0.1, 0.02) in app.readout.value and "τ = 4" in app.readout.value
    assert app.state["entropy_vs_erm"] == pytest.approx(0.1 - 0.3)
    app.sliders["method"].value = "ls"
    app.sliders["alpha"].value = 0.9
    assert app.state["entropy"] == pytest.approx(1.2) and app.state["temperature"] is None
    assert "LS (α = 0.9)" in app.readout.value and app.image.value[:4] == b"\x89PNG"


def test_grid_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="columns"):
        GridExplorer(pd.DataFrame({"method": ["ls"]}))
    with pytest.raises(ValueError, match="both LS and KD"):
        GridExplorer(_summary()[lambda f: f["method"] == "ls"])
    with pytest.raises(ValueError, match="no grid point"):
        GridExplorer(_summary()).point("kd", 0.3, 1.0)


def test_live_explorer_trains_the_student_the_sliders_describe():
    app = LiveExplorer(DATA, STUDENT, TEACHER, method="kd", alpha=0.5, temperature=1.0, seeds=(0, 1))
    app.sliders["alpha"].value = 0.9
    app.sliders["temperature"].value = 4.0
    expected = run_head(STUDENT.replace(method="kd", alpha=0.9, temperature=4.0, teacher=TEACHER), DATA).metrics
    assert app.state["entropy"] == pytest.approx(expected["entropy"])
    assert f"{expected['entropy']:.3f}" in app.readout.value and f"{expected['accuracy']:.3f}" in app.readout.value
    app.sliders["method"].value = "ls"
    app.sliders["seed"].value = 1
    ls = run_head(STUDENT.replace(method="ls", alpha=0.9, seed=1), DATA).metrics
    erm = run_head(STUDENT.replace(seed=1), DATA).metrics
    assert app.state["entropy"] == pytest.approx(ls["entropy"])
    assert app.state["entropy_vs_erm"] == pytest.approx(ls["entropy"] - erm["entropy"])
    assert app.state["config"].label() == "L1 LS α=0.9"  # the one readable spelling (helpers.learning.results)


def test_live_explorer_scale_slider_changes_the_teacher():
    app = LiveExplorer(DATA, STUDENT, TEACHER, alpha=0.9, temperature=1.0)
    app.sliders["scale"].value = 0.25
    assert app.state["config"].teacher_logit_scale == 0.25
    soft = app.state["entropy"]
    app.sliders["scale"].value = 4.0
    assert app.state["entropy"] < soft


def test_live_explorer_rejects_bad_input():
    with pytest.raises(ValueError, match="ERM"):
        LiveExplorer(DATA, STUDENT.replace(method="ls", alpha=0.1), TEACHER)
    with pytest.raises(ValueError, match="temperature"):
        LiveExplorer(DATA, STUDENT, TEACHER, temperature=5.0)
    with pytest.raises(ValueError, match="FeatureSet"):
        LiveExplorer({}, STUDENT, TEACHER)
