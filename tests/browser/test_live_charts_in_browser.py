"""The live charts (helpers.teaching.live_charts) in headless Chromium, offline: the browser's numbers are the Python maths'.

For each of the four apps a standalone page is written into a temporary folder with the runtime file beside it
(:func:`helpers.teaching.live_html.write_runtime`) and opened from ``file://`` with every other request refused
(``page.route``). Each slider is moved to its minimum, a quarter, the middle, three quarters and its maximum
(setting the input's value and dispatching ``input``/``change``, as a hand on the slider does); after every move
the test reads the chart's parameters and computed data through the Vega view's API
(``window.kdlsLive.views[id]``: ``view.signal``, ``view.data``) and compares them with :mod:`helpers.maths.theory`,
:mod:`helpers.maths.losses` and :mod:`helpers.maths.metrics` to 1e-6 (absolute; relative for numbers above 1). A screenshot
before and after one move must differ; the temperature slider is also moved with the keyboard, and its visible
value reads as a temperature. When a book was built (``$BOOK_DIR``, default ``build/book``), notebook 01's page
is opened too: its live chart loads from the book's own ``_static`` folder, and moves.

Run with ``make test-browser`` (the book's check: ``make book test-book``, which requires the built book).
Needs ``/usr/bin/chromium`` and Playwright; skipped without them.
"""

from __future__ import annotations

import functools
import http.server
import math
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch

from helpers.teaching import live_charts, live_html
from helpers.teaching import slider_defaults as defaults
from helpers.maths import losses
from helpers.maths import metrics
from helpers.maths import theory
from helpers.maths.calibration import scale_logits

ROOT = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ.get("BOOK_DIR", ROOT / "build" / "book"))
if not BOOK.is_absolute():
    BOOK = ROOT / BOOK
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOLERANCE = 1e-6
CALIBRATION_EXAMPLES = None  # all of the shipped test set, as the book shows it

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's Chromium "
                       "(apt-get install -y chromium) to run the browser tests"),
]

READ_STATE = """async (id) => {
    const view = window.kdlsLive.views[id];
    await view.runAsync();
    const signals = {};
    for (const input of document.querySelectorAll('#' + id + ' input[type=range]')) {
        signals[input.name] = view.signal(input.name);
    }
    const data = {};
    for (const name of Object.keys(view._runtime.data)) {
        let rows;
        try { rows = view.data(name); } catch (error) { continue; }  // not a data set
        if (!Array.isArray(rows)) continue;
        data[name] = rows.map(row => Object.fromEntries(Object.entries(row).filter(
            ([, value]) => value === null || ['number', 'string', 'boolean'].includes(typeof value))));
    }
    return {signals, data};
}"""

MOVE = """async ([id, name, value]) => {
    const input = document.querySelector('#' + id + ' input[name="' + name + '"]');
    input.value = String(value);
    input.dispatchEvent(new Event('input', {bubbles: true}));
    input.dispatchEvent(new Event('change', {bubbles: true}));
    await window.kdlsLive.views[id].runAsync();
    return +input.value;
}"""

SLIDERS = """(id) => Array.from(document.querySelectorAll('#' + id + ' input[type=range]')).map(input => ({
    name: input.name, min: +input.min, max: +input.max, step: +input.step,
    label: input.closest('label').querySelector('.vega-bind-name').textContent,
    shown: input.parentElement.querySelector('.kdls-live-value').textContent}))"""


# ---------------------------------------------------------------------------------------- references


def rows_with(data: dict[str, list[dict]], *fields: str, count: int | None = None) -> list[dict]:
    """The rows of the one data set whose rows carry ``fields`` (and number ``count``, if given)."""
    found = [rows for rows in data.values() if rows and all(f in rows[0] for f in fields)
             and (count is None or len(rows) == count)]
    assert found, f"no data set with fields {fields} (count {count}): {[list(r[0]) for r in data.values() if r]}"
    return found[-1]


def close(actual, expected, what: str) -> None:
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    # 1e-6 absolute, or relative for numbers above 1 (a τ²-scaled loss reaches 10 and more)
    assert np.allclose(actual, expected, rtol=TOLERANCE, atol=TOLERANCE), (
        f"{what}: max difference {np.abs(actual - expected).max():.3g}\nbrowser {actual}\npython  {expected}")


def check_temperature(state: dict) -> None:
    s, data = state["signals"], state["data"]
    tau = 10.0 ** s["log_tau"]
    k = sum(1 for name in s if name.startswith("z"))
    z = torch.tensor([s[f"z{i}"] for i in range(k)], dtype=torch.float64)
    bars = sorted(rows_with(data, "class", "p", "H"), key=lambda row: row["class"])
    close([row["p"] for row in bars], theory.softmax_with_temperature(z, tau), "softmax(z/τ)")
    close(bars[0]["H"], metrics.entropy(z / tau).item(), "entropy")
    close(bars[0]["maxp"], metrics.max_probability(z / tau).item(), "max-probability")
    curve = rows_with(data, "tau", "H", count=120)
    taus = torch.tensor([row["tau"] for row in curve], dtype=torch.float64)
    close([row["H"] for row in curve], metrics.entropy(z[None, :] / taus[:, None]), "entropy against τ")
    (marker,) = rows_with(data, "tau", "H", "row")[:1]
    close([marker["tau"], marker["H"]], [tau, metrics.entropy(z / tau).item()], "the marker")


def check_label_smoothing(state: dict) -> None:
    s, data = state["signals"], state["data"]
    alpha, k = s["alpha"], int(s["K"])
    bars = sorted(rows_with(data, "class", "q"), key=lambda row: row["class"])
    close([row["q"] for row in bars], theory.smoothed_target(0, k, alpha), "LS target")
    curve = rows_with(data, "gap", "loss", count=121)
    logits = torch.zeros(len(curve), k, dtype=torch.float64)
    logits[:, 0] = torch.tensor([row["gap"] for row in curve], dtype=torch.float64)
    targets = torch.zeros(len(curve), dtype=torch.long)
    expected = [losses.label_smoothing_loss(logits[i:i + 1], targets[:1], alpha).item() for i in range(len(curve))]
    close([row["loss"] for row in curve], expected, "LS loss against the logit gap")
    optimum = theory.ls_optimum(k, alpha)
    readout = rows_with(data, "row", "p_label", "floor")[0]
    close([readout["p_label"], readout["floor"]], [optimum.max_prob, optimum.entropy_floor], "optimum's max-prob, floor")
    if math.isinf(optimum.logit_gap):
        assert readout["gap_star"] is None, readout
    else:
        close(readout["gap_star"], optimum.logit_gap, "optimum gap")


def check_distillation(state: dict) -> None:
    s, data = state["signals"], state["data"]
    confidence, tau, alpha = s["confidence"], 10.0 ** s["log_tau"], s["alpha"]
    base = defaults.KD_APP_TEACHER_LOGITS
    label, k = int(np.argmax(base)), len(base)
    teacher = theory.teacher_logits_with_confidence(base, confidence)
    # the bars are folded into one row per (class, series): each row still carries r, mixed and ls
    bars = sorted((row for row in rows_with(data, "class", "r", "mixed", "ls", "series") if row["series"] == "r"),
                  key=lambda row: row["class"])
    close([row["r"] for row in bars], theory.kd_soft_targets(teacher, tau), "teacher p_t^τ")
    close([row["mixed"] for row in bars], theory.kd_mixed_target(teacher, label, alpha, tau), "KD target")
    close([row["ls"] for row in bars], theory.smoothed_target(label, k, alpha), "LS target")
    if abs(tau - 1.0) < 1e-12:
        close([row["mixed"] for row in bars], theory.kd_optimum(teacher, label, alpha, 1.0), "KD optimum at τ = 1")
    student = torch.zeros(k)
    curve = [row for row in rows_with(data, "tau", "scaled", "raw", "curve") if row["curve"] == "scaled"]
    assert len(curve) == 60
    for row in curve[::7] + curve[-1:]:
        close([row["scaled"], row["raw"]],
              [theory.soft_gradient(student, teacher, row["tau"], tau_squared=True).norm().item(),
               theory.soft_gradient(student, teacher, row["tau"], tau_squared=False).norm().item()],
              f"soft-term gradient norms at τ = {row['tau']:.3g}")
    matching = rows_with(data, "matching")[0]["matching"]
    close(matching, theory.logit_matching_gradient(student, teacher).norm().item(), "logit-matching limit")
    summary = rows_with(data, "row", "mixed_H", "ls_H", "soft_term")[0]
    comparison = theory.compare_targets(teacher, label, alpha, tau)
    close([summary["tH"], summary["tmaxp"], summary["mixed_H"], summary["ls_H"], summary["ls_maxp"]],
          [comparison.teacher_entropy, comparison.teacher_max_prob, comparison.kd_mixed_entropy,
           comparison.ls_entropy, comparison.ls_max_prob], "read-out entropies and max-probabilities")
    soft = alpha * tau**2 * losses.soft_target_kl(student[None].double(), teacher[None].double(), tau).item()
    close(summary["soft_term"], soft, "soft term α·τ²·KL")


def check_calibration(state: dict, logits: np.ndarray, targets: np.ndarray) -> None:
    s, data = state["signals"], state["data"]
    t = 10.0 ** s["log_T"]
    scaled = scale_logits(torch.tensor(logits, dtype=torch.float64), t)
    y = torch.tensor(targets)
    expected = metrics.reliability_bins(scaled, y, defaults.CALIBRATION_APP_BINS)
    summary = metrics.summarize(scaled, y, defaults.CALIBRATION_APP_BINS)
    bins = sorted(rows_with(data, "bin", "count", "confidence", "accuracy", "ece"), key=lambda row: row["bin"])
    nonempty = [int(b) for b in torch.nonzero(expected["count"]).flatten()]
    assert [row["bin"] for row in bins] == nonempty, (t, [row["bin"] for row in bins], nonempty)
    close([row["count"] for row in bins], expected["count"][nonempty], "bin counts")
    close([row["confidence"] for row in bins], expected["confidence"][nonempty], "bin confidences")
    close([row["accuracy"] for row in bins], expected["accuracy"][nonempty], "bin accuracies")
    close([bins[0][name] for name in ("ece", "entropy", "max_prob", "nll", "accuracy_all")],
          [summary[name] for name in ("ece", "entropy", "max_prob", "nll", "accuracy")], "ECE, entropy, max-prob, NLL")


# ------------------------------------------------------------------------------------------ the pages


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """One standalone page per app in a temporary folder, the runtime file beside them."""
    folder = tmp_path_factory.mktemp("live")
    live_html.write_runtime(folder)
    logits, targets, caption = live_charts.shipped_calibration_data(CALIBRATION_EXAMPLES)
    charts = {"temperature": live_charts.temperature_chart(), "label_smoothing": live_charts.label_smoothing_chart(),
              "distillation": live_charts.distillation_chart(),
              "calibration": live_charts.calibration_chart(logits, targets, caption=caption)}
    paths = {}
    for app, chart in charts.items():
        paths[app] = folder / f"{app}.html"
        paths[app].write_text(live_html.standalone_html(chart, live_html.RUNTIME_FILE), encoding="utf-8")
    return folder, paths, (logits, targets)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed in this environment")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _offline_page(browser, allowed, refused: list[str], errors: list[str]):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")

    def route(request_route):
        url = request_route.request.url
        if allowed(url):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return page


def _positions(slider: dict) -> list[float]:
    """Both ends and three points between, on the slider's steps."""
    low, high, step = slider["min"], slider["max"], slider["step"]
    between = [round(low + round((high - low) * share / step) * step, 10) for share in (0.25, 0.5, 0.75)]
    return [low, *between, high]


@pytest.mark.parametrize("app", ["temperature", "label_smoothing", "distillation", "calibration"])
def test_live_chart_matches_python(app, pages, browser, tmp_path):
    folder, paths, (logits, targets) = pages
    refused: list[str] = []
    errors: list[str] = []
    page = _offline_page(browser, lambda url: url.startswith(folder.as_uri()) or url.startswith("data:"),
                         refused, errors)
    page.goto(paths[app].as_uri(), wait_until="load", timeout=60_000)
    element = f"kdls-live-{app}"
    page.wait_for_selector(f"#{element}[data-ready=true]", timeout=60_000)
    check = {"temperature": check_temperature, "label_smoothing": check_label_smoothing,
             "distillation": check_distillation,
             "calibration": lambda state: check_calibration(state, logits, targets)}[app]
    check(page.evaluate(READ_STATE, element))  # the first view: the Python app's defaults
    sliders = page.evaluate(SLIDERS, element)
    assert sliders and all(slider["label"].strip() for slider in sliders)
    before = tmp_path / f"{app}_before.png"
    after = tmp_path / f"{app}_after.png"
    page.locator(f"#{element}").screenshot(path=str(before))
    moves = 0
    for slider in sliders:
        for value in _positions(slider):
            actual = page.evaluate(MOVE, [element, slider["name"], value])
            assert abs(actual - value) < 1e-9, (slider, value, actual)
            state = page.evaluate(READ_STATE, element)
            assert abs(state["signals"][slider["name"]] - value) < 1e-9
            check(state)
            moves += 1
            if moves == 1:
                page.locator(f"#{element}").screenshot(path=str(after))
                assert before.read_bytes() != after.read_bytes(), "the chart did not change after a slider move"
    assert moves == 5 * len(sliders)
    if app == "temperature":
        # keyboard: a native range input, one step per arrow key; the visible value is τ, not log10 τ
        page.evaluate(MOVE, [element, "log_tau", 0])
        page.focus(f"#{element} input[name=log_tau]")
        page.keyboard.press("ArrowRight")
        state = page.evaluate(READ_STATE, element)
        assert abs(state["signals"]["log_tau"] - 0.01) < 1e-9
        check(state)
        shown = page.evaluate(SLIDERS, element)[0]
        assert shown["label"].startswith("temperature τ") and shown["shown"] == "τ = 1.02", shown
    assert not errors, errors
    assert not refused, f"the page asked for something outside its folder: {refused}"
    print(f"\n{app}: {moves} slider positions match the Python maths to {TOLERANCE:g}; screenshots {before.name}, "
          f"{after.name} in {tmp_path}")


# --------------------------------------------------------------------------------- inside the built book


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D102 - no access log in the test output
        pass


def test_live_chart_in_the_book(browser, tmp_path):
    page_path = next(iter(sorted((BOOK / "notebooks").glob("01_*.html"))), None) if BOOK.is_dir() else None
    if page_path is None or "kdls-live" not in page_path.read_text(encoding="utf-8"):
        message = f"no book with live charts in {BOOK}: run `make book` first"
        if os.environ.get("BOOK_REQUIRED") == "1":  # make test-book
            pytest.fail(message)
        pytest.skip(message)
    handler = functools.partial(_QuietHandler, directory=str(BOOK))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    refused: list[str] = []
    errors: list[str] = []
    try:
        page = _offline_page(browser, lambda url: urlsplit(url).hostname == "127.0.0.1" or url.startswith("data:"),
                             refused, errors)
        page.goto(base + page_path.relative_to(BOOK).as_posix(), wait_until="load", timeout=60_000)
        page.wait_for_selector(".kdls-live[data-ready=true]", timeout=60_000)
        element = page.get_attribute(".kdls-live[data-app=temperature]", "id")
        runtimes = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(s => s.endsWith("
                                 f"'{live_html.RUNTIME_FILE}'))")
        assert len(runtimes) == 1 and "/_static/" in runtimes[0], runtimes
        assert page.locator(".kdls-live-note").first.inner_text().startswith("Live figure")
        for value in (-2.0, 0.5, 2.0):
            page.evaluate(MOVE, [element, "log_tau", value])
            check_temperature(page.evaluate(READ_STATE, element))
        page.locator(f"#{element}").screenshot(path=str(tmp_path / "book_live_chart.png"))
    finally:
        server.shutdown()
        server.server_close()
    assert not errors, errors
    assert not refused, refused
