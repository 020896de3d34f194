"""The pre-declared hypotheses every verdict is judged against — stated once, here, before any data are seen.

Two predictions stand beside each LS or KD comparison (method − ERM of the same tier, task, student and seed,
measured on the **test** split):

* **The kit's hypothesis** (:func:`kit_expectation`), one rule for every tier and setting:

  - LS raises the student's entropy (its target is never one-hot);
  - KD moves the student's entropy **towards its teacher's**: the teacher's mean entropy on the **validation**
    split (as the student sees it: logit scale applied) against the ERM student's mean validation entropy over
    seeds. A teacher less confident than the ERM student predicts *up*, a more confident one *down*; within
    ±``NEGLIGIBLE_ENTROPY`` of it, no direction is predicted. The validation split is not the one the verdict is
    measured on, so the prediction is made from data the verdict does not use.

* **The paper's statement per setting** (:data:`PAPER_EXPECTATION`, Sultan 2023): LS raises entropy; standard and
  self KD lower it; reverse KD raises it.

Claim (a) (KD and LS move confidence in opposite directions) is judged only where the same tier, task and student
has an LS comparison with an interval; claim (b) (the student inherits its teacher's confidence) is the kit's KD
hypothesis. A comparison that lacks its partner (no LS run, one seed, no measured teacher) reads *not testable*,
never *contradicts*.
"""

from __future__ import annotations

import math
import re

from helpers.maths.statistics import NEGLIGIBLE_ENTROPY

__all__ = [
    "PAPER_EXPECTATION",
    "HYPOTHESES_TEXT",
    "model_size",
    "kd_setting",
    "paper_expectation",
    "kd_expectation",
    "kit_expectation",
    "judge",
    "JUDGEMENTS",
]

PAPER_EXPECTATION = {"ls": "up", "standard": "down", "self": "down", "reverse": "up"}

HYPOTHESES_TEXT = (
    "**The hypotheses, declared before the runs** (`helpers.maths.hypotheses`). *LS raises* the student's test entropy. "
    "*KD moves it towards its teacher's*: a teacher whose mean **validation** entropy is below the ERM student's "
    f"predicts *lowered*, one above it *raised* (within ±{NEGLIGIBLE_ENTROPY:g} nats: no prediction) — one rule for "
    "every teacher, tier and setting, read from a split the verdicts do not use. Beside it stands **the paper's "
    "statement per setting**: standard and self KD lower entropy, reverse KD raises it. A comparison without its "
    "partner (no LS run for claim (a), one seed, no measured teacher) is *not testable*.")

_SIZE = re.compile(r"^L(\d+)")


def model_size(name: str) -> int | None:
    """Number of encoder layers in a model name (``'L2'``, ``'L6 (4 epochs)'`` → 2, 6), else None."""
    match = _SIZE.match(str(name))
    return int(match.group(1)) if match else None


def kd_setting(student: str, teacher: str) -> str:
    """``'standard'`` (bigger teacher), ``'self'`` (same size), ``'reverse'`` (smaller teacher), or ``'other'``."""
    s, t = model_size(student), model_size(teacher)
    if s is None or t is None:
        return "other"
    return "standard" if t > s else "self" if t == s else "reverse"


def paper_expectation(method: str, setting: str = "") -> str | None:
    """The paper's direction for LS (``'up'``) or KD in ``setting``; None where the paper states none (ERM, 'other')."""
    if method == "ls":
        return PAPER_EXPECTATION["ls"]
    if method == "kd":
        return PAPER_EXPECTATION.get(setting)
    return None


def kd_expectation(teacher_entropy: float, erm_entropy: float, negligible: float = NEGLIGIBLE_ENTROPY) -> str | None:
    """The kit's KD prediction from validation entropies: ``'down'`` for a teacher more confident than the ERM
    student, ``'up'`` for a less confident one, None within ``±negligible`` (or when either is unknown)."""
    if teacher_entropy is None or erm_entropy is None or math.isnan(teacher_entropy) or math.isnan(erm_entropy):
        return None
    gap = float(teacher_entropy) - float(erm_entropy)
    if abs(gap) < negligible:
        return None
    return "up" if gap > 0 else "down"


def kit_expectation(method: str, teacher_entropy: float | None = None, erm_entropy: float | None = None) -> str | None:
    """The kit's prediction for one comparison: LS ``'up'``; KD :func:`kd_expectation`; None otherwise."""
    if method == "ls":
        return "up"
    if method == "kd":
        return kd_expectation(math.nan if teacher_entropy is None else teacher_entropy,
                              math.nan if erm_entropy is None else erm_entropy)
    return None


JUDGEMENTS = {
    "as predicted": "as predicted",
    "small": "in the predicted direction, but smaller than the negligible band",
    "opposite": "**the opposite of the prediction**",
    "opposite-small": "against the prediction, but smaller than the negligible band",
    "no change": "**no practical change** (the prediction is not confirmed)",
    "not confirmed": "not confirmed (the interval includes 0)",
    "not testable": "not testable",
}


def judge(observed: str, expected: str | None) -> str:
    """A verdict against a prediction, as a key of :data:`JUDGEMENTS`.

    ``observed`` is a direction of :func:`helpers.maths.statistics.direction` (or ``'up?'``/``'down?'`` for one seed);
    ``expected`` ``'up'``, ``'down'`` or None (no prediction). One seed or no prediction: ``'not testable'``.
    """
    if expected is None or (isinstance(expected, float) and math.isnan(expected)) or observed.endswith("?"):
        return "not testable"
    if expected not in ("up", "down"):
        raise ValueError(f"expected must be 'up', 'down' or None, got {expected!r}")
    opposite = "down" if expected == "up" else "up"
    return {expected: "as predicted", f"{expected}-small": "small", opposite: "opposite",
            f"{opposite}-small": "opposite-small", "negligible": "no change"}.get(observed, "not confirmed")
