"""Headless tests of helpers.teaching.widgets: drive each app's sliders, check what it displays."""

from __future__ import annotations

import io
import math

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers.teaching import slider_app, widgets
from helpers.maths.metrics import entropy, expected_calibration_error, reliability_bins

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _np_softmax(z) -> np.ndarray:
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_entropy(p) -> float:
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _heights(bars: slider_app.Bars) -> np.ndarray:
    """The bars' heights as drawn (read back from the collection's corners, not from its bookkeeping)."""
    corners = np.array([path.vertices[:4] for path in bars.get_paths()])
    return corners[:, 2, 1] - corners[:, 0, 1]


def _check_common(app: slider_app.SliderApp) -> None:
    assert isinstance(app, ipywidgets.VBox)
    assert bytes(app.image.value).startswith(PNG_MAGIC)
    assert all(s.continuous_update for s in app.sliders.values())
    figures = plt.get_fignums()
    slider = next(iter(app.sliders.values()))
    original = slider.value
    slider.value = original * 0.9 + 0.01 if isinstance(original, float) else original
    assert plt.get_fignums() == figures  # apps never go through pyplot (no stray inline figures)
    slider.value = original


# ----------------------------------------------------------------------------- temperature


def test_temperature_app_shows_entropy_of_shown_logits():
    app = widgets.temperature_app((2.0, 1.0, 0.1, -1.0))
    _check_common(app)
    figure, first_png = app.figure, bytes(app.image.value)
    app.sliders["temperature"].value = 2.0
    z = np.array([2.0, 1.0, 0.1, -1.0])
    expected = _np_softmax(z / 2.0)
    np.testing.assert_allclose(_heights(app.artists["bars"]), expected, atol=1e-6)
    assert _heights(app.artists["bars"]).sum() == pytest.approx(1.0, abs=1e-6)
    h = entropy(torch.tensor(z / 2.0, dtype=torch.float32)).item()
    assert app.state["entropy"] == pytest.approx(h, abs=1e-6)
    assert app.state["entropy"] == pytest.approx(_np_entropy(expected), abs=1e-5)
    assert f"<b>{h:.3f}</b> nats" in app.readout.value
    assert f"<b>{expected.max():.3f}</b>" in app.readout.value
    assert app.artists["marker"].get_ydata()[0] == pytest.approx(h, abs=1e-6)
    assert app.figure is figure and bytes(app.image.value) != first_png  # redrawn in place, not re-created

    before = app.readout.value
    app.sliders["logit_3"].value = 3.0  # class 3 becomes the arg-max
    assert app.readout.value != before
    assert int(np.argmax(_heights(app.artists["bars"]))) == 3


def test_temperature_app_limits():
    app = widgets.temperature_app((2.0, 1.0, 0.1, -1.0))
    app.sliders["temperature"].value = 0.01
    assert app.state["entropy"] < 1e-6 and app.state["max_prob"] == pytest.approx(1.0, abs=1e-6)
    app.sliders["temperature"].value = 100.0
    assert app.state["entropy"] == pytest.approx(math.log(4), abs=1e-3)
    np.testing.assert_allclose(_heights(app.artists["bars"]), 0.25, atol=0.02)


# ----------------------------------------------------------------------------- label smoothing


def test_label_smoothing_app_closed_forms():
    app = widgets.label_smoothing_app(alpha=0.1, num_classes=6)
    _check_common(app)
    app.sliders["num_classes"].value = 2
    app.sliders["alpha"].value = 0.2
    np.testing.assert_allclose(_heights(app.artists["bars"]), [0.9, 0.1], atol=1e-6)  # K bars, no more
    assert "<b>0.900</b>" in app.readout.value
    assert f"<b>{math.log(9):.3f}</b>" in app.readout.value
    floor = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert f"<b>{floor:.3f}</b> nats" in app.readout.value
    assert app.state["entropy_floor"] == pytest.approx(floor, abs=1e-6)
    # the curve shows the floor against alpha for the current K
    xs, ys = app.artists["curve"].get_data()
    i = int(np.argmin(np.abs(np.asarray(xs) - 0.2)))
    assert ys[i] == pytest.approx(floor, abs=1e-5)

    app.sliders["num_classes"].value = 10
    assert len(_heights(app.artists["bars"])) == 10
    assert _heights(app.artists["bars"]).sum() == pytest.approx(1.0, abs=1e-6)
    app.sliders["alpha"].value = 0.0
    assert "∞" in app.readout.value and app.state["entropy_floor"] == 0.0


# ----------------------------------------------------------------------------- distillation


def test_distillation_app_targets_and_entropies():
    base = (4.0, 2.0, 1.0, 0.0, -1.0, -2.0)
    app = widgets.distillation_app(base, confidence=0.9, temperature=1.0, alpha=0.5)
    _check_common(app)
    teacher = np.array(app.state["teacher_logits"])
    assert _np_softmax(teacher).max() == pytest.approx(0.9, abs=1e-4)
    kd = 0.5 * _np_softmax(teacher)
    kd[0] += 0.5
    ls = np.full(6, 0.5 / 6)
    ls[0] += 0.5
    np.testing.assert_allclose(_heights(app.artists["bars"]["kd"]), kd, atol=1e-5)
    np.testing.assert_allclose(_heights(app.artists["bars"]["ls"]), ls, atol=1e-6)
    for key in ("teacher", "kd", "ls"):
        assert _heights(app.artists["bars"][key]).sum() == pytest.approx(1.0, abs=1e-5)
    assert f"<b>{_np_entropy(kd):.3f}</b> nats" in app.readout.value
    assert f"<b>{_np_entropy(ls):.3f}</b> nats" in app.readout.value
    assert "<b>lower than</b>" in app.readout.value

    app.sliders["temperature"].value = 20.0  # a hot teacher: p_t^tau nearly uniform, the KD optimum is not
    t = np.array(app.state["teacher_logits"])
    np.testing.assert_allclose(_heights(app.artists["bars"]["teacher"]), _np_softmax(t / 20.0), atol=1e-5)
    assert abs(app.state["kd_mixed_entropy"] - app.state["ls_entropy"]) < 0.1
    assert app.state["kd_entropy"] < app.state["ls_entropy"] - 0.5
    np.testing.assert_allclose(_heights(app.artists["bars"]["kd"]), app.state["kd_target"], atol=1e-7)
    assert f"<b>{app.state['kd_entropy']:.3f}</b> nats" in app.readout.value
    # the curve's marker sits on the curve
    app.sliders["teacher_confidence"].value = 0.5
    assert app.artists["kd_marker"].get_ydata()[0] == pytest.approx(app.state["kd_entropy"])


# ----------------------------------------------------------------------------- calibration


def test_calibration_app_ece_matches_metrics():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(400, 5, generator=g) * 3
    y = torch.multinomial(torch.softmax(z / 3, -1), 1, generator=g).squeeze(1)
    app = widgets.calibration_app(z, y, n_bins=10, fitted_temperature=3.0)
    _check_common(app)
    assert "T* = 3" in app.readout.value
    before = app.readout.value
    app.sliders["temperature"].value = 2.0
    assert app.readout.value != before
    ece = expected_calibration_error(z / 2.0, y, 10)
    assert f"ECE = <b>{ece:.3f}</b>" in app.readout.value
    assert app.state["ece"] == pytest.approx(ece, abs=1e-7)
    assert f"<b>{entropy(z / 2.0).mean().item():.3f}</b> nats" in app.readout.value
    bins = reliability_bins(z / 2.0, y, 10)
    np.testing.assert_allclose(_heights(app.artists["accuracy_bars"]), bins["accuracy"].nan_to_num(0.0).numpy(), atol=1e-6)
    np.testing.assert_allclose(_heights(app.artists["count_bars"]), (bins["count"] / 400).numpy(), atol=1e-6)
    assert _heights(app.artists["count_bars"]).sum() == pytest.approx(1.0, abs=1e-6)


def _picture(app: slider_app.SliderApp) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(bytes(app.image.value))).convert("RGB"))


@pytest.mark.parametrize("make", [
    lambda: widgets.temperature_app(),
    lambda: widgets.label_smoothing_app(),
    lambda: widgets.distillation_app(),
    lambda: widgets.calibration_app(torch.randn(200, 4, generator=torch.Generator().manual_seed(1)) * 3,
                                    torch.arange(200) % 4),
], ids=["temperature", "label_smoothing", "distillation", "calibration"])
def test_only_what_moves_is_redrawn_and_nothing_stale_is_left(make):
    """Every slider moved away and back gives the first picture again, pixel for pixel: the partial redraws
    (background pasted back, moving artists drawn, legends pasted over them) leave no trace of the other view."""
    app = make()
    first = _picture(app)
    for slider in app.sliders.values():
        original = slider.value
        slider.value = slider.max if isinstance(slider, ipywidgets.IntSlider) else (
            10 ** slider.max if isinstance(slider, ipywidgets.FloatLogSlider) else slider.max)
        assert not np.array_equal(_picture(app), first), slider.description  # it did move
        slider.value = original
        np.testing.assert_array_equal(_picture(app), first, err_msg=slider.description)
    assert first.shape == (340, 900, 3)


def test_the_png_is_the_canvas():
    app = widgets.temperature_app()
    canvas = np.asarray(app.figure.canvas.buffer_rgba())
    np.testing.assert_array_equal(_picture(app), canvas[:, :, :3])
    with pytest.raises(ValueError, match="uint8"):
        slider_app.png_bytes(np.zeros((4, 4, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: widgets.temperature_app([1.0]), "logits"),
        (lambda: widgets.label_smoothing_app(num_classes=50), "num_classes"),
        (lambda: widgets.label_smoothing_app(alpha=2.0), "alpha"),
        (lambda: widgets.distillation_app(confidence=1.0), "confidence"),
        (lambda: widgets.calibration_app(torch.zeros(4, 3), torch.tensor([0, 1, 2])), "targets"),
        (lambda: widgets.calibration_app(torch.zeros(4, 3), torch.tensor([0, 1, 2, 0]), n_bins=0), "n_bins"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
