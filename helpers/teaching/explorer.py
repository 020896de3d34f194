"""Notebook 08's two explorers (ipywidgets, built on ``helpers.teaching.slider_app.SliderApp``).

* ``GridExplorer`` moves over a **precomputed** α/τ sweep (``helpers.experiments.sweeps.sweep_summary``):
  sliders pick LS or KD, α and τ; the read-out shows that grid point's test entropy and accuracy
  (mean ± 95% interval over seeds) next to ERM's, and markers move along the curves. No training.
* ``LiveExplorer`` **really trains**: every change of method, α, τ, teacher logit scale or seed
  trains a student head on frozen features (``helpers.learning.features.run_head``, about a second; cached,
  so revisiting a setting is instant) and redraws the histogram of its per-example test entropies
  over ERM's. Its sliders update on release (``continuous_update=False``).

What is displayed is exposed for tests: ``app.state`` (the numbers) and ``app.readout.value``.
"""

from __future__ import annotations

import math
from typing import Sequence

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.reporting.verdicts import format_ci
from helpers.learning.frozen_features import FeatureSet
from helpers.learning.features import HeadConfig, run_head
from helpers.maths.metrics import entropy
from helpers.reporting.plotting import METHOD_COLORS
from helpers.teaching.slider_app import SliderApp

__all__ = ["GridExplorer", "LiveExplorer", "LIVE_TEMPERATURES"]

LIVE_TEMPERATURES = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0)
_STYLE = {"description_width": "150px"}
_LAYOUT = widgets.Layout(width="560px")


def _method_buttons(value: str) -> widgets.ToggleButtons:
    return widgets.ToggleButtons(options=[("LS", "ls"), ("KD", "kd")], value=value, description="method",
                                 style=_STYLE)


class GridExplorer(SliderApp):
    """Sliders over a precomputed sweep summary (columns ``method, alpha, temperature`` and, per metric,
    the mean and ``<metric>_ci``). ERM is the LS row at α = 0 (identical losses)."""

    def __init__(self, summary: pd.DataFrame, method: str = "kd", alpha: float | None = None, temperature: float | None = None):
        needed = ["method", "alpha", "temperature", "entropy", "entropy_ci", "accuracy", "accuracy_ci"]
        if not isinstance(summary, pd.DataFrame) or any(c not in summary.columns for c in needed):
            raise ValueError(f"summary must be a DataFrame with columns {needed}")
        if method not in ("ls", "kd"):
            raise ValueError(f"method must be 'ls' or 'kd', got method={method!r}")
        self.summary = summary.copy()
        self.summary["temperature"] = pd.to_numeric(self.summary["temperature"], errors="coerce")
        kd = self.summary[self.summary["method"] == "kd"]
        ls = self.summary[self.summary["method"] == "ls"]
        if kd.empty or ls.empty:
            raise ValueError("summary needs both LS and KD rows")
        alphas = sorted({float(a) for a in self.summary["alpha"]})
        temperatures = sorted({float(t) for t in kd["temperature"]})
        erm = ls[ls["alpha"] == 0.0]
        self.erm = erm.iloc[0] if not erm.empty else None
        sliders = {
            "method": _method_buttons(method),
            "alpha": widgets.SelectionSlider(options=alphas, value=alphas[len(alphas) // 2] if alpha is None else float(alpha),
                                             description="α (soft weight)", style=_STYLE, layout=_LAYOUT),
            "temperature": widgets.SelectionSlider(options=temperatures, value=temperatures[0] if temperature is None else float(temperature),
                                                   description="τ (KD only)", style=_STYLE, layout=_LAYOUT),
        }
        fig = Figure(figsize=(9.0, 3.4), dpi=100)
        self._axes = dict(zip(("entropy", "accuracy"), fig.subplots(1, 2)))
        self.artists = {}
        for metric, ax in self._axes.items():
            (ls_line,) = ax.plot(ls.sort_values("alpha")["alpha"], ls.sort_values("alpha")[metric], "-o",
                                 color=METHOD_COLORS["ls"], markersize=3, label="LS")
            (kd_line,) = ax.plot([], [], "-o", color=METHOD_COLORS["kd"], markersize=3, label="KD at τ")
            (marker,) = ax.plot([], [], "o", markersize=11, markerfacecolor="none", markeredgewidth=2, color="black")
            if self.erm is not None:
                ax.axhline(float(self.erm[metric]), color=METHOD_COLORS["erm"], linewidth=1, label="ERM")
            values = self.summary[metric].astype(float)
            pad = 0.05 * (values.max() - values.min() + 1e-9)
            ax.set_ylim(values.min() - pad, values.max() + pad)
            ax.set_xlim(min(alphas) - 0.03, max(alphas) + 0.03)
            ax.set_xlabel("α")
            ax.set_ylabel(f"test {metric}")
            ax.legend(fontsize=8)
            self.artists[metric] = {"kd_line": kd_line, "marker": marker, "ls_line": ls_line}
        fig.tight_layout()
        super().__init__(sliders, fig, notes="<i>Precomputed grid: each point is a mean over seeds; nothing is trained here.</i>")
        self._animate(*(a["kd_line"] for a in self.artists.values()), *(a["marker"] for a in self.artists.values()))
        self.update()

    def point(self, method: str, alpha: float, temperature: float | None) -> pd.Series:
        """The summary row of one grid point (LS ignores τ)."""
        rows = self.summary[(self.summary["method"] == method) & np.isclose(self.summary["alpha"].astype(float), alpha)]
        if method == "kd":
            rows = rows[np.isclose(rows["temperature"].astype(float), float(temperature))]
        if rows.empty:
            raise ValueError(f"no grid point for method={method!r}, alpha={alpha!r}, temperature={temperature!r}")
        return rows.iloc[0]

    def refresh(self) -> bool:
        method = self.sliders["method"].value
        alpha = float(self.sliders["alpha"].value)
        tau = float(self.sliders["temperature"].value)
        kd = self.summary[(self.summary["method"] == "kd") & np.isclose(self.summary["temperature"], tau)].sort_values("alpha")
        row = self.point(method, alpha, tau)
        for metric, parts in self.artists.items():
            parts["kd_line"].set_data(kd["alpha"], kd[metric])
            parts["marker"].set_data([alpha], [float(row[metric])])
        self.state = {"method": method, "alpha": alpha, "temperature": tau if method == "kd" else None,
                      "entropy": float(row["entropy"]), "entropy_ci": float(row["entropy_ci"]),
                      "accuracy": float(row["accuracy"]), "accuracy_ci": float(row["accuracy_ci"])}
        what = f"KD (α = {alpha:g}, τ = {tau:g})" if method == "kd" else f"LS (α = {alpha:g})"
        text = (f"{what}: test entropy <b>{format_ci(row['entropy'], row['entropy_ci'])}</b> nats, "
                f"accuracy <b>{format_ci(row['accuracy'], row['accuracy_ci'])}</b>")
        if self.erm is not None:
            delta = float(row["entropy"]) - float(self.erm["entropy"])
            self.state["entropy_vs_erm"] = delta
            text += f"<br>ERM: entropy {float(self.erm['entropy']):.3f} nats → this point is {delta:+.3f} nats from ERM"
        self.readout.value = text
        return False


class LiveExplorer(SliderApp):
    """Trains a student head per slider setting (LS or KD from ``teacher``) and shows its test entropies.

    ``student`` is an ERM ``HeadConfig`` giving the student's layer and budget; ``teacher`` a
    ``HeadConfig`` (trained once, cached). ``seeds`` are the seeds the seed slider offers.
    """

    def __init__(self, data: FeatureSet, student: HeadConfig, teacher: HeadConfig, method: str = "kd",
                 alpha: float = 0.5, temperature: float = 1.0, scale: float = 1.0, seeds: Sequence[int] = (0, 1, 2)):
        if not isinstance(data, FeatureSet):
            raise ValueError(f"data must be a FeatureSet, got {type(data).__name__}")
        if student.method != "erm":
            raise ValueError(f"student must be an ERM HeadConfig, got method={student.method!r}")
        if method not in ("ls", "kd"):
            raise ValueError(f"method must be 'ls' or 'kd', got method={method!r}")
        if float(temperature) not in LIVE_TEMPERATURES:
            raise ValueError(f"temperature must be one of {LIVE_TEMPERATURES}, got temperature={temperature!r}")
        if not seeds:
            raise ValueError("seeds must not be empty")
        self.data, self.student, self.teacher = data, student, teacher
        common = dict(style=_STYLE, layout=_LAYOUT, continuous_update=False)
        sliders = {
            "method": _method_buttons(method),
            "alpha": widgets.FloatSlider(value=float(alpha), min=0.0, max=1.0, step=0.05, description="α (soft weight)",
                                         readout_format=".2f", **common),
            "temperature": widgets.SelectionSlider(options=LIVE_TEMPERATURES, value=float(temperature),
                                                   description="τ (KD only)", **common),
            "scale": widgets.FloatLogSlider(value=float(scale), base=2, min=-3, max=2, step=0.25,
                                            description="teacher logit scale", readout_format=".3g", **common),
            "seed": widgets.SelectionSlider(options=[int(s) for s in seeds], value=int(seeds[0]), description="seed", **common),
        }
        self.top = math.log(data.num_classes)
        self.bins = np.linspace(0.0, self.top, 31)
        fig = Figure(figsize=(9.0, 3.4), dpi=100)
        ax = fig.subplots()
        centers, width = 0.5 * (self.bins[1:] + self.bins[:-1]), np.diff(self.bins)
        self._erm_config = student
        erm = run_head(student.replace(seed=int(seeds[0])), data)
        erm_entropy = entropy(erm.logits["test"]).numpy()
        ax.bar(centers, self._density(erm_entropy), width=width, color=METHOD_COLORS["erm"], alpha=0.35, label="ERM student")
        bars = list(ax.bar(centers, np.zeros_like(centers), width=width * 0.6, color=METHOD_COLORS["kd"], label="this student"))
        mean_line = ax.axvline(0.0, color="black", linewidth=2, label="its mean")
        ax.axvline(float(erm_entropy.mean()), color=METHOD_COLORS["erm"], linewidth=2, linestyle="--", label="ERM mean")
        ax.set_xlim(0.0, self.top)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel("per-example test entropy (nats)")
        ax.set_ylabel("fraction of examples")
        ax.legend(fontsize=8, loc="upper right")
        title = ax.set_title(" ")
        fig.tight_layout()
        super().__init__(sliders, fig, notes=("<i>Live: each change trains a student head on frozen MiniLM features "
                                             "(helpers.learning.features); results are cached, so going back is instant.</i>"))
        self.artists = {"bars": bars, "mean": mean_line, "title": title}
        self._animate(*bars, mean_line, title)
        self.update()

    def _density(self, values: np.ndarray) -> np.ndarray:
        counts, _ = np.histogram(np.clip(values, 0.0, self.top), bins=self.bins)
        return counts / max(len(values), 1)

    def config(self) -> HeadConfig:
        """The student config the sliders currently describe."""
        method = self.sliders["method"].value
        seed = int(self.sliders["seed"].value)
        alpha = float(self.sliders["alpha"].value)
        if method == "ls":
            return self.student.replace(method="ls", alpha=alpha, seed=seed)
        return self.student.replace(method="kd", alpha=alpha, temperature=float(self.sliders["temperature"].value),
                                    teacher=self.teacher, teacher_logit_scale=float(self.sliders["scale"].value), seed=seed)

    def refresh(self) -> bool:
        config = self.config()
        record = run_head(config, self.data)
        erm = run_head(self.student.replace(seed=config.seed), self.data)
        values = entropy(record.logits["test"]).numpy()
        for bar, height in zip(self.artists["bars"], self._density(values)):
            bar.set_height(height)
            bar.set_color(METHOD_COLORS[config.method])
        self.artists["mean"].set_xdata([float(values.mean())] * 2)
        self.artists["title"].set_text(config.label())
        m = record.metrics
        self.state = {"config": config, "entropy": m["entropy"], "accuracy": m["accuracy"], "nll": m["nll"],
                      "ece": m["ece"], "erm_entropy": erm.metrics["entropy"],
                      "entropy_vs_erm": m["entropy"] - erm.metrics["entropy"], "train_seconds": record.seconds}
        direction = "lower" if self.state["entropy_vs_erm"] < 0 else "higher"
        self.readout.value = (
            f"{config.label()} (seed {config.seed}, trained in {record.seconds:.2f} s)<br>"
            f"test entropy <b>{m['entropy']:.3f}</b> nats, accuracy <b>{m['accuracy']:.3f}</b>, NLL {m['nll']:.3f}, "
            f"ECE {m['ece']:.3f}<br>ERM student (same seed): entropy {erm.metrics['entropy']:.3f} nats → this student is "
            f"<b>{abs(self.state['entropy_vs_erm']):.3f} nats {direction}</b>")
        return False
