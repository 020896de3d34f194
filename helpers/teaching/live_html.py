"""The page side of the live charts: the Vega runtime (one script, written once per site or deck) and the HTML of a
chart, so that a static page (``make book``) or the lecture deck (``make slides``) shows it with no network.

The runtime is Vega, Vega-Lite and vega-embed (bundled by ``vl-convert-python``) plus the small :data:`HELPER_JS`,
which embeds a chart, binds its sliders and shows each slider's value (a temperature, not its log10).
:func:`chart_html` is the HTML of one chart (a note saying it is live, the sliders, the chart).
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path

import altair as alt

from helpers.teaching.vega import LiveChart

__all__ = ["LIVE_NOTE", "RUNTIME_FILE", "VEGA_LITE_VERSION", "HELPER_JS", "runtime_js", "write_runtime", "chart_html",
           "standalone_html"]

LIVE_NOTE = "Live figure: move the sliders (computed in your browser, no Python needed)."
RUNTIME_FILE = "kdls-live.js"
# the Vega-Lite version Altair writes specs for (e.g. "6.4"): the bundled runtime compiles that version
VEGA_LITE_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])

HELPER_JS = r"""
window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;
const STYLE = `
.kdls-live { margin: 0.6em 0 1em; }
.kdls-live-note { margin: 0 0 0.4em; padding: 0.3em 0.6em; border-left: 4px solid #029e73; background: #f2faf6; }
.kdls-live-controls .vega-bind { margin: 0.15em 0; }
.kdls-live-controls .vega-bind label { display: flex; align-items: center; gap: 0.8em; }
.kdls-live-controls .vega-bind-name { display: inline-block; flex: 0 0 14em; font-weight: 600; }
.kdls-live-controls input[type=range] { width: 18em; max-width: 50vw; }
.kdls-live-controls input[type=range]:focus-visible { outline: 3px solid #0173b2; outline-offset: 2px; }
.kdls-live-value { min-width: 5em; font-variant-numeric: tabular-nums; }
.kdls-live-large { font-size: 22px; }
.kdls-live-large .kdls-live-controls input[type=range] { width: 16em; height: 1.4em; }
.kdls-live-chart { overflow-x: auto; }
`;
function addStyle() {
  if (document.getElementById("kdls-live-style")) return;
  const style = document.createElement("style");
  style.id = "kdls-live-style";
  style.textContent = STYLE;
  document.head.appendChild(style);
}
function showValues(view, root, logParams) {
  // every slider gets one visible value; a log-scale slider shows the temperature itself, not its log10
  for (const input of root.querySelectorAll(".kdls-live-controls input[type=range]")) {
    const name = input.getAttribute("name");
    const symbol = logParams[name];
    const own = input.nextElementSibling;
    if (own) own.style.display = "none";
    const span = document.createElement("span");
    span.className = "kdls-live-value";
    input.after(span);
    const show = (value) => {
      const text = symbol ? symbol + " = " + Number(Math.pow(10, +value).toPrecision(3)) : String(+value);
      span.textContent = text;
      input.setAttribute("aria-valuetext", text);
    };
    show(view.signal(name));
    view.addSignalListener(name, (_, value) => show(value));
    input.addEventListener("input", () => show(input.value));
  }
}
async function embed(id, spec, options) {
  addStyle();
  const root = document.getElementById(id);
  const result = await vegaEmbed(root.querySelector(".kdls-live-chart"), spec,
    {actions: false, renderer: "svg", bind: root.querySelector(".kdls-live-controls")});
  window.kdlsLive.views[id] = result.view;
  showValues(result.view, root, (options && options.logParams) || {});
  root.setAttribute("data-ready", "true");
  return result.view;
}
window.kdlsLive = {embed, views: {}};
"""


@functools.lru_cache(maxsize=1)
def runtime_js() -> str:
    """Vega, Vega-Lite and vega-embed (bundled by vl-convert-python) with :data:`HELPER_JS`: one script, no imports."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(snippet=HELPER_JS, vl_version=VEGA_LITE_VERSION)
    # a classic script shares the page's global scope: its top-level names (e.g. `_`) would clash with the
    # page's own (Sphinx defines `_`), so the bundle runs in a function of its own; it publishes window.* names
    header = ("/* Vega, Vega-Lite, vega-embed (BSD-3-Clause) and their dependencies, bundled by vl-convert-python;"
              " the kit's helper last */\n")
    return f"{header}(function () {{\n{bundle}\n}})();\n"


def write_runtime(folder: Path) -> Path:
    """Write the runtime once into ``folder`` (``RUNTIME_FILE``); returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RUNTIME_FILE
    path.write_text(runtime_js(), encoding="utf-8")
    return path


def _script_json(value) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def chart_html(chart: LiveChart, element_id: str, runtime_src: str | None = None, large: bool = False) -> str:
    """The HTML of one live chart: the note, its sliders, the chart and the script that draws it.

    ``runtime_src`` (a relative URL of :data:`RUNTIME_FILE`) adds the ``<script>`` that loads the runtime:
    give it for the first live chart of a page only. The chart waits for the runtime, wherever it is loaded.
    """
    note = LIVE_NOTE + (f" Data: {chart.caption}." if chart.caption else "")
    loader = f'<script src="{html.escape(runtime_src, quote=True)}"></script>\n' if runtime_src else ""
    options = {"logParams": chart.log_params}
    return (f'{loader}<div class="kdls-live{" kdls-live-large" if large else ""}" id="{html.escape(element_id)}" '
            f'data-app="{chart.app}">\n'
            f'<p class="kdls-live-note"><b>{html.escape(note.split(":")[0])}:</b>{html.escape(note.split(":", 1)[1])}'
            f"</p>\n<div class=\"kdls-live-controls\"></div>\n<div class=\"kdls-live-chart\"></div>\n</div>\n"
            f"<script>(function draw() {{ if (window.kdlsLive) {{ window.kdlsLive.embed({_script_json(element_id)}, "
            f"{_script_json(chart.spec)}, {_script_json(options)}); }} else {{ setTimeout(draw, 25); }} }})();</script>\n")


def standalone_html(chart: LiveChart, runtime_src: str, title: str = "Live figure", large: bool = False) -> str:
    """A whole page holding one live chart (``runtime_src``: where the runtime file is, relative to the page)."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            "</head>\n<body style=\"font-family: sans-serif\">\n"
            f"{chart_html(chart, 'kdls-live-' + chart.app, runtime_src, large=large)}</body></html>\n")
