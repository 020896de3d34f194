"""Slider update latency of the kit's widget apps (headless), against a target of 50 ms per update.

Each update is timed around ``slider.value = x``: the app's observer recomputes the numbers,
updates the artists in place, redraws (blitting) and encodes the PNG shown in the notebook, all
synchronously. Sending the PNG to the browser is not included (local, sub-millisecond).
Wall-clock time is what the reader feels; CPU time (the process's, single-threaded during an
update) is what the update costs, and moves much less when other jobs share the CPU.

    .venv/bin/python bench/widget_latency.py [--updates 60]

Timings depend on the machine and on what else runs on it: treat them as approximate, and compare two
versions in the same quiet moment. The target machine is a 2-core CPU without AVX-512; on a faster one,
restrict PyTorch, oneDNN and MKL to AVX2 kernels to come closer to it (the header line shows PyTorch's
kernels in use):

    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 KDLS_PRECISION=fp32 \
        .venv/bin/python bench/widget_latency.py

The restriction reaches only PyTorch's share of an update; drawing and PNG encoding (most of it) run the same
compiled code on every x86 CPU, so the remaining gap to a slower machine is its clock and memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import helpers  # noqa: E402,F401  (offline settings)
import ipywidgets  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from helpers.teaching import widgets  # noqa: E402
from helpers.teaching.slider_app import SliderApp  # noqa: E402

TARGET_MS = 50.0


def _values(slider: ipywidgets.Widget, count: int) -> list[float]:
    """``count`` values sweeping the slider's range back and forth (log sliders in log space)."""
    if isinstance(slider, ipywidgets.FloatLogSlider):
        grid = slider.base ** np.linspace(slider.min, slider.max, count)
    else:
        grid = np.linspace(slider.min, slider.max, count)
    if isinstance(slider, ipywidgets.IntSlider):
        grid = np.round(grid).astype(int)
    grid = list(grid[::2]) + list(grid[1::2][::-1])  # no two equal neighbours: every set triggers an update
    return [type(slider.value)(v) for v in grid]


def measure(app: SliderApp, updates: int) -> dict[str, float]:
    """Per-update seconds over ``updates`` slider moves spread over all of the app's sliders."""
    times, cpu_times = [], []
    per_slider = max(2, updates // len(app.sliders))
    for slider in app.sliders.values():
        original = slider.value
        for value in _values(slider, per_slider):
            if value == slider.value:
                continue
            started, cpu_started = time.perf_counter(), time.process_time()
            slider.value = value
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
        slider.value = original
    ms, cpu_ms = np.array(times) * 1000.0, np.array(cpu_times) * 1000.0
    return {"updates": len(ms), "mean_ms": float(ms.mean()), "p95_ms": float(np.percentile(ms, 95)),
            "max_ms": float(ms.max()), "cpu_mean_ms": float(cpu_ms.mean()), "cpu_p95_ms": float(np.percentile(cpu_ms, 95))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=60, help="slider moves per app (default 60)")
    args = parser.parse_args(argv)

    generator = torch.Generator().manual_seed(0)
    logits = 3.0 * torch.randn(500, 6, generator=generator)  # the size of TREC's test split
    targets = torch.multinomial(torch.softmax(logits / 2.0, dim=-1), 1, generator=generator).squeeze(1)
    apps = {
        "temperature_app": widgets.temperature_app,
        "label_smoothing_app": widgets.label_smoothing_app,
        "distillation_app": widgets.distillation_app,
        "calibration_app (N=500, K=6)": lambda: widgets.calibration_app(logits, targets),
    }
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability()} kernels); target {TARGET_MS:.0f} ms per update\n")
    print(f"{'app':32s} {'updates':>7s} {'mean ms':>8s} {'p95 ms':>8s} {'max ms':>8s} {'cpu mean':>9s} "
          f"{'cpu p95':>8s}  verdict (wall p95)")
    worst = 0.0
    for name, make in apps.items():
        app = make()
        measure(app, 8)  # warm-up
        result = measure(app, args.updates)
        worst = max(worst, result["p95_ms"])
        verdict = "ok" if result["p95_ms"] <= TARGET_MS else "SLOW"
        print(f"{name:32s} {result['updates']:7d} {result['mean_ms']:8.1f} {result['p95_ms']:8.1f} "
              f"{result['max_ms']:8.1f} {result['cpu_mean_ms']:9.1f} {result['cpu_p95_ms']:8.1f}  {verdict}")
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(other work on the machine slows the updates)")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
