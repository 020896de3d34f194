"""The live charts' spec builders (helpers.teaching.live_charts), without a browser: valid Vega-Lite, one slider per
control of the Python app with the same range, step and first value, and the app recognised from its sliders.

The numbers the browser computes are checked against the Python maths in tests/browser/test_live_charts_in_browser.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from helpers.teaching import live_charts, live_html, widgets
from helpers.teaching import slider_defaults as defaults

vl_convert = pytest.importorskip("vl_convert")


def bindings(spec: dict) -> dict[str, dict]:
    """Parameter name -> {value, min, max, step, name} of every slider of a spec."""
    found = {}
    for param in spec.get("params", []):
        bind = param.get("bind") or {}
        if bind.get("input") == "range":
            found[param["name"]] = {"value": param["value"], **{k: bind[k] for k in ("min", "max", "step", "name")}}
    return found


def inline_values(spec) -> list[list[dict]]:
    """Every non-empty inline data set of a spec (top-level ``datasets`` and ``data.values``, at any depth)."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "datasets":
                found += [rows for rows in value.values() if rows]
            elif key == "values" and isinstance(value, list) and value and isinstance(value[0], dict):
                found.append(value)
            else:
                found += inline_values(value)
    elif isinstance(spec, list):
        for item in spec:
            found += inline_values(item)
    return found


def app_sliders(app) -> list[tuple[str, float]]:
    return [(slider.description, slider.value) for slider in app.sliders.values()]


def log_slider(slider) -> dict:
    """A FloatLogSlider as the live chart's log10 parameter."""
    return {"value": math.log10(slider.value), "min": slider.min, "max": slider.max, "step": slider.step,
            "name": slider.description}


def linear_slider(slider) -> dict:
    return {"value": slider.value, "min": slider.min, "max": slider.max, "step": getattr(slider, "step", 1),
            "name": slider.description}


def assert_same(actual: dict, expected: dict, name: str) -> None:
    for key in ("value", "min", "max", "step"):
        # the Python app keeps its values in float32 (0.1 -> 0.10000000149)
        assert actual[key] == pytest.approx(expected[key], abs=1e-6), (name, key, actual, expected)
    assert actual["name"] == expected["name"], (name, actual["name"], expected["name"])


@pytest.fixture(scope="module")
def calibration_data():
    logits, targets, caption = live_charts.shipped_calibration_data(40)
    return logits, targets, caption


def all_charts(calibration_data):
    logits, targets, caption = calibration_data
    return [live_charts.temperature_chart(), live_charts.label_smoothing_chart(), live_charts.distillation_chart(),
            live_charts.calibration_chart(logits, targets, caption=caption),
            live_charts.temperature_chart(large=True)]


def test_specs_are_valid_vega_lite(calibration_data):
    for chart in all_charts(calibration_data):
        vega = vl_convert.vegalite_to_vega(chart.spec)
        assert vega["data"] and vega["signals"], chart.app
        signals = {signal["name"]: signal for signal in vega["signals"]}
        for name in bindings(chart.spec):
            assert signals[name]["bind"]["input"] == "range", (chart.app, name)
        assert set(chart.log_params) <= set(bindings(chart.spec))
        json.dumps(chart.spec, allow_nan=False)  # plain JSON: no NaN or infinity in a page


def test_temperature_chart_has_the_apps_sliders_and_defaults(close_figures):
    app = widgets.temperature_app()
    chart = live_charts.temperature_chart()
    found = bindings(chart.spec)
    assert list(found) == ["log_tau"] + [f"z{i}" for i in range(len(defaults.TEMPERATURE_APP_LOGITS))]
    assert_same(found["log_tau"], log_slider(app.sliders["temperature"]), "temperature")
    for i, value in enumerate(defaults.TEMPERATURE_APP_LOGITS):
        assert_same(found[f"z{i}"], linear_slider(app.sliders[f"logit_{i}"]), f"logit {i}")
        assert found[f"z{i}"]["value"] == value
    assert chart.log_params == {"log_tau": "τ"}


def test_label_smoothing_chart_has_the_apps_sliders_and_defaults(close_figures):
    app = widgets.label_smoothing_app()
    found = bindings(live_charts.label_smoothing_chart().spec)
    assert list(found) == ["alpha", "K"]
    assert_same(found["alpha"], linear_slider(app.sliders["alpha"]), "alpha")
    assert_same(found["K"], linear_slider(app.sliders["num_classes"]), "K")
    assert (found["alpha"]["value"], found["K"]["value"]) == (defaults.LS_APP_ALPHA, defaults.LS_APP_NUM_CLASSES)


def test_distillation_chart_has_the_apps_sliders_and_defaults(close_figures):
    app = widgets.distillation_app()
    found = bindings(live_charts.distillation_chart().spec)
    assert list(found) == ["confidence", "log_tau", "alpha"]
    assert_same(found["confidence"], linear_slider(app.sliders["teacher_confidence"]), "confidence")
    assert_same(found["alpha"], linear_slider(app.sliders["alpha"]), "alpha")
    expected = log_slider(app.sliders["temperature"])
    # the browser's range input stops at the last step of its grid: log10(20) = 1.30103 -> 1.30
    expected["max"] = math.floor(expected["max"] / 0.01) * 0.01
    assert_same(found["log_tau"], expected, "temperature")
    assert found["confidence"]["value"] == defaults.KD_APP_CONFIDENCE
    assert 10 ** found["log_tau"]["value"] == pytest.approx(defaults.KD_APP_TEMPERATURE)
    assert found["alpha"]["value"] == defaults.KD_APP_ALPHA


def test_distillation_scales_give_the_confidences():
    base = defaults.KD_APP_TEACHER_LOGITS
    low, grid = live_charts._confidence_grid(len(base))
    scales = live_charts._teacher_scales(base)
    assert low == math.ceil(100 / len(base)) / 100 and grid[-1] == 0.99 and len(scales) == len(grid)
    for confidence, scale in list(zip(grid, scales))[::10]:
        p = torch.softmax(scale * torch.tensor(base, dtype=torch.float64), -1)
        assert p.max().item() == pytest.approx(confidence, abs=1e-6)


def test_calibration_chart_has_the_apps_slider_and_embeds_the_data(calibration_data, close_figures):
    logits, targets, caption = calibration_data
    app = widgets.calibration_app(torch.tensor(logits, dtype=torch.float32), torch.tensor(targets))
    chart = live_charts.calibration_chart(logits, targets, caption=caption)
    found = bindings(chart.spec)
    assert list(found) == ["log_T"]
    assert_same(found["log_T"], log_slider(app.sliders["temperature"]), "temperature")
    (rows,) = [values for values in inline_values(chart.spec) if "y" in values[0]]
    assert len(rows) == len(targets) == 40
    assert np.array_equal([[row[f"l{j}"] for j in range(logits.shape[1])] for row in rows], logits)
    assert [row["y"] for row in rows] == targets.tolist()
    assert "TREC" in caption
    with pytest.raises(ValueError, match="targets"):
        live_charts.calibration_chart(logits, targets[:-1])


def test_an_app_is_recognised_by_its_sliders(calibration_data, close_figures):
    logits, targets, _ = calibration_data
    apps = {"temperature": widgets.temperature_app([1.0, 0.0, -0.5]),
            "label_smoothing": widgets.label_smoothing_app(alpha=0.3, num_classes=4),
            "distillation": widgets.distillation_app(confidence=0.7, temperature=2.0, alpha=0.2),
            "calibration": widgets.calibration_app(torch.tensor(logits, dtype=torch.float32), torch.tensor(targets),
                                                   temperature=2.0)}
    for name, app in apps.items():
        chart = live_charts.chart_for_sliders(app_sliders(app))
        assert chart is not None and chart.app == name, name
        found = bindings(chart.spec)
        for slider in app.sliders.values():  # the live chart starts where the app's picture shows
            value = slider.value
            matches = [b for b in found.values() if b["name"] == slider.description]
            assert len(matches) == 1, (name, slider.description)
            shown = 10 ** matches[0]["value"] if "temperature" in slider.description else matches[0]["value"]
            assert shown == pytest.approx(value, rel=1e-6), (name, slider.description)
    assert live_charts.chart_for_sliders([("epochs", 3)]) is None
    assert live_charts.chart_for_sliders([]) is None


def test_chart_html_is_safe_and_loads_the_runtime_once():
    chart = live_charts.temperature_chart()
    chart.caption = "</script><b>x</b>"
    first = live_html.chart_html(chart, "a", runtime_src="_static/" + live_html.RUNTIME_FILE)
    second = live_html.chart_html(chart, "b")
    assert first.count("<script src=") == 1 and "<script src=" not in second
    assert live_html.LIVE_NOTE.split(":")[0] in first
    assert "</script><b>" not in first  # the caption is escaped, the spec's JSON cannot close the script
    page = live_html.standalone_html(live_charts.label_smoothing_chart(), live_html.RUNTIME_FILE)
    assert page.startswith("<!DOCTYPE html>") and page.count(live_html.RUNTIME_FILE) == 1


def test_runtime_is_one_self_contained_script(tmp_path):
    path = live_html.write_runtime(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert path.name == live_html.RUNTIME_FILE and len(text) > 100_000
    assert "window.kdlsLive" in text and "window.vegaEmbed" in text
    assert not any(line.startswith(("import ", "export ")) for line in text.splitlines())
    assert "http://" not in text.split("window.kdlsLive")[-1]  # the helper fetches nothing


def test_the_deck_shows_a_theory_app_live_on_a_slide_of_its_own():
    import nbformat

    from helpers.pipeline import slides

    models = {"app": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_k"]}},
              "a": {"model_name": "FloatSliderModel", "state": {"description": "smoothing α", "value": 0.2}},
              "k": {"model_name": "IntSliderModel", "state": {"description": "classes K", "value": 5}},
              "other": {"model_name": "IntSliderModel", "state": {"description": "epochs", "value": 3}}}
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": models}}

    def app_cell(model_id: str):
        view = {"application/vnd.jupyter.widget-view+json": {"model_id": model_id}, "text/plain": "app"}
        cell = nbformat.v4.new_code_cell("app()", outputs=[nbformat.v4.new_output("display_data", data=view)])
        cell.metadata["slideshow"] = {"slide_type": "skip"}
        return cell

    notebook.cells = [app_cell("app"), app_cell("other"), app_cell("app")]
    assert slides.add_live_charts(notebook, "02") == 2
    first, other, second = notebook.cells
    assert first.metadata["slideshow"]["slide_type"] == "slide" and first.metadata["transient"]["remove_source"]
    assert other.metadata["slideshow"]["slide_type"] == "skip"  # not a theory app: stays skipped
    chart = first.outputs[0]["data"]["text/html"]
    assert chart.count("<script src=") == 1 and f"{slides.LIVE_RUNTIME_DIR}/{live_html.RUNTIME_FILE}" in chart
    assert "kdls-live-large" in chart and '"value":0.2' in chart and '"value":5' in chart
    assert "<script src=" not in second.outputs[0]["data"]["text/html"]  # the runtime: once per deck


def test_a_saved_widget_tree_is_walked_in_display_order_each_model_once():
    import nbformat

    from helpers.teaching.widget_state import WIDGET_STATE, saved_models, widget_sliders, widget_tree

    models = {"app": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_box", "IPY_MODEL_k", "IPY_MODEL_gone"]}},
              "box": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_app"]}},  # a cycle
              "a": {"model_name": "FloatSliderModel", "state": {"description": "smoothing α", "value": 0.2}},
              "k": {"model_name": "IntSliderModel", "state": {"description": "classes K", "value": 5}}}
    assert [m["model_name"] for m in widget_tree(models, "app")] == ["VBoxModel", "HBoxModel", "FloatSliderModel",
                                                                     "IntSliderModel"]
    assert widget_sliders(models, "app") == [("smoothing α", 0.2), ("classes K", 5)]
    assert widget_sliders(models, "missing") == []
    notebook = nbformat.v4.new_notebook()
    assert saved_models(notebook) == {}
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": models}}
    assert saved_models(notebook) == models  # (nbformat copies it into its own dict type)
