"""Vega-Lite building blocks of the live charts (:mod:`helpers.teaching.live_charts`): the :class:`LiveChart` record,
numerically stable expressions for Vega's ``calculate`` transform, the sliders (parameters bound to
``<input type="range">``), and the look (two sizes: a page and a projector).

An expression is a string of Vega's expression language; a ``datum.x`` names field ``x`` of the current row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import altair as alt

from helpers.teaching.slider_defaults import LOG_STEP

__all__ = ["LiveChart", "number", "array", "softmax_calcs", "prob", "xlogx", "log_slider", "slider", "Size", "SIZES",
           "readout", "finish"]


@dataclass
class LiveChart:
    """One live chart: which app it twins, its Vega-Lite spec and the log-scale sliders (param -> symbol)."""

    app: str
    spec: dict
    log_params: dict[str, str] = field(default_factory=dict)
    caption: str = ""


# ----------------------------------------------------------------------------------------- expressions


def number(value: float) -> str:
    """A number as a Vega expression literal (shortest exact repr)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return repr(value)


def array(items: Sequence[str]) -> str:
    """A Vega array literal of expressions."""
    return "[" + ", ".join(items) + "]"


def softmax_calcs(prefix: str, terms: Sequence[str]) -> dict[str, str]:
    """Calculate steps for a numerically stable softmax of ``terms`` (expressions), in order.

    Fields: ``{prefix}s{j}`` (the terms), ``{prefix}m`` (their max), ``{prefix}S`` (sum of exp(s - m)),
    ``{prefix}H`` (entropy, nats), ``{prefix}maxp`` (max-probability ``1/S``).
    """
    k = len(terms)
    calcs = {f"{prefix}s{j}": term for j, term in enumerate(terms)}
    s = [f"datum.{prefix}s{j}" for j in range(k)]
    calcs[f"{prefix}m"] = f"max({', '.join(s)})"
    m = f"datum.{prefix}m"
    calcs[f"{prefix}S"] = " + ".join(f"exp({x} - {m})" for x in s)
    weighted = " + ".join(f"exp({x} - {m}) * ({x} - {m})" for x in s)
    calcs[f"{prefix}H"] = f"max(0, log(datum.{prefix}S) - ({weighted}) / datum.{prefix}S)"
    calcs[f"{prefix}maxp"] = f"1 / datum.{prefix}S"
    return calcs


def prob(prefix: str, k: int, index: str) -> str:
    """The softmax probability of class ``index`` (an expression) from :func:`softmax_calcs`' fields."""
    s = array([f"datum.{prefix}s{j}" for j in range(k)])
    return f"exp({s}[{index}] - datum.{prefix}m) / datum.{prefix}S"


def xlogx(expression: str) -> str:
    """``-x log x`` of an expression, 0 at 0 (an entropy term)."""
    return f"(({expression}) > 0 ? -({expression}) * log({expression}) : 0)"


def log_slider(name: str, label: str, value: float, low: float, high: float) -> alt.Parameter:
    """A temperature slider: the parameter is log10 of the temperature, moving in steps of 0.01, like the apps'."""
    # the ends on the steps' grid (a browser's range input stops at the last step: 1..20 ends at 10**1.30)
    low_log = math.ceil(round(math.log10(low) / LOG_STEP, 6)) * LOG_STEP
    high_log = math.floor(round(math.log10(high) / LOG_STEP, 6)) * LOG_STEP
    return alt.param(name=name, value=round(math.log10(value), 6),
                     bind=alt.binding_range(min=round(low_log, 6), max=round(high_log, 6), step=LOG_STEP, name=label))


def slider(name: str, label: str, value: float, low: float, high: float, step: float) -> alt.Parameter:
    """A linear slider from ``low`` to ``high`` by ``step``, labelled as the app's."""
    return alt.param(name=name, value=value, bind=alt.binding_range(min=low, max=high, step=step, name=label))


# ------------------------------------------------------------------------------------------ appearance


@dataclass(frozen=True)
class Size:
    """A chart's look: each panel's width and height, and the font sizes (pixels)."""

    width: int
    height: int
    font: int
    title: int
    readout: int


SIZES = {False: Size(width=255, height=200, font=12, title=13, readout=13),
         True: Size(width=380, height=210, font=17, title=19, readout=19)}  # large: a projector


def readout(rows: list[dict], size: Size, transforms: dict[str, str], text: str, lines: int = 1,
            chart: alt.Chart | None = None) -> alt.Chart:
    """A text read-out (one or more lines) computed from one row of data."""
    base = chart if chart is not None else alt.Chart(alt.Data(values=rows)).transform_calculate(**transforms)
    return (base.transform_calculate(readout=text)
            .mark_text(align="left", baseline="top", fontSize=size.readout, lineBreak="\n", lineHeight=size.readout + 5)
            .encode(x=alt.value(0), y=alt.value(2), text="readout:N")
            .properties(width=2 * size.width + 60, height=lines * (size.readout + 5) + 4))


def finish(chart: alt.TopLevelMixin, size: Size, params: list[alt.Parameter]) -> dict:
    """The chart's Vega-Lite spec (a dict), its sliders added and the look configured."""
    chart = (chart.add_params(*params)
             .configure_view(stroke=None)
             .configure_axis(labelFontSize=size.font, titleFontSize=size.font, titleFontWeight="normal")
             .configure_legend(labelFontSize=size.font, titleFontSize=size.font, labelLimit=400, orient="top")
             .configure_title(fontSize=size.title, fontWeight="normal", anchor="start")
             .configure_concat(spacing=24)
             .properties(padding={"left": 5, "top": 5, "right": 24, "bottom": 5}))
    return chart.to_dict()
