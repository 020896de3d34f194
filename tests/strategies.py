"""Hypothesis strategies shared by the maths tests."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

FLOATS = st.floats(min_value=-20.0, max_value=20.0, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def logits_and_targets(draw, n_logits: int = 1, max_batch: int = 16, dtype=np.float64):
    """``n_logits`` logit tensors of one shape (B, K), B in 1..max_batch, K in 2..10, then targets.

    Returns ``(logits, targets)`` for ``n_logits=1`` and ``(logits_1, ..., logits_n, targets)`` otherwise.
    """
    batch = draw(st.integers(1, max_batch))
    k = draw(st.integers(2, 10))
    logits = [torch.from_numpy(draw(arrays(dtype, (batch, k), elements=FLOATS))) for _ in range(n_logits)]
    targets = torch.from_numpy(draw(arrays(np.int64, (batch,), elements=st.integers(0, k - 1))))
    return (*logits, targets)
