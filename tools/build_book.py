"""`make book`: a static site of the executed notebooks (those `make reproduce` wrote), readable offline.

    python tools/build_book.py --source build/reproduce/notebooks --out build/book

Steps: stage a Sphinx source folder (``--stage``, default ``build/book-src``) with

* ``index.md`` — ``book/intro.md`` and the tables of contents: the start pages, the notebooks in their
  order (00 … 10), the solutions;
* ``quickstart.md`` — the README's "Quick start" section; ``notebooks/TEACHING.md`` — the teacher's guide,
  when it exists; ``notebooks/solutions/*.md`` — the exercises' answers, each on its own page;
* ``notebooks/NN_*.ipynb`` — the executed notebooks, with every ipywidgets output made static
  (:func:`static_widget_outputs`): a static page cannot run the kernel behind a slider, so an app shows the
  picture and read-out of its first view; the four theory apps (notebooks 01-04) also get their **live twin**
  (:mod:`helpers.teaching.live_charts`: a Vega-Lite chart whose sliders move in the browser, started at the app's
  values, with the note "Live figure: move the sliders"), any other app the note :data:`SLIDER_NOTE`; a
  progress bar shows its last text;

then run Sphinx with ``book/conf.py`` (MyST-NB, no execution; MathJax served from the book itself), and write
the Vega runtime once into the site's ``_static/`` (:data:`helpers.teaching.live_html.RUNTIME_FILE`), which every page
with a live chart loads once, by a relative path: the book needs no network.

``--stage`` and ``--out`` are deleted and rebuilt on every build, but only when this script made them (the
marker file :data:`MARKER` is in them) or they are empty: any other existing folder is refused, untouched.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout: the kit's helpers (live charts) beside it
    sys.path.insert(0, str(ROOT))

from helpers.teaching import live_charts, live_html  # noqa: E402
from helpers.teaching.vega import LiveChart  # noqa: E402
from helpers.teaching.widget_state import WIDGET_VIEW, saved_models, widget_tree  # noqa: E402

SLIDER_NOTE = "Run it in JupyterLab to move the sliders."
# beside a live chart, the still picture's note says what the picture is
STILL_NOTE = "Below, the Python app's first view as a still picture; the live figure above is its twin, computed in your browser."
RUNTIME_SRC = "../_static/" + live_html.RUNTIME_FILE  # from a notebook's page (notebooks/NN_name.html)
MARKER = ".kdls-build-book"  # in every folder this script made (and may therefore delete)
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"

# ----------------------------------------------------------------------------- widgets -> static outputs

_TEXT_MODELS = {"HTMLModel", "HTMLMathModel", "LabelModel"}


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def static_widget_outputs(output: dict, models: dict, live: "LivePage | None" = None) -> list[dict]:
    """Static outputs standing in for one widget output (``[]``: drop it).

    * a slider app: a note (the sliders' first values, the app's read-outs) and the app's pictures (its
      ``Image`` widgets' PNGs, saved in the notebook's widget state). When ``live`` is given and the app is one
      of the four theory apps (:func:`helpers.teaching.live_charts.chart_for_sliders`), its live chart comes first and
      the note says the picture is a still of the Python app; otherwise the note ends with :data:`SLIDER_NOTE`;
    * anything else (a tqdm progress bar, a table): its text and pictures, without the note;
    * no saved state: the output's own text fallback.
    """
    data = output.get("data", {})
    model_id = data[WIDGET_VIEW].get("model_id", "")
    tree = list(widget_tree(models, model_id))
    if not tree:
        text = data.get("text/plain", "")
        return [nbformat.v4.new_output("display_data", data={"text/plain": text})] if text else []
    sliders, texts, images = [], [], []
    for model in tree:
        name, state = model.get("model_name", ""), model.get("state", {})
        if "Slider" in name:
            sliders.append((state.get("description", ""), state.get("value")))
        elif name in _TEXT_MODELS and str(state.get("value", "")).strip():
            texts.append(str(state["value"]))
        elif name == "ImageModel":
            for buffer in model.get("buffers", []) or []:
                if buffer.get("path") == ["value"] and buffer.get("encoding") == "base64":
                    fmt = state.get("format", "png")
                    images.append((f"image/{'jpeg' if fmt == 'jpg' else fmt}", buffer["data"]))
    outputs = []
    chart = live_charts.chart_for_sliders(sliders) if (live is not None and sliders) else None
    if chart is not None:
        outputs.append(nbformat.v4.new_output("display_data", data={
            "text/html": live.html(chart),
            "text/plain": f"{live_html.LIVE_NOTE} (a {chart.app.replace('_', ' ')} chart; needs JavaScript)"}))
    if sliders:
        settings = ", ".join(f"{html.escape(str(d))} = {html.escape(_number(v))}" for d, v in sliders)
        ending = STILL_NOTE if chart is not None else SLIDER_NOTE
        parts = [f'<p class="kdls-static-note"><b>Interactive app</b>, shown as it first appears: {settings}. '
                 f"{ending}</p>"] + [f'<div class="kdls-static-text">{text}</div>' for text in texts]
        plain = f"Interactive app, shown as it first appears: {settings}. {ending}"
        outputs.append(nbformat.v4.new_output("display_data", data={"text/html": "\n".join(parts),
                                                                    "text/plain": plain}))
    elif texts:
        plain = " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)) for text in texts).replace("\u2007", " ")
        outputs.append(nbformat.v4.new_output("display_data", data={"text/plain": plain}))
    for mime, payload in images:
        outputs.append(nbformat.v4.new_output("display_data", data={mime: payload}))
    return outputs


class LivePage:
    """The live charts of one page: numbered element ids, and the runtime's ``<script>`` with the first one only."""

    def __init__(self, name: str, runtime_src: str = RUNTIME_SRC) -> None:
        self.name = re.sub(r"[^A-Za-z0-9_-]", "-", name)
        self.runtime_src = runtime_src
        self.charts = 0

    def html(self, chart: LiveChart) -> str:
        self.charts += 1
        return live_html.chart_html(chart, f"kdls-live-{self.name}-{self.charts}",
                                    runtime_src=self.runtime_src if self.charts == 1 else None)


def make_widgets_static(notebook, live: LivePage | None = None) -> int:
    """Replace every widget output of ``notebook`` in place and drop its widget state; the number replaced.

    With ``live``, the four theory apps get their live charts too (``live.charts`` counts them).
    """
    models = saved_models(notebook)
    replaced = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                outputs.extend(static_widget_outputs(output, models, live))
                replaced += 1
            else:
                outputs.append(output)
        cell.outputs = outputs
    notebook.metadata.pop("widgets", None)  # no widget state: MyST-NB then loads no widget JavaScript
    return replaced


# ------------------------------------------------------------------------------- folders it may delete

def check_folder(path: Path, option: str) -> None:
    """Refuse (``SystemExit``) to build into ``path`` unless it is missing, empty or made by this script."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_symlink() or not path.is_dir():
        raise SystemExit(f"{option} {path} exists and is not a folder: refusing to replace it")
    if (path / MARKER).is_file() or not any(path.iterdir()):
        return
    raise SystemExit(f"{option} {path} already exists and was not made by tools/build_book.py (no {MARKER} file "
                     "in it): refusing to delete it. Choose another folder, or delete this one yourself.")


def fresh_folder(path: Path, option: str) -> Path:
    """``path`` emptied for a build: deleted only after :func:`check_folder`, then made again with its marker."""
    check_folder(path, option)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("Made by tools/build_book.py, which deletes and rebuilds this folder on every build.\n")
    return path


# ----------------------------------------------------------------------------------------- the pages

def readme_section(readme: str, title: str) -> str:
    """One ``## title`` section of the README (up to the next ``## `` heading), as a page with a ``#`` title."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    if not match:
        raise SystemExit(f"README.md has no '## {title}' section")
    return f"# {title}\n{match.group(1).rstrip()}\n"


def notebook_title(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def index_page(intro: str, start_pages: list[str], notebooks: list[str], solutions: list[str]) -> str:
    def toctree(caption: str, entries: list[str]) -> str:
        return "```{toctree}\n:caption: " + caption + "\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"

    parts = [intro.rstrip() + "\n", toctree("Start", start_pages), toctree("Notebooks", notebooks)]
    if solutions:
        parts.append(toctree("Solutions", solutions))
    return "\n".join(parts)


def stage(source: Path, staging: Path, root: Path = ROOT) -> dict[str, int]:
    """Write the Sphinx source folder; counts of what went in."""
    notebooks = sorted(source.glob(NOTEBOOK_PATTERN))
    if not notebooks:
        raise SystemExit(f"no executed notebooks ({NOTEBOOK_PATTERN}) in {source}: run `make reproduce` first, "
                         "or point BOOK_SOURCE at a folder of executed notebooks")
    fresh_folder(staging, "--stage")
    (staging / "notebooks").mkdir()
    widgets = live = 0
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        page = LivePage(path.stem[:2])
        widgets += make_widgets_static(notebook, page)
        live += page.charts
        nbformat.write(notebook, staging / "notebooks" / path.name)

    start = ["quickstart"]
    (staging / "quickstart.md").write_text(readme_section((root / "README.md").read_text(), "Quick start"))
    teaching = root / "notebooks" / "TEACHING.md"
    if teaching.is_file():
        shutil.copy(teaching, staging / "notebooks" / "TEACHING.md")
        start.append("notebooks/TEACHING")
    solutions = sorted((root / "notebooks" / "solutions").glob("*.md"))
    if solutions:
        shutil.copytree(root / "notebooks" / "solutions", staging / "notebooks" / "solutions",
                        ignore=shutil.ignore_patterns("*.ipynb_checkpoints"))
    intro = (root / "book" / "intro.md").read_text()
    (staging / "index.md").write_text(index_page(
        intro, start, [f"notebooks/{path.stem}" for path in notebooks],
        [f"notebooks/solutions/{path.stem}" for path in solutions]))
    return {"notebooks": len(notebooks), "solutions": len(solutions), "widget outputs made static": widgets,
            "live charts": live, "teacher's guide": int(teaching.is_file())}


def build(source: Path, out: Path, staging: Path, root: Path = ROOT) -> int:
    started = time.perf_counter()
    source, out, staging = Path(source).resolve(), Path(out).resolve(), Path(staging).resolve()
    if out == staging or out in staging.parents or staging in out.parents:
        raise SystemExit(f"--out {out} and --stage {staging} must be separate folders")
    for folder, option in ((out, "--out"), (staging, "--stage")):
        if folder == source or folder in source.parents:
            raise SystemExit(f"{option} {folder} holds --source {source}: refusing to delete it")
        check_folder(folder, option)  # both checked before either is touched
    counts = stage(source, staging, root)
    fresh_folder(out, "--out")
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(root / "book"),
               "-d", str(staging / ".doctrees"), str(staging), str(out)]
    result = subprocess.run(command)
    if result.returncode != 0:
        return result.returncode
    if counts["live charts"]:
        live_html.write_runtime(out / "_static")  # once for the whole site; pages load it by a relative path
    pages = sum(1 for page in out.rglob("*.html") if page.name not in ("genindex.html", "search.html"))
    summary = ", ".join(f"{value} {name}" for name, value in counts.items())
    print(f"book: {pages} pages in {out} ({summary}) in {time.perf_counter() - started:.0f} s; "
          f"open {out / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT / "build" / "reproduce" / "notebooks",
                        help="folder of executed notebooks (make reproduce's OUT/notebooks)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book",
                        help="the site (rewritten on every build; an existing folder is deleted only if this "
                             "script made it, or if it is empty)")
    parser.add_argument("--stage", type=Path, default=ROOT / "build" / "book-src",
                        help="where the Sphinx source folder is written (rewritten on every build; an existing "
                             "folder is deleted only if this script made it)")
    args = parser.parse_args(argv)
    return build(args.source, args.out, args.stage)


if __name__ == "__main__":
    sys.exit(main())
