"""Post-hoc temperature scaling (Guo et al., 2017): one scalar ``T > 0`` divides every logit.

Conventions: ``scale_logits(z, T) = z / T``; ``T > 1`` softens (raises entropy, lowers
confidence), ``T < 1`` sharpens; the arg-max -- hence accuracy -- never changes. ``T`` is fitted
by minimising the mean NLL (nats) on the **validation** split, never on the test split.
The NLL of ``z / T`` is convex in ``1/T``, hence unimodal in ``log T``: a bounded
golden-section search on ``log T`` finds the minimiser reliably without gradients.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from helpers.losses import validate_logits_and_targets, validate_temperature
from helpers.metrics import summarize

__all__ = ["T_MIN", "T_MAX", "scale_logits", "fit_temperature", "temperature_scaling_report", "plot_before_after"]

T_MIN, T_MAX = 0.01, 100.0  # search bounds of fit_temperature
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def scale_logits(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``logits / temperature`` (``temperature`` finite and > 0); ``temperature = 1`` returns equal logits."""
    temperature = validate_temperature(temperature)
    logits = torch.as_tensor(logits)
    if not logits.dtype.is_floating_point:
        raise ValueError(f"logits must be a floating-point tensor, got dtype {logits.dtype}")
    return logits / temperature


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, t_min: float = T_MIN, t_max: float = T_MAX,
                    tolerance: float = 1e-6) -> float:
    """The ``T`` in ``[t_min, t_max]`` minimising the mean NLL of ``softmax(logits / T)`` (validation split!).

    Golden-section search on ``log T`` (float64) to ``tolerance`` in ``log T``. A result at a
    bound means the optimum lies beyond it (e.g. ``t_min`` when every example is confidently
    right: the NLL keeps falling as ``T -> 0``).
    """
    logits, targets = torch.as_tensor(logits), torch.as_tensor(targets)
    validate_logits_and_targets(logits, targets)
    t_min, t_max = validate_temperature(t_min), validate_temperature(t_max)
    if not t_min < t_max:
        raise ValueError(f"need t_min < t_max, got t_min={t_min!r}, t_max={t_max!r}")
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0, got tolerance={tolerance!r}")
    z, y = logits.double(), targets.long()

    def nll(log_t: float) -> float:
        return F.cross_entropy(z / math.exp(log_t), y).item()

    low, high = math.log(t_min), math.log(t_max)
    a, b = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
    fa, fb = nll(a), nll(b)
    while high - low > tolerance:
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - _GOLDEN * (high - low)
            fa = nll(a)
        else:
            low, a, fa = a, b, fb
            b = low + _GOLDEN * (high - low)
            fb = nll(b)
    best = min((nll(math.log(t_min)), t_min), (nll(0.5 * (low + high)), math.exp(0.5 * (low + high))),
               (nll(math.log(t_max)), t_max))
    return float(best[1])


def temperature_scaling_report(val_logits: torch.Tensor, val_targets: torch.Tensor,
                               test_logits: torch.Tensor, test_targets: torch.Tensor,
                               n_bins: int = 15) -> tuple[float, pd.DataFrame]:
    """Fit ``T`` on validation, then :func:`helpers.metrics.summarize` the test split before and after.

    Returns ``(T, table)`` with one row per (split, ``"before"``/``"after"``) and columns
    ``split``, ``scaling``, ``temperature``, accuracy, entropy, max_prob, nll, ece.
    """
    temperature = fit_temperature(val_logits, val_targets)
    rows = []
    for split, z, y in (("validation", val_logits, val_targets), ("test", test_logits, test_targets)):
        for scaling, t in (("before", 1.0), ("after", temperature)):
            rows.append({"split": split, "scaling": scaling, "temperature": t,
                         **summarize(scale_logits(z, t), y, n_bins)})
    return temperature, pd.DataFrame(rows)


def plot_before_after(logits: torch.Tensor, targets: torch.Tensor, temperature: float, n_bins: int = 15) -> Figure:
    """Two reliability diagrams (:func:`helpers.plotting.reliability_diagram`): logits as they are, and ``/ T``."""
    from helpers.plotting import reliability_diagram  # lazy: plotting imports seaborn

    temperature = validate_temperature(temperature)
    fig, (before, after) = plt.subplots(1, 2, figsize=(10, 4.6))
    reliability_diagram(logits, targets, n_bins, ax=before)
    reliability_diagram(scale_logits(logits, temperature), targets, n_bins, ax=after)
    before.set_title(f"before (T = 1): {before.get_title()}")
    after.set_title(f"after (T = {temperature:.3g}): {after.get_title()}")
    fig.tight_layout()
    return fig
