"""The widget state an executed notebook saves: how the book (``tools/build_book.py``) and the lecture deck
(:mod:`helpers.pipeline.slides`) read a slider app back without a kernel.

Jupyter saves every widget's model in ``notebook.metadata.widgets[WIDGET_STATE]["state"]`` (model id -> model:
``model_name``, ``state``, ``buffers``) and shows a widget output as a ``WIDGET_VIEW`` reference to its root model;
a container's ``state.children`` lists its children as ``"IPY_MODEL_<id>"``.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["WIDGET_VIEW", "WIDGET_STATE", "saved_models", "widget_tree", "widget_sliders"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def saved_models(notebook) -> dict:
    """The notebook's saved widget models (model id -> model); empty when it saved none."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    models = state.get("state", {}) if isinstance(state, dict) else {}
    return models if isinstance(models, dict) else {}


def widget_tree(models: dict, model_id: str) -> Iterator[dict]:
    """The model ``model_id`` and its descendants, in the order they are shown (depth first, children in order);
    a model missing from ``models`` or met twice is skipped."""
    stack, seen = [model_id], set()
    while stack:
        current = stack.pop()
        if current in seen or current not in models:
            continue
        seen.add(current)
        model = models[current]
        yield model
        children = model.get("state", {}).get("children", []) or []
        stack.extend(str(child).removeprefix("IPY_MODEL_") for child in reversed(children))


def widget_sliders(models: dict, model_id: str) -> list[tuple[str, object]]:
    """The sliders ``(label, value)`` of a widget and its descendants, in the order they are shown."""
    return [(model.get("state", {}).get("description", ""), model.get("state", {}).get("value"))
            for model in widget_tree(models, model_id) if "Slider" in model.get("model_name", "")]
