"""Post-hoc temperature scaling (Guo et al., 2017): one scalar ``T > 0`` divides every logit.

Conventions: ``scale_logits(z, T) = z / T``; ``T > 1`` softens (raises entropy, lowers
confidence), ``T < 1`` sharpens; the arg-max -- hence accuracy -- never changes. ``T`` is fitted
by minimising the mean NLL (nats) on the **validation** split, never on the test split.
The NLL of ``z / T`` is convex in ``1/T``, hence unimodal in ``log T``: SciPy's bounded scalar
minimiser (Brent's method, ``scipy.optimize.minimize_scalar``) on ``log T`` finds it without gradients.
This module computes; the before/after reliability diagrams are drawn by
:func:`helpers.reporting.plotting.plot_before_after`.
"""

from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn.functional as F
from scipy.optimize import minimize_scalar

from helpers.maths.losses import validate_logits_and_targets, validate_temperature
from helpers.maths.metrics import summarize

__all__ = ["T_MIN", "T_MAX", "scale_logits", "fit_temperature", "temperature_scaling_report"]

T_MIN, T_MAX = 0.01, 100.0  # search bounds of fit_temperature


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

    Bounded Brent search (``scipy.optimize.minimize_scalar``) on ``log T`` in float64, to ``tolerance`` in
    ``log T``. A result at a bound means the optimum lies beyond it (e.g. ``t_min`` when every example is
    confidently right: the NLL keeps falling as ``T -> 0``).
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
    result = minimize_scalar(nll, bounds=(low, high), method="bounded", options={"xatol": tolerance})
    # Brent's bounded method never evaluates the bounds themselves: compare with them explicitly
    best = min((nll(low), t_min), (float(result.fun), math.exp(float(result.x))), (nll(high), t_max))
    return float(best[1])


def temperature_scaling_report(val_logits: torch.Tensor, val_targets: torch.Tensor,
                               test_logits: torch.Tensor, test_targets: torch.Tensor,
                               n_bins: int = 15) -> tuple[float, pd.DataFrame]:
    """Fit ``T`` on validation, then :func:`helpers.maths.metrics.summarize` the test split before and after.

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
