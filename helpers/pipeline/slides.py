"""The lecture deck: notebooks 01-03 as reveal.js slides that work offline (``make slides``).

Each notebook is executed on a preset (``smoke`` by default: seconds), then converted with nbconvert's
``SlidesExporter``, which follows the cells' ``metadata.slideshow.slide_type`` (``slide``, ``subslide``,
``-``, ``skip``). nbconvert's template loads reveal.js, RequireJS, jQuery and MathJax from CDNs; here every
one of them is a **local copy** under ``OUT/vendor/``, unpacked from pinned npm packages (``npm pack``, the
npm registry's ordinary client), each checked against its sha512 ``integrity`` before use:

* ``reveal.js@4.0.2`` -- the version nbconvert's reveal template is written for
  (``--SlidesExporter.reveal_url_prefix`` points at ``vendor/reveal.js``);
* ``requirejs@2.3.7`` and ``jquery@3.7.1`` -- the template's loaders;
* ``mathjax@2.7.7`` -- the template configures MathJax 2 (only the files the ``TeX-AMS_CHTML-full``
  configuration needs are unpacked: about 2 MB of the package's 70).

The tarballs are cached in ``$KDLS_DATA_DIR/npm`` (default ``data/cache/npm``): after the first build no
network is needed, and the deck itself never needs one. A widget's state needs a kernel, so the Python slider
apps cannot run in the deck; the theory apps (notebooks 01-04) are shown by their **live twins** instead
(:mod:`helpers.teaching.live_charts`: Vega-Lite charts whose sliders move in the browser, sized for a projector), each
on a slide of its own, started at the app's values (:func:`add_live_charts`). The Vega runtime is written once
into ``OUT/vendor/kdls-live/`` and each deck with a live chart loads it once. Other widget cells stay skipped.

Usage: ``python -m helpers.pipeline.slides --out build/slides [--preset smoke|classroom] [--notebooks 01 02 03]``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.infrastructure.assets import REPO_ROOT, cache_dir
from helpers.pipeline.notebooks import NOTEBOOK_DIR, execute_notebook
from helpers.teaching import live_charts, live_html
from helpers.teaching.widget_state import WIDGET_VIEW, saved_models, widget_sliders

__all__ = ["VENDOR", "DECK_NOTEBOOKS", "LIVE_RUNTIME_DIR", "fetch_vendor", "add_live_charts", "build_slides", "main"]

DECK_NOTEBOOKS = ("01", "02", "03")
LIVE_RUNTIME_DIR = "vendor/kdls-live"  # the live charts' Vega runtime, relative to the decks


@dataclass(frozen=True)
class VendorPackage:
    """One pinned npm package: what to unpack (paths inside ``package/``) and where (``vendor/<folder>``)."""

    spec: str
    integrity: str  # npm's sha512 "integrity" of the tarball
    folder: str
    keep: tuple[str, ...]

    @property
    def tarball(self) -> str:
        name, version = self.spec.rsplit("@", 1)
        return f"{name.replace('/', '-')}-{version}.tgz"


VENDOR: tuple[VendorPackage, ...] = (
    VendorPackage("reveal.js@4.0.2",
                  "sha512-LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONFWMAw+8R/QUeaScCLCLrBVHDfFIEiw==",
                  "reveal.js", ("dist/", "plugin/notes/", "LICENSE")),
    VendorPackage("requirejs@2.3.7",
                  "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
                  "requirejs", ("require.js", "LICENSE")),
    VendorPackage("jquery@3.7.1",
                  "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
                  "jquery", ("dist/jquery.min.js", "LICENSE.txt")),
    VendorPackage("mathjax@2.7.7",
                  "sha512-OOl0B2/0tSJAtAZarXnQuLDBLgTNRqiI9VqHTQzPsxf4okT2iIpDrvaklK9x2QEMD1sDj4yRn11Ygci41DxMAQ==",
                  "mathjax", ("MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions/", "jax/input/TeX/",
                              "jax/output/CommonHTML/", "jax/element/", "localization/en/", "fonts/HTML-CSS/TeX/woff/",
                              "LICENSE")),
)

# nbconvert's template imports mermaid as an ES module from a CDN; the deck has no diagrams: a local no-op
_MERMAID_STUB = "export default { initialize() {} };\n"


def _cache_dir() -> Path:
    return cache_dir() / "npm"


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _download(package: VendorPackage, cache: Path) -> Path:
    path = cache / package.tarball
    if path.exists() and _integrity(path) == package.integrity:
        return path
    cache.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"{package.spec} is not in {cache} and npm is not installed: install npm "
                           f"(apt-get install npm) or copy {package.tarball} into {cache}")
    subprocess.run([npm, "pack", package.spec, "--pack-destination", str(cache), "--silent"], check=True,
                   stdout=subprocess.DEVNULL)
    actual = _integrity(path)
    if actual != package.integrity:
        path.unlink()
        raise RuntimeError(f"{package.tarball}: sha512 integrity {actual} does not match the pinned "
                           f"{package.integrity}; the file was removed, run again")
    return path


def fetch_vendor(out: Path) -> Path:
    """Unpack the pinned packages into ``out/vendor`` (downloading missing tarballs once); returns that folder."""
    vendor = Path(out) / "vendor"
    cache = _cache_dir()
    for package in VENDOR:
        target = vendor / package.folder
        if target.exists():
            shutil.rmtree(target)
        with tarfile.open(_download(package, cache)) as archive:
            for member in archive.getmembers():
                inner = member.name.split("/", 1)[1] if "/" in member.name else ""
                if not member.isfile() or not any(inner == k or (k.endswith("/") and inner.startswith(k))
                                                  for k in package.keep):
                    continue
                destination = target / inner
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as source:
                    destination.write_bytes(source.read())
    (vendor / "mermaid-stub.mjs").write_text(_MERMAID_STUB)
    return vendor


def _exporter():
    from nbconvert import SlidesExporter

    exporter = SlidesExporter()
    exporter.reveal_url_prefix = "vendor/reveal.js"
    exporter.reveal_theme = "white"  # its fonts ship with reveal.js ("simple" loads web fonts)
    exporter.require_js_url = "vendor/requirejs/require.js"
    exporter.jquery_url = "vendor/jquery/dist/jquery.min.js"
    exporter.mathjax_url = "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    if exporter.has_trait("mermaid_js_url"):
        exporter.mermaid_js_url = "./vendor/mermaid-stub.mjs"  # an ES module path must start with ./
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


def add_live_charts(notebook, name: str, runtime_src: str = f"{LIVE_RUNTIME_DIR}/{live_html.RUNTIME_FILE}") -> int:
    """Give each theory app of an executed ``notebook`` its live chart, on a slide of its own; how many.

    An app is recognised by its sliders in the saved widget state (:func:`helpers.teaching.live_charts.chart_for_sliders`);
    its cell's outputs become the live chart (projector-sized, started at the app's values) and the cell a
    ``slide``. The first chart loads the runtime (``runtime_src``, relative to the deck): once per deck.
    """
    models = saved_models(notebook)
    count = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            sliders = widget_sliders(models, view.get("model_id", "")) if view else []
            chart = live_charts.chart_for_sliders(sliders, large=True) if sliders else None
            if chart is None:
                continue
            count += 1
            html = live_html.chart_html(chart, f"kdls-live-{name}-{count}", runtime_src if count == 1 else None,
                                        large=True)
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": html,
                                                                         "text/plain": live_html.LIVE_NOTE})]
            cell.metadata.setdefault("slideshow", {})["slide_type"] = "slide"
            cell.metadata.setdefault("transient", {})["remove_source"] = True  # the whole slide for the chart
            break
    return count


def build_slides(out: Path, preset: str = "smoke", notebooks: tuple[str, ...] = DECK_NOTEBOOKS) -> list[Path]:
    """Execute the notebooks on ``preset`` and write ``out/NN_name.slides.html`` plus ``out/index.html``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fetch_vendor(out)
    live_html.write_runtime(out / LIVE_RUNTIME_DIR)
    exporter = _exporter()
    decks = []
    for number in notebooks:
        matches = sorted(NOTEBOOK_DIR.glob(f"{number}_*.ipynb"))
        if not matches:
            raise ValueError(f"no notebook {number}_*.ipynb in {NOTEBOOK_DIR}")
        source = matches[0]
        executed = out / "executed" / source.name
        seconds = execute_notebook(source, preset=preset, output=executed)
        notebook = nbformat.read(executed, as_version=4)
        live = add_live_charts(notebook, number)
        notebook.metadata.pop("widgets", None)  # widget state needs a kernel (and a CDN): other sliders are skipped
        body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": source.stem}})
        deck = out / f"{source.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
        print(f"{deck.relative_to(out)}: executed on {preset!r} in {seconds:.0f} s; {live} live chart(s)")
    links = "\n".join(f'<li><a href="{d.name}">{d.stem.replace(".slides", "")}</a></li>' for d in decks)
    (out / "index.html").write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lecture decks</title>"
                                    f"</head><body><h1>Lecture decks</h1><ul>{links}</ul></body></html>\n")
    return decks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "slides")
    parser.add_argument("--preset", default=os.environ.get("KDLS_PRESET", "smoke"))
    parser.add_argument("--notebooks", nargs="+", default=list(DECK_NOTEBOOKS))
    args = parser.parse_args(argv)
    decks = build_slides(args.out, args.preset, tuple(args.notebooks))
    print(f"{len(decks)} decks in {args.out} (open index.html; reveal.js, MathJax and the live charts' Vega "
          "runtime are local copies)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
