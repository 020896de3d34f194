"""tools/build_book.py without Sphinx or a browser: it deletes only folders it made, and the four theory apps get
their live chart beside the still picture (the rendered book is checked in tests/browser/test_book.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

_spec = importlib.util.spec_from_file_location("build_book_under_test", ROOT / "tools" / "build_book.py")
build_book = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_book)


def app_notebook(sliders: dict[str, float]):
    """A notebook with one slider app (its sliders, a read-out and a picture) in its saved widget state."""
    models = {"app": {"model_name": "VBoxModel",
                      "state": {"children": [f"IPY_MODEL_s{i}" for i in range(len(sliders))] + ["IPY_MODEL_i"]}},
              "i": {"model_name": "ImageModel", "state": {"format": "png"},
                    "buffers": [{"path": ["value"], "encoding": "base64", "data": PNG}]}}
    for i, (description, value) in enumerate(sliders.items()):
        models[f"s{i}"] = {"model_name": "FloatSliderModel", "state": {"description": description, "value": value}}
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": models, "version_major": 2, "version_minor": 0}}
    view = nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "app"}, "text/plain": "app"})
    notebook.cells = [nbformat.v4.new_code_cell("app", outputs=[view])]
    return notebook


# ------------------------------------------------------------------------------------------ live charts

def test_a_theory_app_gets_its_live_chart_beside_the_picture():
    notebook = app_notebook({"smoothing α": 0.25, "classes K": 4})
    page = build_book.LivePage("02")
    assert build_book.make_widgets_static(notebook, page) == 1 and page.charts == 1
    live, note, picture = notebook.cells[0].outputs
    chart = live["data"]["text/html"]
    assert 'id="kdls-live-02-1"' in chart and 'data-app="label_smoothing"' in chart
    assert build_book.live_html.LIVE_NOTE.split(":")[0] in chart
    assert chart.count("<script src=") == 1 and build_book.RUNTIME_SRC in chart
    assert '"value":0.25' in chart and '"value":4' in chart  # started where the picture shows the app
    assert build_book.SLIDER_NOTE not in note["data"]["text/html"]  # "run it in JupyterLab" only where nothing moves
    assert build_book.STILL_NOTE in note["data"]["text/html"]
    assert picture["data"]["image/png"] == PNG  # the still picture stays, as a fallback


def test_the_runtime_is_loaded_by_the_first_chart_of_a_page_only():
    notebook = app_notebook({"temperature T": 1.0})
    notebook.cells.append(nbformat.v4.new_code_cell("again", outputs=[nbformat.v4.new_output(
        "display_data", data={WIDGET_VIEW: {"model_id": "app"}, "text/plain": "app"})]))
    page = build_book.LivePage("04")
    build_book.make_widgets_static(notebook, page)
    first, second = (cell.outputs[0]["data"]["text/html"] for cell in notebook.cells)
    assert page.charts == 2 and "<script src=" in first and "<script src=" not in second
    assert 'id="kdls-live-04-2"' in second


def test_other_apps_keep_the_jupyterlab_note():
    notebook = app_notebook({"epochs": 3.0})
    build_book.make_widgets_static(notebook, build_book.LivePage("07"))
    note, picture = notebook.cells[0].outputs
    assert build_book.SLIDER_NOTE in note["data"]["text/html"] and "kdls-live" not in note["data"]["text/html"]
    notebook = app_notebook({"smoothing α": 0.25, "classes K": 4})
    build_book.make_widgets_static(notebook)  # no LivePage: no live chart
    assert build_book.SLIDER_NOTE in notebook.cells[0].outputs[0]["data"]["text/html"]


# --------------------------------------------------------------------------- folders it may delete

@pytest.fixture()
def source(tmp_path):
    folder = tmp_path / "executed"
    folder.mkdir()
    nbformat.write(app_notebook({"smoothing α": 0.1, "classes K": 6}), folder / "02_label_smoothing.ipynb")
    return folder


@pytest.fixture()
def no_sphinx(monkeypatch):
    """Sphinx replaced by a stand-in that writes one page (the folder logic is under test, not Sphinx)."""
    calls = []

    def run(command, *args, **kwargs):
        out = Path(command[-1])
        (out / "_static").mkdir(parents=True, exist_ok=True)
        (out / "index.html").write_text("<html></html>")
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(build_book.subprocess, "run", run)
    monkeypatch.setattr(build_book.live_html, "runtime_js", lambda: "/* runtime */")
    return calls


@pytest.mark.parametrize("option", ["out", "stage"])
def test_an_existing_folder_it_did_not_make_is_refused_untouched(tmp_path, source, no_sphinx, option):
    folders = {"out": tmp_path / "site", "stage": tmp_path / "stage"}
    folders[option].mkdir()
    unrelated = folders[option] / "thesis.tex"
    unrelated.write_text("months of work")
    with pytest.raises(SystemExit, match=f"--{option} .* was not made by tools/build_book.py"):
        build_book.build(source, folders["out"], folders["stage"])
    assert unrelated.read_text() == "months of work"
    assert not no_sphinx  # refused before anything was built
    other = "stage" if option == "out" else "out"
    assert not folders[other].exists()  # both folders are checked before either is touched


def test_its_own_folders_are_rebuilt_and_marked(tmp_path, source, no_sphinx):
    out, staging = tmp_path / "site", tmp_path / "stage"
    assert build_book.build(source, out, staging) == 0
    assert (out / build_book.MARKER).is_file() and (staging / build_book.MARKER).is_file()
    assert (out / "_static" / build_book.live_html.RUNTIME_FILE).read_text() == "/* runtime */"
    (out / "stale.html").write_text("from the last build")
    assert build_book.build(source, out, staging) == 0  # its own folders: deleted and rebuilt
    assert not (out / "stale.html").exists() and (out / build_book.MARKER).is_file()
    assert len(no_sphinx) == 2


def test_an_empty_folder_or_a_missing_one_is_used(tmp_path, source, no_sphinx):
    (tmp_path / "empty").mkdir()
    assert build_book.build(source, tmp_path / "empty", tmp_path / "deep" / "stage") == 0
    assert (tmp_path / "empty" / build_book.MARKER).is_file()


def test_a_file_or_the_source_itself_is_refused(tmp_path, source, no_sphinx):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SystemExit, match="not a folder"):
        build_book.build(source, tmp_path / "a-file", tmp_path / "stage")
    with pytest.raises(SystemExit, match="holds --source"):
        build_book.build(source, tmp_path, tmp_path.parent / f"{tmp_path.name}-stage")
    with pytest.raises(SystemExit, match="separate folders"):
        build_book.build(source, tmp_path / "site", tmp_path / "site" / "stage")
    assert (tmp_path / "a-file").read_text() == "x" and (source / "02_label_smoothing.ipynb").is_file()


@pytest.mark.slow
def test_the_command_line_refuses_with_a_message(tmp_path, source):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "notes.txt").write_text("keep me")
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "build_book.py"), "--source", str(source),
                             "--out", str(tmp_path / "site"), "--stage", str(tmp_path / "stage")],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode != 0 and "refusing to delete it" in result.stderr
    assert (tmp_path / "site" / "notes.txt").read_text() == "keep me"
