"""Slider apps for notebooks 01-04: each function returns one ipywidgets widget; notebooks only call it.

=================================  ==============================================================================
app                                sliders, and what moves
=================================  ==============================================================================
:func:`temperature_app` (01)       τ and the logits: the bars of ``softmax(z/τ)``, entropy against τ
:func:`label_smoothing_app` (02)   α and K: the LS target (the loss's optimum), the entropy floor against α
:func:`distillation_app` (03)      teacher confidence, τ and α: KD's optimum beside the LS target, their entropies
                                   against the teacher's confidence
:func:`calibration_app` (04)       the temperature T: reliability diagram, confidence histogram, ECE, entropy, NLL
=================================  ==============================================================================

Each is a :class:`helpers.teaching.slider_app.SliderApp` (how an app redraws only what moves is told there), starts
from :mod:`helpers.teaching.slider_defaults` (shared with the apps' browser twins, :mod:`helpers.teaching.live_charts`),
and computes its numbers with :mod:`helpers.maths.theory` / :mod:`helpers.maths.metrics`. What is displayed is
exposed for tests and curious readers: ``app.state`` (the numbers in the read-out), ``app.readout.value`` (its text)
and ``app.artists`` (bars, lines, markers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from helpers.maths import theory
from helpers.maths.calibration import scale_logits
from helpers.maths.losses import validate_alpha
from helpers.maths.metrics import entropy, max_probability, reliability_bins, summarize
from helpers.reporting.plotting import METHOD_COLORS, PALETTE
from helpers.teaching import slider_defaults as defaults
from helpers.teaching.slider_app import DPI, FIGSIZE, SLIDER_STYLE, Bars, SliderApp, float_slider, log_slider

__all__ = [
    "temperature_app",
    "label_smoothing_app",
    "distillation_app",
    "calibration_app",
]


def _fmt(value: float, digits: int = 3) -> str:
    return "∞" if math.isinf(value) else f"{value:.{digits}f}"



# ------------------------------------------------------------------------------------ 01: temperature


class _TemperatureApp(SliderApp):
    def __init__(self, logits: Sequence[float]) -> None:
        z = theory.as_logits(logits)
        if z.dim() != 1 or z.shape[0] > 8:
            raise ValueError(f"logits must be one example with 2..8 classes, got shape {tuple(z.shape)}")
        self.num_classes = k = z.shape[0]
        sliders: dict[str, widgets.Widget] = {
            "temperature": log_slider("temperature τ", 1.0, *defaults.TEMPERATURE_APP_RANGE)}
        for i, value in enumerate(z.tolist()):
            sliders[f"logit_{i}"] = float_slider(f"logit z{i}", value, *defaults.TEMPERATURE_APP_LOGIT_RANGE, 0.1)
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        bars_ax, curve_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.2]})
        bars = Bars(bars_ax, np.arange(k) - 0.4, 0.8, color=PALETTE[0])
        labels = [bars_ax.text(i, 0.0, "", ha="center", va="bottom", fontsize=9) for i in range(k)]
        bars_ax.set_ylim(0.0, 1.12)
        bars_ax.set_xticks(range(k), [f"class {i}" for i in range(k)])
        bars_ax.set_ylabel("softmax(z / τ)")
        title = bars_ax.set_title(" ")
        self.taus = np.geomspace(*defaults.TEMPERATURE_APP_RANGE, 120)
        (curve,) = curve_ax.plot(self.taus, np.zeros_like(self.taus), color=PALETTE[0], linewidth=2)
        (marker,) = curve_ax.plot([1.0], [0.0], "o", color=PALETTE[3], markersize=8)
        curve_ax.axhline(math.log(k), color="black", linestyle=":", linewidth=1)
        curve_ax.text(0.012, math.log(k) * 0.97, "log K (uniform)", va="top", fontsize=9)
        curve_ax.set_xscale("log")
        curve_ax.set_xlim(*defaults.TEMPERATURE_APP_RANGE)
        curve_ax.set_ylim(0.0, math.log(k) * 1.08)
        curve_ax.set_xlabel("temperature τ (log scale)")
        curve_ax.set_ylabel("entropy (nats)")
        fig.tight_layout()
        notes = ("<b>Limits.</b> τ → 0: the softmax becomes the one-hot arg-max (entropy → 0, max-probability → 1, "
                 "if the largest logit is unique). τ → ∞: it becomes uniform (entropy → log K, max-probability → 1/K). "
                 "Adding the same number to every logit changes nothing.")
        super().__init__(sliders, fig, notes)
        self._curve_logits: list[float] | None = None
        self.artists = {"bars": bars, "bar_labels": labels, "title": title, "curve": curve, "marker": marker}
        self._animate(bars, *labels, title, curve, marker)
        self.update()

    def logits(self) -> torch.Tensor:
        return torch.tensor([self.sliders[f"logit_{i}"].value for i in range(self.num_classes)], dtype=torch.float32)

    def refresh(self) -> bool:
        tau = float(self.sliders["temperature"].value)
        z = self.logits()
        probs = theory.softmax_with_temperature(z, tau)
        h = entropy(z / tau).item()
        confidence = max_probability(z / tau).item()
        if z.tolist() != self._curve_logits:  # the curve moves with the logits only, not with τ
            curve = entropy(z[None, :] / torch.as_tensor(self.taus, dtype=torch.float32)[:, None]).numpy()
            self.artists["curve"].set_ydata(curve)
            self._curve_logits = z.tolist()
        self.artists["bars"].set_bars(probs.numpy())
        for label, p in zip(self.artists["bar_labels"], probs.tolist()):
            label.set_y(p + 0.01)
            label.set_text(f"{p:.2f}")
        self.artists["title"].set_text(f"τ = {tau:.3g}")
        self.artists["marker"].set_data([tau], [h])
        self.state = {"temperature": tau, "logits": z.tolist(), "probs": probs.tolist(), "entropy": h,
                      "max_prob": confidence, "max_entropy": math.log(self.num_classes)}
        self.readout.value = (f"τ = <b>{tau:.3g}</b> &nbsp;·&nbsp; entropy H = <b>{h:.3f}</b> nats "
                              f"(max log K = {math.log(self.num_classes):.3f}) &nbsp;·&nbsp; "
                              f"max-probability = <b>{confidence:.3f}</b>")
        return False


def temperature_app(logits: Sequence[float] = defaults.TEMPERATURE_APP_LOGITS) -> SliderApp:
    """Editable logits and a temperature τ -> bars of ``softmax(z/τ)``, entropy and max-probability live.

    Sliders: ``"temperature"`` (log scale, 0.01..100) and ``"logit_0"``.. ``"logit_{K-1}"``.
    Right panel: entropy as a function of τ for the current logits, the current τ marked.
    """
    return _TemperatureApp(logits)


# ------------------------------------------------------------------------------------ 02: label smoothing


class _LabelSmoothingApp(SliderApp):
    K_MAX = defaults.LS_APP_MAX_CLASSES

    def __init__(self, alpha: float, num_classes: int) -> None:
        sliders = {
            "alpha": float_slider("smoothing α", validate_alpha(alpha), 0.0, 1.0, 0.01),
            "num_classes": widgets.IntSlider(value=num_classes, min=2, max=self.K_MAX, description="classes K",
                                             continuous_update=True, style=SLIDER_STYLE,
                                             layout=widgets.Layout(width="600px")),
        }
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        bars_ax, curve_ax = fig.subplots(1, 2)
        # K bars on a fixed [0, 1] axis, moved and resized in place when K changes (no axis redraw)
        bars = Bars(bars_ax, [0.0], 0.0, color=METHOD_COLORS["ls"])
        bars_ax.set_xlim(0.0, 1.0)
        bars_ax.set_xticks([])
        bars_ax.set_ylim(0.0, 1.05)
        bars_ax.set_ylabel("smoothed target q = optimal p")
        bars_ax.set_xlabel("the K classes (the label first)")
        title = bars_ax.set_title(" ")
        self.alphas = np.linspace(0.0, 1.0, 101)
        (curve,) = curve_ax.plot(self.alphas, np.zeros_like(self.alphas), color=METHOD_COLORS["ls"], linewidth=2,
                                 label="entropy floor H(q)")
        (log_k,) = curve_ax.plot([0.0, 1.0], [0.0, 0.0], color="black", linestyle=":", linewidth=1, label="log K")
        (marker,) = curve_ax.plot([0.0], [0.0], "o", color=PALETTE[3], markersize=8)
        curve_ax.set_xlim(0.0, 1.0)
        curve_ax.set_ylim(0.0, math.log(self.K_MAX) * 1.05)
        curve_ax.set_xlabel("α")
        curve_ax.set_ylabel("entropy (nats)")
        curve_ax.legend(loc="upper left")
        fig.tight_layout()
        notes = ("<b>Why a floor.</b> Cross-entropy against a fixed target q is minimised by p = q. So at the LS "
                 "loss's optimum <i>with free logits</i> (each example's logits free to move on their own) the "
                 "prediction has max-probability exactly 1 − α + α/K, logit gap log((1 − α + α/K)/(α/K)) and "
                 "entropy H(q). A real network shares its parameters between examples and stops training early, "
                 "so a given prediction can end up on either side of these values: they describe where each "
                 "example is pulled, not a hard cap. Plain CE (α = 0) pulls towards one-hot: its logits grow "
                 "without bound.")
        super().__init__(sliders, fig, notes)
        self._curve_k: int | None = None
        self.artists = {"bars": bars, "title": title, "curve": curve, "log_k": log_k, "marker": marker}
        self._animate(bars, title, curve, log_k, marker)
        self.update()

    def refresh(self) -> bool:
        alpha = float(self.sliders["alpha"].value)
        k = int(self.sliders["num_classes"].value)
        q = theory.smoothed_target(0, k, alpha)
        optimum = theory.ls_optimum(k, alpha)
        self.artists["bars"].set_bars(q.numpy(), left=(np.arange(k) + 0.1) / k, width=0.8 / k)
        if k != self._curve_k:
            self.artists["curve"].set_ydata(theory.ls_entropy_floors(k, self.alphas))
            self.artists["log_k"].set_ydata([optimum.max_entropy] * 2)
            self._curve_k = k
        self.artists["marker"].set_data([alpha], [optimum.entropy_floor])
        self.artists["title"].set_text(f"α = {alpha:.2f}, K = {k}")
        self.state = {"alpha": alpha, "num_classes": k, "target": q.tolist(), "max_prob": optimum.max_prob,
                      "logit_gap": optimum.logit_gap, "entropy_floor": optimum.entropy_floor,
                      "max_entropy": optimum.max_entropy}
        # the shares are read out here, not drawn on the figure: every changing text costs milliseconds to draw
        self.readout.value = (f"the label's share = optimum max-probability 1 − α + α/K = <b>{optimum.max_prob:.3f}</b>"
                              f" &nbsp;·&nbsp; each other class α/K = <b>{q[-1].item():.3f}</b> &nbsp;·&nbsp; "
                              f"logit gap = <b>{_fmt(optimum.logit_gap)}</b> &nbsp;·&nbsp; "
                              f"entropy floor H(q) = <b>{optimum.entropy_floor:.3f}</b> nats "
                              f"(log K = {optimum.max_entropy:.3f})")
        return False


def label_smoothing_app(alpha: float = defaults.LS_APP_ALPHA, num_classes: int = defaults.LS_APP_NUM_CLASSES) -> SliderApp:
    """α and K -> the smoothed target (= the loss's optimum), its max-probability, logit gap and entropy floor.

    Sliders ``"alpha"`` (0..1) and ``"num_classes"`` (2..20); right panel: entropy floor against α.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= _LabelSmoothingApp.K_MAX:
        raise ValueError(f"num_classes must be an integer in [2, {_LabelSmoothingApp.K_MAX}], got {num_classes!r}")
    return _LabelSmoothingApp(alpha, num_classes)


# ------------------------------------------------------------------------------------ 03: distillation


class _DistillationApp(SliderApp):
    def __init__(self, base_logits: Sequence[float], confidence: float, temperature: float, alpha: float) -> None:
        z = theory.as_logits(base_logits, "teacher_logits")
        if z.dim() != 1 or z.shape[0] > 10:
            raise ValueError(f"teacher_logits must be one example with 2..10 classes, got shape {tuple(z.shape)}")
        theory.teacher_logits_with_confidence(z, confidence)  # validates
        self.base = z
        self.num_classes = k = z.shape[0]
        self.target = int(z.argmax())
        low, high = defaults.kd_confidence_range(k)
        sliders = {
            "teacher_confidence": float_slider("teacher confidence (τ=1)", confidence, low, high, 0.01),
            "temperature": log_slider("temperature τ", temperature, *defaults.KD_APP_TEMPERATURE_RANGE),
            "alpha": float_slider("soft weight α", validate_alpha(alpha), 0.0, 1.0, 0.01),
        }
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        bars_ax, curve_ax = fig.subplots(1, 2)
        x = np.arange(k)
        width = 0.27
        series = {"teacher": "teacher p_t^τ", "kd": "KD optimum", "ls": "LS target"}
        bars = {}
        for offset, (key, label) in zip((-width, 0.0, width), series.items()):
            bars[key] = Bars(bars_ax, x + offset - width / 2, width, color=METHOD_COLORS[key], label=label)
        bars_ax.set_ylim(0.0, 1.05)
        bars_ax.set_xticks(x, [f"{i}{' (label)' if i == self.target else ''}" for i in range(k)])
        bars_ax.set_ylabel("probability")
        bars_ax.legend(loc="upper right", fontsize=9)
        (kd_curve,) = curve_ax.plot([], [], color=METHOD_COLORS["kd"], linewidth=2, label="H(KD optimum)")
        (mixed_curve,) = curve_ax.plot([], [], color=METHOD_COLORS["kd"], linewidth=1.2, linestyle="--",
                                       label="H((1-α)·y + α·p_t^τ)")
        (ls_curve,) = curve_ax.plot([], [], color=METHOD_COLORS["ls"], linewidth=2, label="H(LS target)")
        (kd_marker,) = curve_ax.plot([], [], "o", color=METHOD_COLORS["kd"], markersize=8)
        (ls_marker,) = curve_ax.plot([], [], "o", color=METHOD_COLORS["ls"], markersize=8)
        curve_ax.axhline(math.log(k), color="black", linestyle=":", linewidth=1, label="log K")
        curve_ax.set_xlim(1.0 / k, 1.0)
        curve_ax.set_ylim(0.0, math.log(k) * 1.05)
        curve_ax.set_xlabel("teacher confidence (max-probability at τ=1)")
        curve_ax.set_ylabel("entropy (nats)")
        curve_ax.legend(loc="lower left", fontsize=9)
        title = curve_ax.set_title(" ")
        fig.tight_layout()
        self.confidences = tuple(np.linspace(1.0 / k, 0.99, 24).tolist())
        notes = ("<b>Read it.</b> Green bars: the student's prediction at the minimum of the KD loss (free logits; "
                 "at τ = 1 it is (1 − α)·y + α·p_t). Orange: the LS target (1 − α)·y + α/K, LS's optimum, whose "
                 "confidence is fixed by α alone. The KD optimum inherits the teacher's confidence, so a confident "
                 "teacher gives a <i>lower</i>-entropy optimum than LS (Sultan, 2023). Raising τ flattens the grey "
                 "p_t^τ, and the dashed reading (1 − α)·y + α·p_t^τ moves towards LS — but the optimum barely moves: "
                 "the soft term is minimised by student logits = teacher logits + constant at every τ.")
        super().__init__(sliders, fig, notes)
        self._curve_key: tuple[float, float] | None = None
        self._optima: torch.Tensor | None = None
        self._point: torch.Tensor | None = None
        self.artists = {"bars": bars, "kd_curve": kd_curve, "mixed_curve": mixed_curve, "ls_curve": ls_curve,
                        "kd_marker": kd_marker, "ls_marker": ls_marker, "title": title}
        self._animate(*bars.values(), kd_curve, mixed_curve, ls_curve, kd_marker, ls_marker, title)
        self.update()

    def refresh(self) -> bool:
        confidence = float(self.sliders["teacher_confidence"].value)
        tau = float(self.sliders["temperature"].value)
        alpha = float(self.sliders["alpha"].value)
        if self._curve_key != (alpha, tau):
            # one batched solve for the curve and the current teacher (last row), warm-started from the
            # previous one: the sliders move in small steps
            grid = (*self.confidences, confidence)
            start = None if self._optima is None else torch.cat([self._optima[:-1], self._point[None]])
            frame = theory.entropy_vs_teacher_confidence(self.base, alpha, tau, grid, start=start)
            self._optima = frame.attrs["kd_optimum"]
            self._point = self._optima[-1]
            columns = {name: frame[name].to_numpy()[:-1] for name in
                       ("teacher_confidence", "kd_entropy", "kd_mixed_entropy", "ls_entropy")}  # numpy: no pandas per call
            self.artists["kd_curve"].set_data(columns["teacher_confidence"], columns["kd_entropy"])
            self.artists["mixed_curve"].set_data(columns["teacher_confidence"], columns["kd_mixed_entropy"])
            self.artists["ls_curve"].set_data(columns["teacher_confidence"], columns["ls_entropy"])
            self._curve_key = (alpha, tau)
        teacher = theory.teacher_logits_with_confidence(self.base, confidence)
        cmp = theory.compare_targets(teacher, self.target, alpha, tau, start=self._point)
        self._point = cmp.kd_target
        for key, probs in (("teacher", cmp.teacher_soft), ("kd", cmp.kd_target), ("ls", cmp.ls_target)):
            self.artists["bars"][key].set_bars(probs.numpy())
        self.artists["kd_marker"].set_data([confidence], [cmp.kd_entropy])
        self.artists["ls_marker"].set_data([confidence], [cmp.ls_entropy])
        self.artists["title"].set_text(f"α = {alpha:.2f}, τ = {tau:.3g}")
        self.state = {"teacher_confidence": confidence, "temperature": tau, "alpha": alpha,
                      "teacher_logits": teacher.tolist(), "teacher_soft": cmp.teacher_soft.tolist(),
                      "kd_target": cmp.kd_target.tolist(), "kd_mixed": cmp.kd_mixed.tolist(),
                      "ls_target": cmp.ls_target.tolist(), "teacher_entropy": cmp.teacher_entropy,
                      "kd_entropy": cmp.kd_entropy, "kd_mixed_entropy": cmp.kd_mixed_entropy,
                      "ls_entropy": cmp.ls_entropy, "kd_max_prob": cmp.kd_max_prob, "ls_max_prob": cmp.ls_max_prob}
        verdict = "lower than" if cmp.kd_entropy < cmp.ls_entropy - 5e-4 else (
            "higher than" if cmp.kd_entropy > cmp.ls_entropy + 5e-4 else "the same as")
        self.readout.value = (
            f"teacher at τ: max-prob {cmp.teacher_max_prob:.3f}, entropy {cmp.teacher_entropy:.3f} nats<br>"
            f"KD optimum: max-prob <b>{cmp.kd_max_prob:.3f}</b>, entropy <b>{cmp.kd_entropy:.3f}</b> nats "
            f"&nbsp;·&nbsp; LS target: max-prob <b>{cmp.ls_max_prob:.3f}</b>, entropy <b>{cmp.ls_entropy:.3f}</b> nats"
            f"<br>→ the KD optimum's entropy is <b>{verdict}</b> LS's (KD − LS = "
            f"{cmp.kd_entropy - cmp.ls_entropy:+.3f} nats); the reading (1 − α)·y + α·p_t^τ has "
            f"{cmp.kd_mixed_entropy:.3f} nats")
        return False


def distillation_app(teacher_logits: Sequence[float] = defaults.KD_APP_TEACHER_LOGITS,
                     confidence: float = defaults.KD_APP_CONFIDENCE, temperature: float = defaults.KD_APP_TEMPERATURE,
                     alpha: float = defaults.KD_APP_ALPHA) -> SliderApp:
    """Teacher confidence, τ and α -> KD's optimum next to the LS target at the same α, with both entropies.

    The teacher is ``teacher_logits`` rescaled to the chosen confidence
    (:func:`helpers.maths.theory.teacher_logits_with_confidence`), its arg-max being the label.
    Sliders ``"teacher_confidence"``, ``"temperature"`` (log scale, 1..20, the range used in practice) and ``"alpha"``.
    """
    return _DistillationApp(teacher_logits, confidence, temperature, alpha)


# ------------------------------------------------------------------------------------ 04: calibration


class _CalibrationApp(SliderApp):
    def __init__(self, logits: torch.Tensor, targets: torch.Tensor, n_bins: int, temperature: float,
                 fitted_temperature: float | None) -> None:
        self.logits = torch.as_tensor(logits).float()
        self.targets = torch.as_tensor(targets).long()
        summarize(self.logits, self.targets, n_bins)  # validates shapes, targets and n_bins
        self.n_bins = n_bins
        self.fitted_temperature = fitted_temperature
        sliders = {"temperature": log_slider("temperature T", temperature, *defaults.CALIBRATION_APP_RANGE)}
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        rel_ax, hist_ax = fig.subplots(1, 2)
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        left, width = edges[:-1], np.diff(edges)
        accuracy_bars = Bars(rel_ax, left, width, color=PALETTE[0], edgecolor="white", label="accuracy")
        # no hatching: it would cost more to draw than everything else in the figure
        gap_bars = Bars(rel_ax, left, width, color=PALETTE[3], alpha=0.35, edgecolor=PALETTE[3], label="gap to confidence")
        (diagonal,) = rel_ax.plot([0, 1], [0, 1], linestyle="--", color="black", linewidth=1, label="perfect calibration")
        rel_ax.set_xlim(0.0, 1.0)
        rel_ax.set_ylim(0.0, 1.0)
        rel_ax.set_xlabel("confidence (max-probability)")
        rel_ax.set_ylabel("accuracy")
        rel_ax.legend(loc="upper left", fontsize=9)
        title = rel_ax.set_title(" ")
        count_bars = Bars(hist_ax, left, width, color=PALETTE[7], edgecolor="white")
        hist_ax.set_xlim(0.0, 1.0)
        hist_ax.set_ylim(0.0, 1.0)
        hist_ax.set_xlabel("confidence (max-probability)")
        hist_ax.set_ylabel("fraction of examples")
        hist_ax.set_title("where the confidences fall")
        fig.tight_layout()
        notes = ("<b>Temperature scaling</b> divides every logit by one T: T > 1 softens (higher entropy, lower "
                 "confidence), T < 1 sharpens; the arg-max and hence the accuracy never change. Fit T on the "
                 "<i>validation</i> split (minimum NLL), then judge it on the test split.")
        super().__init__(sliders, fig, notes)
        self.artists = {"accuracy_bars": accuracy_bars, "gap_bars": gap_bars, "count_bars": count_bars, "title": title}
        self._animate(accuracy_bars, gap_bars, count_bars, title, diagonal)  # the diagonal over the bars
        self.update()

    def refresh(self) -> bool:
        t = float(self.sliders["temperature"].value)
        scaled = scale_logits(self.logits, t)
        metrics = summarize(scaled, self.targets, self.n_bins)
        bins = reliability_bins(scaled, self.targets, self.n_bins)
        accuracy, confidence = bins["accuracy"].nan_to_num(0.0).numpy(), bins["confidence"].nan_to_num(0.0).numpy()
        count = bins["count"].numpy()
        low, high = np.minimum(accuracy, confidence), np.maximum(accuracy, confidence)
        self.artists["accuracy_bars"].set_bars(accuracy)
        self.artists["gap_bars"].set_bars(np.where(count == 0, 0.0, high - low), bottoms=low)
        self.artists["count_bars"].set_bars(count / count.sum())
        self.artists["title"].set_text(f"T = {t:.3g}: ECE = {metrics['ece']:.3f}")
        self.state = {"temperature": t, **metrics, "bin_accuracy": bins["accuracy"].tolist(),
                      "bin_confidence": bins["confidence"].tolist(), "bin_count": bins["count"].tolist()}
        fitted = "" if self.fitted_temperature is None else (
            f" &nbsp;(fitted on validation: T* = {self.fitted_temperature:.3g})")
        self.readout.value = (f"T = <b>{t:.3g}</b>{fitted}<br>ECE = <b>{metrics['ece']:.3f}</b> &nbsp;·&nbsp; "
                              f"mean entropy = <b>{metrics['entropy']:.3f}</b> nats &nbsp;·&nbsp; "
                              f"mean max-prob = <b>{metrics['max_prob']:.3f}</b> &nbsp;·&nbsp; NLL = "
                              f"<b>{metrics['nll']:.3f}</b> &nbsp;·&nbsp; accuracy = {metrics['accuracy']:.3f}")
        return False


def calibration_app(logits: torch.Tensor, targets: torch.Tensor, n_bins: int = defaults.CALIBRATION_APP_BINS,
                    temperature: float = defaults.CALIBRATION_APP_TEMPERATURE,
                    fitted_temperature: float | None = None) -> SliderApp:
    """Post-hoc temperature T -> reliability diagram, confidence histogram, ECE, entropy and NLL, live.

    ``logits`` ``(N, K)`` and ``targets`` ``(N,)`` are the split to inspect (the test split after
    fitting T on validation). Slider ``"temperature"`` (log scale, 0.1..10), starting at ``temperature``;
    ``fitted_temperature`` (if given) is quoted in the read-out for reference.
    """
    return _CalibrationApp(logits, targets, n_bins, temperature, fitted_temperature)
