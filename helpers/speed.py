"""Opt-in CPU speed-ups for the training loop: thread settings that survive a busy CPU.

Where a small fine-tuning step's time goes (the kit's KD step on TREC: batch 32, ~14 real
tokens per example, a 2-layer MiniLM student): about three quarters in the GEMMs in fp32 and
over half in bf16, the rest in dropout's Bernoulli draws, AdamW, the embedding gradient,
GELU, softmax, layer norms and (bf16) autocast's casts. The GEMMs already run near the
core's peak (MKL / oneDNN), so the kernels themselves leave little to win; ``torch.compile``
(inductor) gave the same steady-state step time, after a 55-90 s compile.

What does cost a lot is OpenMP on a CPU shared with other work (a laptop running a browser,
a 2-vCPU cloud notebook): with more torch threads than free cores, every parallel region
waits at a barrier for a thread that is not running, and a step takes several times longer
than with one thread. Two remedies, both opt-in and both leaving the numbers unchanged
(tests/test_speed.py):

* :func:`prefer_passive_openmp` sets ``OMP_WAIT_POLICY=PASSIVE`` (unless the user set it):
  waiting threads sleep instead of spinning, so they do not steal the core that the late
  thread needs. OpenMP reads it once, when torch is first imported: call it before that
  (``helpers/__init__.py`` runs before ``import torch`` when a notebook imports ``helpers`` first).
* :func:`pick_threads` times a probe shaped like the training step's work (its GEMMs and
  element-wise passes) at each thread count from 1 to the current one, alternately, and keeps
  the fastest (:func:`torch.set_num_threads`); :func:`restore_threads` puts the old count back.

Neither changes what is computed: a GEMM or a reduction splits its work over threads, not its
arithmetic over different numbers, so losses agree to float rounding (the tests check a few
training steps at 1 and 2 threads).

This module imports torch only inside its functions, so that importing it does not initialise
OpenMP before :func:`prefer_passive_openmp` runs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field

__all__ = ["OPENMP_ENV", "prefer_passive_openmp", "ThreadChoice", "pick_threads", "restore_threads"]

OPENMP_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}


def prefer_passive_openmp(environ: MutableMapping[str, str] | None = None) -> bool:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` in ``environ`` (default ``os.environ``) unless it is already set.

    Returns whether the setting can still take effect in this process: OpenMP reads it when torch
    is first imported, so ``False`` means torch was imported already (the value then only reaches
    child processes). A user's own ``OMP_WAIT_POLICY`` is left as it is.
    """
    environ = os.environ if environ is None else environ
    for name, value in OPENMP_ENV.items():
        environ.setdefault(name, value)
    return "torch" not in sys.modules


@dataclass
class ThreadChoice:
    """What :func:`pick_threads` chose: ``threads`` (now set), the count before, and the probe's best seconds per count."""

    threads: int
    previous: int
    seconds: dict[int, float] = field(default_factory=dict)


def _probe_tensors(hidden: int, tokens: int, dtype):
    import torch

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(tokens, hidden, generator=generator).to(dtype)
    w1 = torch.randn(hidden, 4 * hidden, generator=generator).to(dtype)
    w2 = torch.randn(4 * hidden, hidden, generator=generator).to(dtype)
    return x, w1, w2


def _probe(x, w1, w2) -> None:
    """One feed-forward block's worth of work: two GEMMs, a GELU, a residual add, a layer norm."""
    import torch

    h = torch.nn.functional.gelu(x @ w1)
    y = torch.nn.functional.layer_norm(h @ w2 + x, (x.shape[-1],))
    y.sum().item()


def pick_threads(max_threads: int | None = None, precision: str = "fp32", hidden: int = 384, tokens: int = 512,
                 rounds: int = 5) -> ThreadChoice:
    """Time a probe at 1..``max_threads`` torch threads (default: the current count), keep the fastest.

    The probe (a feed-forward block of ``tokens`` x ``hidden``, in ``precision``) takes a few
    milliseconds per try; counts are tried alternately for ``rounds`` rounds and each count's best
    time counts, so a burst of other work hurts all counts alike. On an idle machine the current
    count usually wins; on a busy one, fewer threads do.
    """
    import torch

    previous = torch.get_num_threads()
    max_threads = previous if max_threads is None else max_threads
    if max_threads < 1:
        raise ValueError(f"max_threads must be >= 1, got {max_threads}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    x, w1, w2 = _probe_tensors(hidden, tokens, dtype)
    counts = list(range(1, max_threads + 1))
    best = {n: float("inf") for n in counts}
    try:
        for round_ in range(rounds + 1):  # round 0 warms each count up and is not timed
            for n in counts if round_ % 2 else reversed(counts):
                torch.set_num_threads(n)
                started = time.perf_counter()
                _probe(x, w1, w2)
                if round_:
                    best[n] = min(best[n], time.perf_counter() - started)
    except BaseException:
        torch.set_num_threads(previous)
        raise
    # prefer more threads on a tie within 5% (an idle machine's normal case)
    fastest = min(best.values())
    chosen = max(n for n in counts if best[n] <= fastest * 1.05)
    torch.set_num_threads(chosen)
    return ThreadChoice(threads=chosen, previous=previous, seconds=best)


def restore_threads(choice: ThreadChoice) -> None:
    """Put back the thread count that was set before :func:`pick_threads`."""
    import torch

    torch.set_num_threads(choice.previous)
