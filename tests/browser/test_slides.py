"""The lecture deck works offline: notebook 02's slides open in headless Chromium with every request outside
the deck's folder refused, reveal.js and MathJax start from the local copies, a slide holding a figure shows it,
and the slide of the label-smoothing app shows its live chart (helpers.teaching.live_charts), which moves.

Builds the deck of notebook 02 on the smoke preset with :func:`helpers.pipeline.slides.build_slides` (the pinned npm
tarballs are downloaded once into the data cache, then reused), opens it from ``file://``, navigates with
reveal.js's own API to the first slide that holds a figure, checks the image is decoded and visible, and saves
a screenshot to ``build/slides/slide_with_figure.png``. Then it goes on to the live chart's slide at a projector's
1280×720: the chart is drawn from the deck's own copy of the Vega runtime (loaded once), fits the slide, its
slider labels and chart text are large enough to read, and moving the α slider changes the chart and its numbers
(screenshots ``build/slides/live_chart_slide.png`` and ``…_moved.png``).

Run with ``make test-browser``. Needs ``/usr/bin/chromium`` (``apt-get install chromium``); skipped without it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "slides" / "slide_with_figure.png"
LIVE_SCREENSHOT = ROOT / "build" / "slides" / "live_chart_slide.png"
LIVE_MOVED = ROOT / "build" / "slides" / "live_chart_slide_moved.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--allow-file-access-from-files"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's Chromium "
                       "(apt-get install -y chromium) to run the browser tests"),
    pytest.mark.skipif(shutil.which("npm") is None and not any((ROOT / "data" / "cache" / "npm").glob("*.tgz")),
                       reason="npm is needed once to fetch the pinned reveal.js / MathJax tarballs"),
]


def test_deck_shows_a_figure_offline(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed in this environment")
    from helpers.pipeline.slides import build_slides

    (deck,) = build_slides(tmp_path / "slides", preset="smoke", notebooks=("02",))
    folder = deck.parent.resolve().as_uri()
    refused: list[str] = []

    def only_local(route):
        url = route.request.url
        if url.startswith(folder) or url.startswith("data:"):
            route.continue_()
        else:  # the network, or a file outside the deck: must not be needed
            refused.append(url)
            route.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
            context.route("**/*", only_local)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(deck.resolve().as_uri(), timeout=60_000)
            # reveal.js is loaded by RequireJS (no global): it marks its container "ready" once initialised
            page.wait_for_selector(".reveal.ready", timeout=60_000)
            page.wait_for_function("() => window.MathJax && MathJax.Hub", timeout=60_000)
            page.locator(".reveal").click()
            steps = 0
            while page.locator("section.present:not(.stack) img").count() == 0 and steps < 80:
                page.keyboard.press("Space")  # reveal.js: next slide, vertical ones included
                page.wait_for_timeout(100)
                steps += 1
            assert page.locator("section.present:not(.stack) img").count() > 0, "no slide of the deck holds a figure"
            indices = page.evaluate("() => location.hash")
            page.wait_for_timeout(1500)  # the slide transition
            image = page.locator("section.present:not(.stack) img").first
            assert image.is_visible()
            width, height = page.evaluate("(img) => [img.naturalWidth, img.getBoundingClientRect().height]",
                                          image.element_handle())
            assert width > 100 and height > 100, (width, height)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            live = _live_chart_slide(page)
        finally:
            browser.close()
    assert not errors, errors
    assert not refused, f"the deck asked for files outside its folder or the network: {refused}"
    print(f"\nslide {indices} holds a figure; screenshot: {SCREENSHOT.relative_to(ROOT)}; refused: {refused}")
    print(f"live chart on slide {live['slide']}: fonts {live['fonts']}; screenshots {LIVE_SCREENSHOT.relative_to(ROOT)}, "
          f"{LIVE_MOVED.relative_to(ROOT)}")


def _live_chart_slide(page) -> dict:
    """Go on to the live chart's slide at 1280x720 and check it: drawn, on the slide, readable, moving."""
    page.set_viewport_size({"width": 1280, "height": 720})
    steps = 0
    while page.locator("section.present:not(.stack) .kdls-live").count() == 0 and steps < 80:
        page.keyboard.press("Space")
        page.wait_for_timeout(100)
        steps += 1
    chart = page.locator("section.present:not(.stack) .kdls-live")
    assert chart.count() == 1, "no slide of the deck holds the live chart"
    assert chart.get_attribute("data-app") == "label_smoothing"
    page.wait_for_selector("section.present .kdls-live[data-ready=true] svg", timeout=60_000)
    page.wait_for_timeout(1500)  # the slide transition
    runtimes = page.evaluate("() => Array.from(document.scripts).map(s => s.getAttribute('src') || '')"
                             ".filter(s => s.endsWith('kdls-live.js'))")
    assert runtimes == ["vendor/kdls-live/kdls-live.js"], runtimes
    facts = page.evaluate("""() => {
        const root = document.querySelector('section.present .kdls-live');
        const box = root.getBoundingClientRect();
        const texts = Array.from(root.querySelectorAll('svg text')).map(t => t.getBoundingClientRect().height)
                           .filter(h => h > 0);
        return {bottom: box.bottom, right: box.right, left: box.left, top: box.top,
                note: root.querySelector('.kdls-live-note').innerText,
                label: parseFloat(getComputedStyle(root.querySelector('.vega-bind-name')).fontSize) *
                       root.getBoundingClientRect().width / root.offsetWidth,
                smallestText: Math.min(...texts)};
    }""")
    assert facts["note"].startswith("Live figure"), facts
    assert facts["top"] >= 0 and facts["left"] >= 0 and facts["bottom"] <= 720 and facts["right"] <= 1280, facts
    # at 1280x720 a projected slide's text must stay readable: slider labels >= 18 px, chart text >= 12 px tall
    assert facts["label"] >= 18 and facts["smallestText"] >= 12, facts
    page.screenshot(path=str(LIVE_SCREENSHOT))
    element = chart.get_attribute("id")
    alpha = page.locator(f"#{element} input[name=alpha]")
    alpha.focus()
    for _ in range(20):
        page.keyboard.press("ArrowRight")  # keyboard operable: 20 steps of 0.01
    value = page.evaluate("(id) => window.kdlsLive.views[id].signal('alpha')", element)
    assert abs(value - 0.3) < 1e-9, value
    shown = page.locator(f"#{element} .kdls-live-value").first.inner_text()
    assert shown == "0.3", shown
    page.wait_for_timeout(300)
    page.screenshot(path=str(LIVE_MOVED))
    assert LIVE_SCREENSHOT.read_bytes() != LIVE_MOVED.read_bytes(), "the live chart did not change"
    return {"slide": page.evaluate("() => location.hash"),
            "fonts": f"labels {facts['label']:.0f} px, smallest chart text {facts['smallestText']:.0f} px"}
