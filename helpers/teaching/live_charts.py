"""Browser twins of the four slider apps (:mod:`helpers.teaching.widgets`): Vega-Lite charts whose sliders move without Python.

A static page (``make book``) or the lecture deck (``make slides``) has no kernel behind a slider. These charts
do the apps' maths in the browser instead: each is a Vega-Lite spec (built with Altair) whose sliders are
parameters bound to ``<input type="range">`` (:func:`altair.binding_range`), and whose numbers are computed by
Vega transforms (``calculate``, ``joinaggregate``, ``aggregate``) from the parameters and a little inline data.

=================================  ==============================================================================
builder                            what moves, and what is computed in the browser
=================================  ==============================================================================
:func:`temperature_chart` (01)     τ and the logits: ``softmax(z/τ)``, its entropy and max-probability, entropy
                                   against τ
:func:`label_smoothing_chart` (02) α and K: the LS target, the LS loss against the logit gap ``z_y - z_other``,
                                   the optimum gap ``log(1 + K(1-α)/α)``, its max-probability and entropy floor
:func:`distillation_chart` (03)    teacher confidence, τ and α: the teacher's soft targets ``p_t^τ``, KD's target
                                   ``(1-α)·y + α·p_t^τ`` (KD's optimum at τ = 1), the LS target, and the size of
                                   the soft term's gradient with and without τ² (on a student at zero logits)
:func:`calibration_chart` (04)     the temperature T: ``softmax(logits/T)`` of a fixed data set, reliability bins,
                                   their gaps, ECE, mean entropy, mean max-probability and NLL
=================================  ==============================================================================

Defaults, slider ranges and labels are the Python apps' own (:mod:`helpers.teaching.slider_defaults`), and the
temperature sliders move, like the apps' log sliders, in steps of 0.01 in ``log10`` of the temperature (the
read-out next to such a slider shows the temperature itself). Two inputs are precomputed in Python, because a
Vega expression cannot iterate: the teacher's logit scale for each confidence on the slider's grid
(:func:`helpers.maths.theory.teacher_logits_with_confidence`, a bisection), and, for notebook 04, the data set
(:func:`shipped_calibration_data`: the shipped ``full`` preset's TREC teacher, its test predictions).
``tests/browser/test_live_charts_in_browser.py`` checks the browser's numbers against :mod:`helpers.maths.theory`,
:mod:`helpers.maths.losses` and :mod:`helpers.maths.metrics` to 1e-6.

The building blocks are in :mod:`helpers.teaching.vega`, the page side (the Vega runtime, a chart's HTML) in
:mod:`helpers.teaching.live_html`. :func:`chart_for_sliders` recognises an app from its sliders' labels (as an
executed notebook saves them: :func:`helpers.teaching.widget_state.widget_sliders`), so that the book and the deck
can put the live chart beside the app's still picture.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import altair as alt
import numpy as np

from helpers.learning.shipped import load_shipped
from helpers.maths import theory
from helpers.maths.losses import validate_alpha
from helpers.reporting.plotting import METHOD_COLORS, PALETTE
from helpers.teaching import slider_defaults as defaults
from helpers.teaching import vega

__all__ = [
    "temperature_chart",
    "label_smoothing_chart",
    "distillation_chart",
    "calibration_chart",
    "shipped_calibration_data",
    "live_chart",
    "chart_for_sliders",
]


# --------------------------------------------------------------------------------- 01: temperature


def temperature_chart(logits: Sequence[float] = defaults.TEMPERATURE_APP_LOGITS, temperature: float = 1.0,
                      large: bool = False) -> vega.LiveChart:
    """Notebook 01's :func:`helpers.teaching.widgets.temperature_app` in the browser.

    Sliders ``log_tau`` (log10 τ over the app's range) and ``z0`` … ``z{K-1}`` (the logits, -6..6 by 0.1).
    Left: ``softmax(z/τ)`` (data ``class``, fields ``p``, ``H``, ``maxp``); right: entropy against τ at 120
    log-spaced temperatures (field ``H`` per ``tau``), the current τ marked.
    """
    z = theory.as_logits(logits)
    if z.dim() != 1 or z.shape[0] > 8:
        raise ValueError(f"logits must be one example with 2..8 classes, got shape {tuple(z.shape)}")
    k = z.shape[0]
    size = vega.SIZES[bool(large)]
    low, high = defaults.TEMPERATURE_APP_RANGE
    logit_low, logit_high = defaults.TEMPERATURE_APP_LOGIT_RANGE
    params = [vega.log_slider("log_tau", "temperature τ", temperature, low, high)]
    params += [vega.slider(f"z{i}", f"logit z{i}", round(value, 6), logit_low, logit_high, 0.1)
               for i, value in enumerate(z.tolist())]
    log_k = math.log(k)

    def softmax(tau: str) -> dict[str, str]:
        return {"tau": tau, **vega.softmax_calcs("", [f"z{j} / datum.tau" for j in range(k)])}

    classes = alt.Chart(alt.Data(values=[{"class": i, "name": f"class {i}"} for i in range(k)]))
    classes = classes.transform_calculate(**softmax("pow(10, log_tau)"),
                                          p=vega.prob("", k, "datum['class']"))
    x = alt.X("name:N", title=None, sort=None, axis=alt.Axis(labelAngle=0))
    bars = classes.mark_bar(color=PALETTE[0]).encode(
        x=x, y=alt.Y("p:Q", title="softmax(z / τ)", scale=alt.Scale(domain=[0, 1.12])),
        tooltip=[alt.Tooltip("p:Q", format=".4f")])
    labels = classes.mark_text(baseline="bottom", dy=-3, fontSize=size.font).encode(
        x=x, y="p:Q", text=alt.Text("p:Q", format=".2f"))
    left = (bars + labels).properties(width=size.width, height=size.height,
                                      title=alt.Title(alt.ExprRef("'τ = ' + format(pow(10, log_tau), '.3~g')")))

    taus = np.geomspace(low, high, 120)
    curve_data = alt.Chart(alt.Data(values=[{"tau": float(t)} for t in taus]))
    scale_x = alt.Scale(type="log", domain=[low, high])
    curve = curve_data.transform_calculate(**softmax("datum.tau")).mark_line(color=PALETTE[0], strokeWidth=2).encode(
        x=alt.X("tau:Q", title="temperature τ (log scale)", scale=scale_x,
                axis=alt.Axis(values=[0.01, 0.1, 1, 10, 100], format="~g")),
        y=alt.Y("H:Q", title="entropy (nats)", scale=alt.Scale(domain=[0, log_k * 1.08])))
    one = [{"row": 0}]
    uniform = alt.Chart(alt.Data(values=[{"y": log_k, "label": "log K (uniform)"}]))
    rule = uniform.mark_rule(strokeDash=[2, 3], color="black").encode(y="y:Q")
    rule_label = uniform.mark_text(align="left", baseline="top", dx=4, dy=4, fontSize=size.font).encode(
        x=alt.value(0), y="y:Q", text="label:N")
    marker = (alt.Chart(alt.Data(values=one)).transform_calculate(**softmax("pow(10, log_tau)"))
              .mark_point(filled=True, size=90, color=PALETTE[3], opacity=1)
              .encode(x=alt.X("tau:Q", scale=scale_x), y="H:Q"))
    right = (curve + rule + rule_label + marker).properties(width=size.width, height=size.height)

    readout = vega.readout(one, size, softmax("pow(10, log_tau)"),
                           f"'τ = ' + format(datum.tau, '.3~g') + '   ·   entropy H = ' + format(datum.H, '.3f') + "
                           f"' nats (max log K = {log_k:.3f})   ·   max-probability = ' + format(datum.maxp, '.3f')")
    spec = vega.finish(alt.vconcat(readout, alt.hconcat(left, right)), size, params)
    return vega.LiveChart("temperature", spec, {"log_tau": "τ"})


# ---------------------------------------------------------------------------- 02: label smoothing


def label_smoothing_chart(alpha: float = defaults.LS_APP_ALPHA, num_classes: int = defaults.LS_APP_NUM_CLASSES,
                          large: bool = False) -> vega.LiveChart:
    """Notebook 02's :func:`helpers.teaching.widgets.label_smoothing_app` in the browser.

    Sliders ``alpha`` (0..1 by 0.01) and ``K`` (2..20). Left: the LS target ``q`` (data ``class``, field ``q``,
    the label first); right: the LS loss of logits ``(g, 0, …, 0)`` against the logit gap ``g`` (field ``loss``
    per ``gap``), the optimum gap marked (field ``gap_star``; none at α = 0, where it is infinite). Read-out:
    the optimum's max-probability ``1 - α + α/K``, gap and entropy floor ``H(q)``.
    """
    k_max = defaults.LS_APP_MAX_CLASSES
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= k_max:
        raise ValueError(f"num_classes must be an integer in [2, {k_max}], got {num_classes!r}")
    alpha = validate_alpha(alpha)
    size = vega.SIZES[bool(large)]
    params = [vega.slider("alpha", "smoothing α", alpha, 0.0, 1.0, 0.01), vega.slider("K", "classes K", num_classes, 2, k_max, 1)]
    optimum = {"p_label": "1 - alpha + alpha / K", "p_other": "alpha / K",
               "gap_star": "alpha > 0 ? log(1 + K * (1 - alpha) / alpha) : null",
               "floor": f"{vega.xlogx('datum.p_label')} + (K - 1) * {vega.xlogx('datum.p_other')}"}
    classes = (alt.Chart(alt.Data(values=[{"class": i, "name": "label" if i == 0 else str(i)} for i in range(k_max)]))
               .transform_filter("datum['class'] < K")
               .transform_calculate(**optimum, q="datum['class'] == 0 ? datum.p_label : datum.p_other"))
    left = classes.mark_bar(color=METHOD_COLORS["ls"]).encode(
        x=alt.X("name:N", sort=None, title="the K classes (the label first)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("q:Q", title="LS target q = optimal p", scale=alt.Scale(domain=[0, 1.05])),
        tooltip=[alt.Tooltip("q:Q", format=".4f")],
    ).properties(width=size.width, height=size.height,
                 title=alt.Title(alt.ExprRef("'α = ' + format(alpha, '.2f') + ', K = ' + K")))

    # loss of logits (g, 0, ..., 0), label first: -(p_label log p_g + (K-1) p_other log p_0), in nats
    lse = "log(exp(datum.gap) + K - 1)"
    loss = {**optimum, "loss": f"-(datum.p_label * (datum.gap - {lse}) + (K - 1) * datum.p_other * (-{lse}))"}
    gaps = np.linspace(0.0, 12.0, 121)
    scale_x = alt.Scale(domain=[0, 12])
    curve = (alt.Chart(alt.Data(values=[{"gap": float(g)} for g in gaps])).transform_calculate(**loss)
             .mark_line(color=METHOD_COLORS["ls"], strokeWidth=2)
             .encode(x=alt.X("gap:Q", title="logit gap g = z_label − z_other", scale=scale_x,
                             axis=alt.Axis(values=list(range(0, 13, 2)))),
                     y=alt.Y("loss:Q", title="LS loss (nats)", scale=alt.Scale(zero=True))))
    one = [{"row": 0}]
    star = (alt.Chart(alt.Data(values=one)).transform_calculate(**optimum)
            .transform_filter("datum.gap_star != null && datum.gap_star <= 12")
            .transform_calculate(gap="datum.gap_star").transform_calculate(**{"loss": loss["loss"]}))
    marker = star.mark_point(filled=True, size=90, color=PALETTE[3], opacity=1).encode(
        x=alt.X("gap:Q", scale=scale_x), y="loss:Q")
    rule = star.mark_rule(color=PALETTE[3], strokeDash=[4, 3]).encode(x=alt.X("gap:Q", scale=scale_x))
    right = (curve + rule + marker).properties(width=size.width, height=size.height,
                                               title="the loss against the logit gap; ● the optimum")
    readout = vega.readout(one, size, optimum,
                           "'optimum: max-probability 1 − α + α/K = ' + format(datum.p_label, '.3f') + "
                           "'   ·   logit gap = ' + (datum.gap_star == null ? '∞' : format(datum.gap_star, '.3f')) + "
                           "'\\nentropy floor H(q) = ' + format(datum.floor, '.3f') + ' nats (log K = ' + "
                           "format(log(K), '.3f') + ')'", lines=2)
    spec = vega.finish(alt.vconcat(readout, alt.hconcat(left, right)), size, params)
    return vega.LiveChart("label_smoothing", spec)


# ------------------------------------------------------------------------------- 03: distillation


def _confidence_grid(k: int) -> tuple[float, list[float]]:
    """The confidence slider's lowest value (as the app's: :func:`helpers.teaching.slider_defaults.kd_confidence_range`)
    and its grid, by 0.01, up to the highest."""
    low, high = defaults.kd_confidence_range(k)
    steps = int(round((high - low) * 100))
    return low, [round(low + i / 100.0, 2) for i in range(steps + 1)]


@functools.lru_cache(maxsize=16)
def _teacher_scales(base: tuple[float, ...]) -> tuple[float, ...]:
    """For each confidence on the slider's grid, the scale ``c`` with ``max softmax(c · base) = confidence``."""
    b = np.asarray(base, dtype=np.float64)
    _, grid = _confidence_grid(len(base))
    scales = []
    for confidence in grid:
        teacher = theory.teacher_logits_with_confidence(base, confidence).double().numpy()
        scales.append(float(teacher @ b / (b @ b)))
    return tuple(scales)


def distillation_chart(teacher_logits: Sequence[float] = defaults.KD_APP_TEACHER_LOGITS,
                       confidence: float = defaults.KD_APP_CONFIDENCE, temperature: float = defaults.KD_APP_TEMPERATURE,
                       alpha: float = defaults.KD_APP_ALPHA, large: bool = False) -> vega.LiveChart:
    """Notebook 03's :func:`helpers.teaching.widgets.distillation_app` in the browser.

    Sliders ``confidence`` (the teacher's max-probability at τ = 1, on the app's grid), ``log_tau`` (log10 τ,
    1..20) and ``alpha`` (0..1). The teacher is ``teacher_logits`` rescaled to that confidence (the scale for each
    grid point is precomputed by :func:`helpers.maths.theory.teacher_logits_with_confidence`). Left, per class (data
    ``class``): the teacher's soft targets ``r`` = ``p_t^τ``, KD's target ``mixed`` = ``(1-α)·y + α·p_t^τ`` (the
    exact minimiser of the KD loss at τ = 1; at other τ the optimum needs a numerical solve, see the Python app),
    and the LS target ``ls``. Right: the norm of the gradient of the soft term ``τ²·KL(p_t^τ ‖ p_s^τ)`` (``scaled``)
    and of ``KL`` alone (``raw``) with respect to a student's zero logits, against τ, and the logit-matching limit.
    """
    z = theory.as_logits(teacher_logits, "teacher_logits")
    if z.dim() != 1 or z.shape[0] > 10:
        raise ValueError(f"teacher_logits must be one example with 2..10 classes, got shape {tuple(z.shape)}")
    base = tuple(float(v) for v in z.tolist())
    theory.teacher_logits_with_confidence(base, confidence)  # validates
    alpha = validate_alpha(alpha)
    k = len(base)
    label = int(np.argmax(base))
    low, grid = _confidence_grid(k)
    scales = _teacher_scales(base)
    size = vega.SIZES[bool(large)]
    tau_low, tau_high = defaults.KD_APP_TEMPERATURE_RANGE
    params = [vega.slider("confidence", "teacher confidence (τ=1)", round(float(confidence), 2), low, grid[-1], 0.01),
              vega.log_slider("log_tau", "temperature τ", temperature, tau_low, tau_high),
              vega.slider("alpha", "soft weight α", alpha, 0.0, 1.0, 0.01)]
    scale = f"{vega.array([vega.number(c) for c in scales])}[clamp(round((confidence - {vega.number(low)}) * 100), 0, {len(scales) - 1})]"

    def teacher(tau: str) -> dict[str, str]:
        calcs = {"c": scale, "tau": tau}
        calcs.update(vega.softmax_calcs("t", [f"datum.c * {vega.number(b)} / datum.tau" for b in base]))
        return calcs

    one_hot = [f"{1 if j == label else 0}" for j in range(k)]
    r = [vega.prob("t", k, str(j)) for j in range(k)]
    mixed = [f"(1 - alpha) * {y} + alpha * {p}" for y, p in zip(one_hot, r)]
    ls = [f"(1 - alpha) * {y} + alpha / {k}" for y in one_hot]
    per_class = {**teacher("pow(10, log_tau)"), "r": vega.prob("t", k, "datum['class']"),
                 "y": f"datum['class'] == {label} ? 1 : 0",
                 "mixed": "(1 - alpha) * datum.y + alpha * datum.r", "ls": f"(1 - alpha) * datum.y + alpha / {k}"}
    series = {"r": "teacher p_t^τ", "mixed": "KD target (1−α)·y + α·p_t^τ", "ls": "LS target (1−α)·y + α/K"}
    names = [{"class": j, "name": f"{j} (label)" if j == label else str(j)} for j in range(k)]
    bars = (alt.Chart(alt.Data(values=names)).transform_calculate(**per_class)
            .transform_fold(list(series), as_=["series", "probability"])
            .transform_calculate(what=" : ".join(f"datum.series == '{key}' ? '{text}'" for key, text in series.items())
                                 + " : ''")
            .mark_bar().encode(
                x=alt.X("name:N", sort=None, title=None, axis=alt.Axis(labelAngle=0)),
                xOffset=alt.XOffset("what:N", sort=list(series.values())),
                y=alt.Y("probability:Q", title="probability", scale=alt.Scale(domain=[0, 1.05])),
                color=alt.Color("what:N", title=None, sort=list(series.values()),
                                scale=alt.Scale(domain=list(series.values()),
                                                range=[METHOD_COLORS["teacher"], METHOD_COLORS["kd"], METHOD_COLORS["ls"]]),
                                legend=alt.Legend(orient="top", direction="vertical")),
                tooltip=["what:N", alt.Tooltip("probability:Q", format=".4f")])
            .properties(width=size.width, height=size.height))

    # the soft term's gradient w.r.t. a student at zero logits (q = uniform): tau * (u - r) with tau^2, (u - r) / tau without
    distance = "sqrt(" + " + ".join(f"pow({1.0 / k!r} - {p}, 2)" for p in r) + ")"
    gradient = {**teacher("datum.tau"), "distance": distance, "scaled": "datum.tau * datum.distance",
                "raw": "datum.distance / datum.tau"}
    curves = {"scaled": "with τ² (what KD uses)", "raw": "without τ²"}
    taus = np.geomspace(tau_low, tau_high, 60)
    scale_x = alt.Scale(type="log", domain=[tau_low, tau_high])
    lines = (alt.Chart(alt.Data(values=[{"tau": float(t)} for t in taus])).transform_calculate(**gradient)
             .transform_fold(list(curves), as_=["curve", "norm"])
             .transform_calculate(what=" : ".join(f"datum.curve == '{key}' ? '{text}'" for key, text in curves.items())
                                  + " : ''")
             .mark_line(strokeWidth=2).encode(
                 x=alt.X("tau:Q", title="temperature τ (log scale)", scale=scale_x,
                         axis=alt.Axis(values=[1, 2, 5, 10, 20], format="~g")),
                 y=alt.Y("norm:Q", title="‖gradient of the soft term‖"),
                 color=alt.Color("what:N", title=None, sort=list(curves.values()),
                                 scale=alt.Scale(domain=list(curves.values()), range=[METHOD_COLORS["kd"], PALETTE[7]]),
                                 legend=alt.Legend(orient="top", direction="vertical")),
                 strokeDash=alt.StrokeDash("what:N", sort=list(curves.values()),
                                           scale=alt.Scale(domain=list(curves.values()), range=[[1, 0], [5, 3]]))))
    one = [{"row": 0}]
    mean_base = sum(base) / k
    matching = (alt.Chart(alt.Data(values=one))
                .transform_calculate(c=scale, matching="sqrt(" + " + ".join(
                    f"pow(datum.c * {vega.number(b - mean_base)}, 2)" for b in base) + f") / {k}")
                .mark_rule(color="black", strokeDash=[2, 3]).encode(y="matching:Q"))
    marker = (alt.Chart(alt.Data(values=one)).transform_calculate(**gradient | {"tau": "pow(10, log_tau)"})
              .mark_point(filled=True, size=90, color=PALETTE[3], opacity=1)
              .encode(x=alt.X("tau:Q", scale=scale_x), y="scaled:Q"))
    right = (lines + matching + marker).properties(
        width=size.width, height=size.height,
        title="on a student at zero logits; ┄ logit matching (τ → ∞)")

    summary = {**teacher("pow(10, log_tau)"), **{f"r{j}": p for j, p in enumerate(r)},
               **{f"mixed{j}": p for j, p in enumerate(mixed)}, **{f"ls{j}": p for j, p in enumerate(ls)}}
    summary["mixed_H"] = " + ".join(vega.xlogx(f"datum.mixed{j}") for j in range(k))
    summary["ls_H"] = " + ".join(vega.xlogx(f"datum.ls{j}") for j in range(k))
    summary["mixed_maxp"] = f"max({', '.join(f'datum.mixed{j}' for j in range(k))})"
    summary["ls_maxp"] = f"max({', '.join(f'datum.ls{j}' for j in range(k))})"
    # the soft term itself on that student: alpha * tau^2 * KL(p_t^tau || uniform) = alpha * tau^2 * (log K - H(p_t^tau))
    summary["soft_term"] = f"alpha * datum.tau * datum.tau * max(0, {math.log(k)!r} - datum.tH)"
    readout = vega.readout(one, size, summary,
                           "'teacher at τ = ' + format(datum.tau, '.3~g') + ': max-prob ' + format(datum.tmaxp, '.3f') + "
                           "', entropy ' + format(datum.tH, '.3f') + ' nats' + "
                           "'\\nKD target: max-prob ' + format(datum.mixed_maxp, '.3f') + ', entropy ' + "
                           "format(datum.mixed_H, '.3f') + ' nats   ·   LS target: max-prob ' + format(datum.ls_maxp, '.3f') "
                           "+ ', entropy ' + format(datum.ls_H, '.3f') + ' nats' + "
                           "'\\nsoft term α·τ²·KL(p_t^τ ‖ uniform student) = ' + format(datum.soft_term, '.4f') + "
                           "(abs(datum.tau - 1) < 1e-9 ? '   (τ = 1: the KD target is the KD optimum)' : "
                           "'   (τ ≠ 1: the KD optimum stays near softmax(t), see the Python app)')", lines=3)
    panels = alt.hconcat(bars, right).resolve_scale(color="independent", strokeDash="independent")
    spec = vega.finish(alt.vconcat(readout, panels), size, params)
    return vega.LiveChart("distillation", spec, {"log_tau": "τ"})


# -------------------------------------------------------------------------------- 04: calibration


def shipped_calibration_data(max_examples: int | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """A fixed data set for the live reliability diagram: ``(logits (N, K), targets (N,), caption)``.

    The shipped ``full`` preset's finished fine-tuned TREC teacher (the last teacher row: the top of its ladder without
    rescaling; :mod:`helpers.learning.shipped`): its test-set probabilities,
    whose logs are logits (up to a constant per example, which a softmax ignores), rounded to 4 decimals so
    that the page holds exactly the numbers the browser computes with.
    """
    shipped = load_shipped("full")
    if shipped is None:
        raise FileNotFoundError("no shipped results of the full preset (helpers.learning.shipped.SHIPPED_DIR)")
    rows = shipped.results
    teacher = rows[(rows["role"] == "teacher") & (rows["tier"] == "finetune") & (rows["task"] == "trec")]
    run_id = int(teacher["run_id"].iloc[-1])
    probabilities, labels = shipped.predictions(run_id)
    logits = np.round(np.log(np.clip(probabilities.astype(np.float64), 1e-7, None)), 4)
    if max_examples is not None:
        logits, labels = logits[:max_examples], labels[:max_examples]
    caption = (f"the shipped full-preset TREC teacher ({teacher['student'].iloc[-1]}), its {len(labels)} test "
               "questions")
    return logits, np.asarray(labels, dtype=np.int64), caption


def calibration_chart(logits=None, targets=None, n_bins: int = defaults.CALIBRATION_APP_BINS,
                      temperature: float = defaults.CALIBRATION_APP_TEMPERATURE,
                      fitted_temperature: float | None = None, large: bool = False, caption: str = "") -> vega.LiveChart:
    """Notebook 04's :func:`helpers.teaching.widgets.calibration_app` in the browser.

    ``logits`` ``(N, K)`` and ``targets`` ``(N,)`` are embedded in the page (default:
    :func:`shipped_calibration_data`). Slider ``log_T`` (log10 T, 0.1..10). Per example the browser computes
    ``softmax(logits / T)``, the confidence (max-probability), the prediction (the logits' first arg-max),
    entropy and NLL; then :func:`helpers.maths.metrics.reliability_bins`' bins (bin ``b`` holds confidences in
    ``(b/n, (b+1)/n]``, the first also 0; data fields ``bin``, ``count``, ``confidence``, ``accuracy``) and
    ``ece``, ``entropy``, ``max_prob``, ``nll``, ``accuracy`` over the data set.
    """
    if logits is None:
        logits, targets, caption = shipped_calibration_data()
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets).astype(np.int64)
    if logits.ndim != 2 or logits.shape[1] < 2 or targets.shape != (logits.shape[0],) or not len(targets):
        raise ValueError(f"logits must be (N, K>=2) and targets (N,), got {logits.shape} and {targets.shape}")
    if not np.isfinite(logits).all() or targets.min() < 0 or targets.max() >= logits.shape[1]:
        raise ValueError("logits must be finite and targets class indices in [0, K)")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    n, k = logits.shape
    size = vega.SIZES[bool(large)]
    low, high = defaults.CALIBRATION_APP_RANGE
    params = [vega.log_slider("log_T", "temperature T", temperature, low, high)]
    rows = [{**{f"l{j}": float(v) for j, v in enumerate(row)}, "y": int(y)} for row, y in zip(logits, targets)]
    fields = [f"datum.l{j}" for j in range(k)]
    first_argmax = " : ".join(f"{x} == datum.lmax ? {j}" for j, x in enumerate(fields[:-1])) + f" : {k - 1}"
    s = vega.array([f"datum.s{j}" for j in range(k)])
    per_example = {"T": "pow(10, log_T)", **vega.softmax_calcs("", [f"{x} / datum.T" for x in fields]),
                   "lmax": f"max({', '.join(fields)})", "predicted": first_argmax,
                   "correct": "datum.predicted == datum.y ? 1 : 0",
                   "nll": f"log(datum.S) - ({s}[datum.y] - datum.m)",
                   "bin": f"clamp(ceil(datum.maxp * {n_bins}) - 1, 0, {n_bins - 1})"}

    def binned(chart: alt.Chart) -> alt.Chart:
        return (chart.transform_calculate(**per_example)
                .transform_aggregate(count="count()", conf_sum="sum(maxp)", correct_sum="sum(correct)",
                                     entropy_sum="sum(H)", nll_sum="sum(nll)", groupby=["bin"])
                .transform_calculate(confidence="datum.conf_sum / datum['count']",
                                     accuracy="datum.correct_sum / datum['count']",
                                     low="min(datum.confidence, datum.accuracy)",
                                     high="max(datum.confidence, datum.accuracy)",
                                     x0=f"datum.bin / {n_bins}", x1=f"(datum.bin + 1) / {n_bins}")
                .transform_joinaggregate(total="sum(count)")
                .transform_calculate(fraction="datum['count'] / datum.total",
                                     contribution="datum.fraction * abs(datum.accuracy - datum.confidence)")
                .transform_joinaggregate(ece="sum(contribution)", entropy_total="sum(entropy_sum)",
                                         nll_total="sum(nll_sum)", correct_total="sum(correct_sum)",
                                         conf_total="sum(conf_sum)")
                .transform_calculate(entropy="datum.entropy_total / datum.total", nll="datum.nll_total / datum.total",
                                     max_prob="datum.conf_total / datum.total",
                                     accuracy_all="datum.correct_total / datum.total"))

    data = alt.Data(values=rows, name="examples")
    bins = binned(alt.Chart(data))
    x = alt.X("x0:Q", title="confidence (max-probability)", scale=alt.Scale(domain=[0, 1]))
    accuracy_bars = bins.mark_bar(color=PALETTE[0], stroke="white").encode(
        x=x, x2="x1:Q", y=alt.Y("accuracy:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])), y2=alt.datum(0),
        tooltip=[alt.Tooltip("bin:Q"), alt.Tooltip("count:Q"), alt.Tooltip("accuracy:Q", format=".3f"),
                 alt.Tooltip("confidence:Q", format=".3f")])
    gap_bars = bins.mark_bar(color=PALETTE[3], opacity=0.35, stroke=PALETTE[3]).encode(
        x=x, x2="x1:Q", y="low:Q", y2="high:Q")
    diagonal = (alt.Chart(alt.Data(values=[{"d": 0.0}, {"d": 1.0}]))
                .mark_line(strokeDash=[5, 4], color="black", strokeWidth=1)
                .encode(x=alt.X("d:Q", scale=alt.Scale(domain=[0, 1])), y=alt.Y("d:Q", scale=alt.Scale(domain=[0, 1]))))
    reliability = (accuracy_bars + gap_bars + diagonal).properties(
        width=size.width, height=size.height,
        title="blue: accuracy per bin · red: gap to confidence · ┄ perfect")
    histogram = bins.mark_bar(color=PALETTE[7], stroke="white").encode(
        x=x, x2="x1:Q", y=alt.Y("fraction:Q", title="fraction of examples", scale=alt.Scale(domain=[0, 1])),
        y2=alt.datum(0)
    ).properties(width=size.width, height=size.height, title="where the confidences fall")
    fitted = "" if fitted_temperature is None else f" + '  (fitted on validation: T* = {fitted_temperature:.3g})'"
    summary = (binned(alt.Chart(data))
               .transform_aggregate(ece="max(ece)", entropy="max(entropy)", nll="max(nll)",
                                    max_prob="max(max_prob)", accuracy="max(accuracy_all)"))
    readout = vega.readout([], size, {}, "'T = ' + format(pow(10, log_T), '.3~g')" + fitted + " + '   ·   ECE = ' + "
                           "format(datum.ece, '.3f') + '   ·   mean entropy = ' + format(datum.entropy, '.3f') + ' nats' + "
                           "'\\nmean max-prob = ' + format(datum.max_prob, '.3f') + '   ·   NLL = ' + format(datum.nll, '.3f') "
                           "+ '   ·   accuracy = ' + format(datum.accuracy, '.3f') + '   (T never changes it)'",
                           lines=2, chart=summary)
    spec = vega.finish(alt.vconcat(readout, alt.hconcat(reliability, histogram)), size, params)
    return vega.LiveChart("calibration", spec, {"log_T": "T"}, caption=caption)


# ------------------------------------------------------------------------------ recognising an app


def live_chart(app: str, large: bool = False, **settings) -> vega.LiveChart:
    """The live chart of ``app`` (``"temperature"``, ``"label_smoothing"``, ``"distillation"``, ``"calibration"``)."""
    builders = {"temperature": temperature_chart, "label_smoothing": label_smoothing_chart,
                "distillation": distillation_chart, "calibration": calibration_chart}
    if app not in builders:
        raise ValueError(f"unknown app {app!r}; one of {sorted(builders)}")
    return builders[app](large=large, **settings)


def chart_for_sliders(sliders: Sequence[tuple[str, object]], large: bool = False) -> vega.LiveChart | None:
    """The live twin of a Python slider app recognised by its sliders ``(label, value)`` (as an executed
    notebook's widget state saves them), started at those values; None for any other widget."""
    values = {str(label): value for label, value in sliders}
    labels = set(values)
    try:
        if set(defaults.APP_SLIDERS["temperature"]) <= labels and not set(defaults.APP_SLIDERS["distillation"]) <= labels:
            logits = [float(values[f"logit z{i}"]) for i in range(len(labels)) if f"logit z{i}" in values]
            return temperature_chart(logits, temperature=float(values["temperature τ"]), large=large)
        if set(defaults.APP_SLIDERS["label_smoothing"]) <= labels:
            return label_smoothing_chart(float(values["smoothing α"]), int(values["classes K"]), large=large)
        if set(defaults.APP_SLIDERS["distillation"]) <= labels:
            return distillation_chart(confidence=float(values["teacher confidence (τ=1)"]),
                                      temperature=float(values["temperature τ"]),
                                      alpha=float(values["soft weight α"]), large=large)
        if labels == set(defaults.APP_SLIDERS["calibration"]):
            return calibration_chart(temperature=float(values["temperature T"]), large=large)
    except (ValueError, TypeError, FileNotFoundError):
        return None
    return None
