"""The machinery of the slider apps (:mod:`helpers.teaching.widgets`, :mod:`helpers.teaching.explorer`).

How an app works
----------------
* An app is a :class:`SliderApp` (an ``ipywidgets.VBox``): its sliders (``app.sliders[name]``,
  all ``continuous_update=True``), a live read-out (``app.readout``, an ``ipywidgets.HTML``),
  and a matplotlib figure (``app.figure``) shown as a PNG in ``app.image`` (an ``ipywidgets.Image``).
* Moving a slider recomputes the numbers with :mod:`helpers.maths.theory` / :mod:`helpers.maths.metrics`,
  updates the figure's artists **in place** (``set_bars`` / ``set_data`` / ``set_text``, kept in
  ``app.artists``) and re-renders the PNG with the Agg canvas. The figure is never re-created, and an update
  redraws only what moves: one full draw caches the static parts (axes, ticks, labels, legends), then each
  update pastes that background back, draws the moving artists on it (blitting), pastes the legends' pixels
  over them, and encodes the picture. What a slider does not move is not recomputed (the entropy-vs-τ curve
  while τ moves, the curves of notebook 03 while only the teacher's confidence moves). Drawing costs per
  artist and per character of changing text, so a row of bars is one artist (:class:`Bars`), numbers that
  need many characters go to the HTML read-out, and nothing is hatched. ``bench/widget_latency.py`` measures
  an update against the 50 ms target.
* What is displayed is exposed for tests and curious readers: ``app.state`` (the numbers in the
  read-out), ``app.readout.value`` (its text) and ``app.artists`` (bars, lines, markers).
* No ipympl needed: the PNG approach renders in JupyterLab, VS Code and nbconvert alike.
"""

from __future__ import annotations

import math
import struct
import time
import zlib
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from helpers.teaching import slider_defaults as defaults

__all__ = ["FIGSIZE", "DPI", "SLIDER_STYLE", "SliderApp", "Bars", "png_bytes", "log_slider", "float_slider"]

FIGSIZE = (9.0, 3.4)  # inches, at DPI: 900 x 340 pixels
DPI = 100
SLIDER_STYLE = {"description_width": "170px"}


@contextmanager
def _single_torch_thread():
    """Tiny tensors: one thread avoids OpenMP hand-offs that cost milliseconds on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class SliderApp(widgets.VBox):
    """Sliders + live read-out + a figure redrawn in place; subclasses implement :meth:`refresh`.

    Attributes: ``sliders`` (name -> slider), ``readout`` (HTML), ``image`` (PNG of ``figure``),
    ``figure``, ``artists`` (name -> artist or list of artists), ``state`` (the displayed numbers),
    ``notes`` (HTML), ``last_update_seconds`` (compute + render time of the latest update).
    """

    def __init__(self, sliders: dict[str, widgets.Widget], figure: Figure, notes: str = "") -> None:
        self.sliders = sliders
        self.figure = figure
        self.artists: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.last_update_seconds = float("nan")
        self.readout = widgets.HTML()
        self.readout.add_class("kdls-readout")
        self.image = widgets.Image(format="png")
        self.image.add_class("kdls-figure")
        self.notes = widgets.HTML(notes)
        self._dynamic: list[Artist] = []
        self._background = None
        self._overlays: list = []
        figure.set_facecolor("white")  # opaque: the PNG drops the alpha channel
        FigureCanvasAgg(figure)
        # legends are drawn with the static parts and pasted back over the moving artists (bars never hide them)
        self._legends = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
        controls = widgets.VBox(list(sliders.values()))
        super().__init__([controls, self.readout, self.image, self.notes])
        for slider in sliders.values():
            slider.observe(self._on_change, names="value")

    # -- subclasses -------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Recompute ``state``, update artists and read-out; return True if the axes themselves changed."""
        raise NotImplementedError

    # -- machinery --------------------------------------------------------------------------
    def _animate(self, *artists: Artist) -> None:
        """Register artists that change on every update (drawn on top of the cached background)."""
        for artist in artists:
            artist.set_animated(True)
            self._dynamic.append(artist)

    def _on_change(self, _change: dict) -> None:
        self.update()

    def update(self) -> None:
        """Recompute and redraw from the sliders' current values (called on every slider move)."""
        started = time.perf_counter()
        with _single_torch_thread():
            full = self.refresh()
        self._render(full or self._background is None)
        self.last_update_seconds = time.perf_counter() - started

    def _render(self, full: bool) -> None:
        canvas = self.figure.canvas
        if full:
            canvas.draw()  # the static parts and the legends: animated artists are skipped by a normal draw
            self._background = canvas.copy_from_bbox(self.figure.bbox)
            # each legend's pixels, pasted back over the moving artists (a copy costs far less than a redraw)
            self._overlays = [canvas.copy_from_bbox(legend.get_window_extent().padded(2)) for legend in self._legends]
        else:
            canvas.restore_region(self._background)
        for artist in self._dynamic:
            if artist.get_visible():
                self.figure.draw_artist(artist)
        for overlay in self._overlays:
            canvas.restore_region(overlay)
        self.image.value = png_bytes(np.asarray(canvas.buffer_rgba()))


def png_bytes(rgba: np.ndarray) -> bytes:
    """An opaque ``(H, W, 4)`` uint8 picture as a PNG (RGB, no row filter, fastest zlib level).

    Twice as fast as Pillow's encoder on the apps' line art, at a similar size: the encoding is a fixed cost of
    every update. The alpha channel is dropped (the apps' figures are opaque).
    """
    height, width, channels = rgba.shape
    if channels != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 4) uint8 picture, got {rgba.shape} {rgba.dtype}")
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # each row: filter type 0, then its RGB bytes
    rows[:, 1:] = rgba[:, :, :3].reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
            + chunk(b"IEND", b""))


def log_slider(description: str, value: float, low: float, high: float,
                step: float = defaults.LOG_STEP) -> widgets.FloatLogSlider:
    return widgets.FloatLogSlider(value=value, base=10, min=math.log10(low), max=math.log10(high), step=step,
                                  description=description, continuous_update=True, readout_format=".3g",
                                  style=SLIDER_STYLE, layout=widgets.Layout(width="600px"))


def float_slider(description: str, value: float, low: float, high: float, step: float) -> widgets.FloatSlider:
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               continuous_update=True, readout_format=".2f",
                               style=SLIDER_STYLE, layout=widgets.Layout(width="600px"))


class Bars(PolyCollection):
    """A row of bars drawn as one collection: one draw call for the row (a ``Rectangle`` per bar costs one each).

    ``left``, ``width``, ``bottoms`` and ``heights`` are arrays in data units, one entry per bar shown;
    :meth:`set_bars` moves them in place. Style keywords (``color``, ``edgecolor``, ``alpha``, ``label``) are
    matplotlib's.
    """

    def __init__(self, ax, left, width, **style) -> None:
        self.left = np.asarray(left, dtype=float)
        self.width = np.broadcast_to(np.asarray(width, dtype=float), self.left.shape).copy()
        self.bottoms = np.zeros_like(self.left)
        self.heights = np.zeros_like(self.left)
        if "color" in style:
            style["facecolor"] = style.pop("color")
        super().__init__(self._corners(), **style)
        ax.add_collection(self, autolim=True)
        ax.autoscale_view()

    def _corners(self) -> np.ndarray:
        x0, x1 = self.left, self.left + self.width
        y0, y1 = self.bottoms, self.bottoms + self.heights
        return np.stack([np.stack(corner, axis=-1) for corner in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))], axis=1)

    def set_bars(self, heights, bottoms=None, left=None, width=None) -> None:
        """Move the bars: new heights (and optionally bottoms, left edges, widths; a new count is allowed)."""
        self.heights = np.asarray(heights, dtype=float)
        count = len(self.heights)
        self.bottoms = np.zeros(count) if bottoms is None else np.asarray(bottoms, dtype=float)
        if left is not None:
            self.left = np.asarray(left, dtype=float)
        if width is not None:
            self.width = np.broadcast_to(np.asarray(width, dtype=float), (count,)).copy()
        if not len(self.left) == len(self.width) == len(self.bottoms) == count:
            raise ValueError(f"{count} heights for {len(self.left)} bars")
        self.set_verts(self._corners())
