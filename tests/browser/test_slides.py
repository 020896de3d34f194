"""The lecture deck works offline: notebook 02's slides open in headless Chromium with every request outside
the deck's folder refused, reveal.js and MathJax start from the local copies, and a slide holding a figure shows it.

Builds the deck of notebook 02 on the smoke preset with :func:`helpers.slides.build_slides` (the pinned npm
tarballs are downloaded once into the data cache, then reused), opens it from ``file://``, navigates with
reveal.js's own API to the first slide that holds a figure, checks the image is decoded and visible, and saves
a screenshot to ``build/slides/slide_with_figure.png``.

Run with ``make test-browser``. Needs ``/usr/bin/chromium`` (``apt-get install chromium``); skipped without it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "build" / "slides" / "slide_with_figure.png"
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
    from helpers.slides import build_slides

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
        finally:
            browser.close()
    assert not errors, errors
    assert not refused, f"the deck asked for files outside its folder or the network: {refused}"
    print(f"\nslide {indices} holds a figure; screenshot: {SCREENSHOT.relative_to(ROOT)}; refused: {refused}")
