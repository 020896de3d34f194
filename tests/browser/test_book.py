"""The rendered book (`make book`) in a real browser, offline: every page loads with the network blocked.

The browser test serves ``build/book`` (or ``$BOOK_DIR``) on a localhost port and opens every page in Debian's
headless Chromium (Playwright), with every request that is not for localhost, ``file:`` or ``data:`` aborted
and recorded: the test fails if the book asks for anything from the network (a CDN for MathJax, fonts or
widgets). On each page it checks that the page loads; that the math was typeset (no ``$…$``/``$$`` left in
the visible text, no MathJax error); that every internal link points to an existing page and anchor; and on a
notebook's page, that it shows as many figures as the executed notebook (``$BOOK_SOURCE``, default
``build/reproduce/notebooks``) has image outputs (a slider app's picture included); that each of the four theory
apps (notebooks 01-04) has its live chart (helpers.teaching.live_charts), drawn, with its "Live figure" note, the Vega
runtime loaded once per page from the book's ``_static``; and the "move the sliders" note for every other slider
app. A screenshot of notebook 07's page is saved to ``build/browser/``.

Run with ``make book test-book`` (``BOOK_SOURCE=folder`` for other executed notebooks). Skipped without
Chromium or Playwright, or when no book was built (``$BOOK_REQUIRED=1``, set by ``make test-book``, makes a
missing book a failure). The first tests here check the build's widget conversion without a browser.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ.get("BOOK_DIR", ROOT / "build" / "book"))
SOURCE = Path(os.environ.get("BOOK_SOURCE", ROOT / "build" / "reproduce" / "notebooks"))
if not SOURCE.is_absolute():
    SOURCE = ROOT / SOURCE
if not BOOK.is_absolute():
    BOOK = ROOT / BOOK
SCREENSHOT = ROOT / "build" / "browser" / "book_07_confidence_inheritance.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SLIDER_NOTE = "Run it in JupyterLab to move the sliders."
# mime types MyST-NB prefers to an image in the same output (its default priority for HTML)
BEFORE_IMAGES = ("application/javascript", "text/html", "image/svg+xml")

_spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
build_book = importlib.util.module_from_spec(_spec)
sys.modules["build_book"] = build_book
_spec.loader.exec_module(build_book)


# ------------------------------------------------------------ what the executed notebooks should show

def _widget_tree(models: dict, model_id: str) -> list[dict]:
    found, stack = [], [model_id]
    while stack:
        current = stack.pop(0)
        if current in models:
            found.append(models[current])
            stack[:0] = [c.removeprefix("IPY_MODEL_") for c in models[current]["state"].get("children", [])]
    return found


def expected_live_charts(path: Path) -> int:
    """How many of a notebook's slider apps the book shows live (the four theory apps, recognised by their sliders)."""
    notebook = nbformat.read(path, as_version=4)
    models = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    live = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                tree = _widget_tree(models, output["data"][WIDGET_VIEW]["model_id"])
                sliders = [(m["state"].get("description", ""), m["state"].get("value")) for m in tree
                           if "Slider" in m["model_name"]]
                live += bool(sliders) and build_book.live_charts.chart_for_sliders(sliders) is not None
    return live


def expected_figures(path: Path) -> tuple[int, int]:
    """(figures, slider apps) a notebook's page must show: its image outputs and its widgets' pictures."""
    notebook = nbformat.read(path, as_version=4)
    models = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    figures = apps = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                tree = _widget_tree(models, data[WIDGET_VIEW]["model_id"])
                figures += sum(1 for m in tree if m["model_name"] == "ImageModel"
                               and any(b["path"] == ["value"] for b in m.get("buffers", [])))
                apps += any("Slider" in m["model_name"] for m in tree)
            elif any(mime.startswith("image/") for mime in data) and not any(m in data for m in BEFORE_IMAGES):
                figures += 1
    return figures, apps


# --------------------------------------------------------------- the build's widget conversion (no browser)

def _app_notebook():
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    models = {
        "app": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_r", "IPY_MODEL_i"]}},
        "s": {"model_name": "FloatSliderModel", "state": {"description": "temperature τ", "value": 1.0}},
        "r": {"model_name": "HTMLModel", "state": {"value": "entropy H = <b>0.961</b>"}},
        "i": {"model_name": "ImageModel", "state": {"format": "png"},
              "buffers": [{"path": ["value"], "encoding": "base64", "data": png}]},
        "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_d", "IPY_MODEL_p", "IPY_MODEL_t"]}},
        "d": {"model_name": "HTMLModel", "state": {"value": "L1\u2007erm:\u2007100%"}},
        "p": {"model_name": "FloatProgressModel", "state": {"value": 8.0, "max": 8.0}},
        "t": {"model_name": "HTMLModel", "state": {"value": "\u20078/8\u2007[00:01&lt;00:00]"}},
    }
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["widgets"] = {WIDGET_STATE: {"state": models, "version_major": 2, "version_minor": 0}}
    view = lambda model_id, text: nbformat.v4.new_output(  # noqa: E731
        "display_data", data={WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                              "text/plain": text})
    notebook.cells = [nbformat.v4.new_code_cell("app", outputs=[view("app", "_App(children=…)")]),
                      nbformat.v4.new_code_cell("train", outputs=[view("bar", "L1 erm:   0%|")]),
                      nbformat.v4.new_code_cell("lost", outputs=[view("gone", "a fallback")])]
    return notebook


def test_widget_outputs_become_static(tmp_path):
    notebook = _app_notebook()
    nbformat.write(notebook, tmp_path / "app.ipynb")
    assert expected_figures(tmp_path / "app.ipynb") == (1, 1)
    assert build_book.make_widgets_static(notebook) == 3
    assert "widgets" not in notebook.metadata
    app, bar, lost = (cell.outputs for cell in notebook.cells)
    assert all(WIDGET_VIEW not in output["data"] for output in app + bar + lost)
    note, picture = app
    assert SLIDER_NOTE in note["data"]["text/html"] and "temperature τ = 1" in note["data"]["text/html"]
    assert "entropy H = <b>0.961</b>" in note["data"]["text/html"]
    assert picture["data"]["image/png"].startswith("iVBOR")
    assert bar[0]["data"] == {"text/plain": "L1 erm: 100%  8/8 [00:01<00:00]"}
    assert lost[0]["data"] == {"text/plain": "a fallback"}


def test_readme_quick_start_and_table_of_contents():
    page = build_book.readme_section((ROOT / "README.md").read_text(), "Quick start")
    assert page.startswith("# Quick start\n") and "make reproduce" in page and "\n## " not in page
    index = build_book.index_page("# Title\n", ["quickstart"], ["notebooks/00_a", "notebooks/01_b"], [])
    assert index.index("notebooks/00_a") < index.index("notebooks/01_b") and "Solutions" not in index


def test_missing_source_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="make reproduce"):
        build_book.stage(tmp_path, tmp_path / "stage")


# ------------------------------------------------------------------------------- the book in Chromium

@pytest.fixture(scope="module")
def book_server():
    """The built book over HTTP on a free localhost port; yields its base URL."""
    if not (BOOK / "index.html").is_file():
        message = f"no book in {BOOK}: run `make book` (BOOK_SOURCE=folder of executed notebooks) first"
        if os.environ.get("BOOK_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    handler = functools.partial(_QuietHandler, directory=str(BOOK))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - no access log in the test output
        pass


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about") or parts.hostname in ("127.0.0.1", "localhost")


VISIBLE_TEXT = """() => {
    const body = document.querySelector('main') || document.body;
    const copy = body.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, mjx-container, .highlight, .cell_input').forEach(e => e.remove());
    return copy.innerText;
}"""

PAGE_FACTS = """() => ({
    math: document.querySelectorAll('.math').length,
    typeset: document.querySelectorAll('.math mjx-container, mjx-container.MathJax').length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    figures: document.querySelectorAll('.cell_output img').length,
    brokenImages: Array.from(document.querySelectorAll('img')).filter(i => !(i.complete && i.naturalWidth > 0))
                      .map(i => i.getAttribute('src')),
    notes: Array.from(document.querySelectorAll('.cell_output')).filter(
               e => e.innerText.includes('Run it in JupyterLab to move the sliders.')).length,
    live: document.querySelectorAll('.kdls-live').length,
    liveReady: document.querySelectorAll('.kdls-live[data-ready=true] svg').length,
    liveNotes: Array.from(document.querySelectorAll('.kdls-live .kdls-live-note')).filter(
               e => e.innerText.startsWith('Live figure')).length,
    runtimes: Array.from(document.scripts).filter(s => (s.getAttribute('src') || '').endsWith('/kdls-live.js'))
                  .map(s => s.src),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
    tocNotebooks: Array.from(document.querySelectorAll('.toctree-wrapper a[href]')).map(a => a.getAttribute('href'))
                      .filter(h => /notebooks\\/\\d\\d_/.test(h)),
})"""


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's Chromium "
                    "(apt-get install -y chromium) to run the browser tests")
def test_book_renders_offline(book_server):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed in this environment")
    started = time.perf_counter()
    pages = sorted(path.relative_to(BOOK).as_posix() for path in BOOK.rglob("*.html")
                   if not path.relative_to(BOOK).as_posix().startswith("_"))
    executed = {path.stem: path for path in SOURCE.glob("[0-9][0-9]_*.ipynb")}
    assert executed, f"no executed notebooks in {SOURCE} (BOOK_SOURCE) to compare the book with"
    blocked: list[str] = []
    facts: dict[str, dict] = {}
    problems: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if _is_local(url):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
            context.route("**/*", route)
            page = context.new_page()
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            for name in pages:
                response = page.goto(book_server + name, wait_until="load", timeout=60_000)
                if response is None or not response.ok:
                    problems.append(f"{name}: HTTP {response.status if response else 'no response'}")
                    continue
                page.evaluate("async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                              " { await MathJax.startup.promise; } }")
                if page.locator(".kdls-live").count():  # live charts: drawn once the runtime has loaded
                    page.wait_for_function("() => Array.from(document.querySelectorAll('.kdls-live'))"
                                           ".every(e => e.getAttribute('data-ready') === 'true')", timeout=60_000)
                facts[name] = page.evaluate(PAGE_FACTS)
                text = page.evaluate(VISIBLE_TEXT)
                raw = re.findall(r"\$\$|(?<![\w\\])\$[^$\n]{1,200}?\$|\\\(|\\\[", text)
                if raw:
                    problems.append(f"{name}: untypeset math in the visible text: {raw[:3]}")
                if facts[name]["math"] and facts[name]["typeset"] < facts[name]["math"]:
                    problems.append(f"{name}: {facts[name]['math'] - facts[name]['typeset']} of "
                                    f"{facts[name]['math']} formulas not typeset by MathJax")
                if facts[name]["mathErrors"]:
                    problems.append(f"{name}: {facts[name]['mathErrors']} MathJax errors")
                if facts[name]["brokenImages"]:
                    problems.append(f"{name}: images that did not load: {facts[name]['brokenImages'][:3]}")
                stem = Path(name).stem
                if name == f"notebooks/{stem}.html" and stem in executed:
                    figures, apps = expected_figures(executed[stem])
                    if facts[name]["figures"] != figures:
                        problems.append(f"{name}: {facts[name]['figures']} figures, the executed notebook has "
                                        f"{figures}")
                    live = expected_live_charts(executed[stem])
                    if facts[name]["notes"] != apps - live:
                        problems.append(f"{name}: {facts[name]['notes']} 'move the sliders' notes for {apps} apps, "
                                        f"{live} of them live")
                    if not facts[name]["live"] == facts[name]["liveReady"] == facts[name]["liveNotes"] == live:
                        problems.append(f"{name}: {live} live charts expected; {facts[name]['live']} on the page, "
                                        f"{facts[name]['liveReady']} drawn, {facts[name]['liveNotes']} notes")
                if facts[name]["live"] and not (len(facts[name]["runtimes"]) == 1
                                                and "/_static/" in facts[name]["runtimes"][0]):
                    problems.append(f"{name}: the Vega runtime must load once from _static: {facts[name]['runtimes']}")
                if name == "notebooks/07_confidence_inheritance.html":
                    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                    first = page.locator(".cell_output img").first
                    if first.count():
                        first.scroll_into_view_if_needed()
                    page.screenshot(path=str(SCREENSHOT))
            if page_errors:
                problems.append(f"JavaScript errors: {page_errors[:3]}")
        finally:
            browser.close()

    # every notebook is a page, listed in the table of contents in order 00 … 10
    notebook_pages = [f"notebooks/{stem}.html" for stem in sorted(executed)]
    missing = [page for page in notebook_pages if page not in facts]
    assert not missing, f"notebooks without a page: {missing}"
    toc = [href.removesuffix(".html") for href in facts["index.html"]["tocNotebooks"]]
    assert toc == [f"notebooks/{stem}" for stem in sorted(executed)], toc
    assert "quickstart.html" in facts
    assert any(name.startswith("notebooks/solutions/") for name in facts), "no solution pages"
    # internal links: the page exists, and so does the anchor
    ids = {name: set(page_facts["ids"]) for name, page_facts in facts.items()}
    for name, page_facts in facts.items():
        for link in page_facts["links"]:
            if not link.startswith(book_server):
                continue
            parts = urlsplit(link)
            target = unquote(parts.path)[len(urlsplit(book_server).path):] or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (BOOK / target).is_file():
                problems.append(f"{name}: broken link to {target}")
            elif parts.fragment and target in ids and unquote(parts.fragment) not in ids[target]:
                problems.append(f"{name}: link to a missing anchor {target}#{parts.fragment}")
    assert not blocked, f"the book asked the network for {len(blocked)} resource(s): {sorted(set(blocked))[:5]}"
    assert not problems, "\n".join(problems)
    if "notebooks/07_confidence_inheritance.html" in facts:  # a book of some notebooks only has no 07
        assert SCREENSHOT.is_file()
    print(f"\nbook test: {len(facts)} pages in {time.perf_counter() - started:.1f} s, "
          f"{sum(f['figures'] for f in facts.values())} figures, {sum(f['math'] for f in facts.values())} formulas; "
          f"screenshot: {SCREENSHOT.relative_to(ROOT)}")


def test_local_urls():
    assert _is_local("http://127.0.0.1:8000/index.html") and _is_local("data:image/png;base64,xx")
    assert not _is_local("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js")
    assert urljoin("http://127.0.0.1:1/notebooks/a.html", "../index.html") == "http://127.0.0.1:1/index.html"
