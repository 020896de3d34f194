"""End to end in a real browser: JupyterLab runs notebook 01, a slider moves, the entropy read-out follows.

Serves JupyterLab on a free localhost port (token auth, ``--no-browser``) over a temporary copy of
the notebook, drives Debian's headless Chromium with Playwright, runs all cells, presses the
arrow key on the temperature slider's handle and checks that the displayed entropy changes (and
agrees with the displayed temperature). It fails on the classic front-end mismatch ("Error
displaying widget" / "model not found"). A screenshot is saved to ``build/browser/``.

Run with ``make test-browser`` (``pytest -m browser -s``). Needs ``/usr/bin/chromium``
(``apt-get install chromium``); skipped without it.
"""

from __future__ import annotations

import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01_softmax_temperature_entropy.ipynb"
SCREENSHOT_DIR = ROOT / "build" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# what JupyterLab shows when the widget front-end cannot render a kernel's widget (e.g. an ipywidgets /
# jupyterlab_widgets mismatch): ipywidgets' own messages, and rendermime's collapsed JavaScript error
WIDGET_ERRORS = ("Error displaying widget", "model not found", "Failed to load model class",
                 "Click to show javascript error")
LOGITS = (2.0, 1.0, 0.1, -1.0)  # the logits notebook 01 gives its slider app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install Debian's Chromium "
                       "(apt-get install -y chromium) to run the browser tests"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"JupyterLab did not answer {url} within {timeout:.0f} s")


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server over a temporary folder holding a copy of notebook 01; yields (url, token, folder)."""
    work = tmp_path / "lab"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update({
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),  # the kernel imports helpers
        "KDLS_PRESET": "smoke",
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
    })
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend, as for a reader
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
        "--LabApp.expose_app_in_browser=True", "--ServerApp.port_retries=0",
        "--KernelManager.transport_encryption=auto",  # as `make lab`: encrypted kernel channels where supported
    ]
    # no "get notified about Jupyter news?" toast and no update check (offline, and it covers the page);
    # every cell kept in the page (no windowing), so that an error in any output is visible to the test
    settings = tmp_path / "settings" / "@jupyterlab"
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}')
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    log = open(tmp_path / "jupyterlab.log", "w")
    process = subprocess.Popen(command, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{url}/api/status?token={token}", process)
        yield url, token, work
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _assert_no_widget_errors(page) -> None:
    body = page.inner_text("body")
    for message in WIDGET_ERRORS:
        assert message not in body, (f"JupyterLab shows {message!r}: the widget front-end (jupyterlab_widgets) "
                                     "does not match ipywidgets -- see notebook 00's environment check")


def _readout_numbers(text: str) -> tuple[float, float]:
    tau = re.search(r"τ = ([0-9.]+)", text)
    entropy = re.search(r"entropy H = ([0-9.]+)", text)
    assert tau and entropy, f"unexpected read-out text: {text!r}"
    return float(tau.group(1)), float(entropy.group(1))


def _entropy(tau: float) -> float:
    weights = [math.exp(z / tau) for z in LOGITS]
    total = sum(weights)
    return -sum(w / total * math.log(w / total) for w in weights)


def test_slider_moves_entropy_in_jupyterlab(jupyterlab):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed in this environment")
    url, token, _work = jupyterlab
    started = time.perf_counter()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    screenshot = SCREENSHOT_DIR / "jupyterlab_slider.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                                   timeout=120_000)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            # the app renders, or JupyterLab says it cannot ("Error displaying widget: model not found")
            page.wait_for_function("(errors) => document.querySelector('.kdls-readout')"
                                   " || errors.some((e) => document.body.innerText.includes(e))",
                                   arg=list(WIDGET_ERRORS), timeout=180_000)
            _assert_no_widget_errors(page)
            readout = page.locator(".kdls-readout").first
            readout.wait_for(state="visible", timeout=30_000)
            page.wait_for_function("() => document.querySelector('.kdls-readout').innerText.includes('entropy H')",
                                   timeout=60_000)
            readout.scroll_into_view_if_needed()
            before = readout.inner_text()
            tau_before, h_before = _readout_numbers(before)
            assert tau_before == pytest.approx(1.0) and h_before == pytest.approx(_entropy(1.0), abs=2e-3)

            # the temperature slider is the app's first slider: focus its handle and press the arrow key
            handle = page.locator(".widget-slider .noUi-handle").first
            handle.focus()
            for _ in range(15):
                page.keyboard.press("ArrowRight")
            page.wait_for_function("(old) => document.querySelector('.kdls-readout').innerText !== old",
                                   arg=before, timeout=30_000)
            page.wait_for_timeout(1500)  # let the last updates arrive
            after = readout.inner_text()
            tau_after, h_after = _readout_numbers(after)
            assert tau_after > tau_before and h_after > h_before, (before, after)
            assert h_after == pytest.approx(_entropy(tau_after), abs=0.01), after  # τ is shown to 3 digits
            assert page.locator(".kdls-figure").first.is_visible()

            _assert_no_widget_errors(page)
            page.locator(".kdls-figure").first.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    print(f"\nbrowser test: {time.perf_counter() - started:.1f} s in the browser; read-out before: {before!r}; "
          f"after: {after!r}; screenshot: {screenshot.relative_to(ROOT)}")
