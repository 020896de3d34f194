"""Training precision on the CPU: bf16 autocast where the CPU has native bf16, fp32 elsewhere.

``KDLS_PRECISION=auto|fp32|bf16`` (environment) chooses for the whole kit; ``auto`` (the default)
means bf16 where oneDNN reports native bf16 matmuls (AMX or AVX512-BF16) and fp32 elsewhere.
``KDLS_PRECISION=fp32`` measures the path most students' laptops take on any machine.
A config's own ``precision`` field (``"auto"`` by default) defers to this choice.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager

import torch

from helpers.infrastructure.settings import requested_precision

__all__ = ["PRECISIONS", "PRECISION_ENV", "bf16_supported", "requested_precision", "resolve_precision", "autocast"]

PRECISIONS = ("auto", "bf16", "fp32")
PRECISION_ENV = "KDLS_PRECISION"


def bf16_supported() -> bool:
    """Whether this CPU has native bf16 matmuls (oneDNN's check: AMX or AVX512-BF16)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str = "auto") -> str:
    """``"fp32"`` or ``"bf16"``: ``precision`` itself if explicit, else ``$KDLS_PRECISION``, else the machine's."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        precision = requested_precision()
    if precision == "auto":
        return "bf16" if bf16_supported() else "fp32"
    if precision == "bf16" and not bf16_supported():
        _warn_once("bf16 was asked for on a CPU without native bf16: it runs emulated, usually slower than fp32")
    return precision


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    """``warnings.warn(message)`` the first time in this process only (it would repeat on every run and batch)."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, stacklevel=3)


def autocast(precision: str = "auto") -> AbstractContextManager:
    """bf16 autocast on the CPU when ``precision`` resolves to bf16, a no-op context otherwise."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=resolve_precision(precision) == "bf16")
