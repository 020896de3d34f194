"""The pre-declared hypotheses every verdict is judged against — stated once, here, before any data are seen.

Two predictions stand beside each LS or KD comparison (method − ERM of the same tier, task, student and seed,
measured on the **test** split):

* **The kit's hypothesis** (:func:`kit_expectation`), one rule for every tier and setting:

  - LS raises the student's entropy (its target is never one-hot);
  - KD moves the student's entropy **towards its teacher's**: the teacher's mean entropy on the **validation**
    split (as the student sees it: logit scale applied) against the ERM students' mean validation entropy over
    seeds. A teacher less confident than the ERM student predicts *up*, a more confident one *down* — but only when
    the teacher's entropy lies **outside the ERM mean's 95% interval widened by the negligible band**
    (``|teacher − ERM| ≥ half-width + NEGLIGIBLE_ENTROPY``); closer than that, the ERM mean is not known well enough
    to say on which side the teacher lies, and no direction is predicted. With one ERM seed (no interval) there is no
    prediction. With several runs of one teacher, the teacher's entropy is the mean over its runs and the half-width
    of that mean's 95% interval is added to the ERM one. The validation split is not the one the verdict is measured on, so the prediction is made from data
    the verdict does not use.

* **The paper's statement per setting** (:data:`PAPER_EXPECTATION`, Sultan 2023): LS raises entropy; standard and
  self KD lower it; reverse KD raises it — **in the paper's setting only** (:func:`in_paper_setting`): a teacher
  trained to convergence, i.e. a finished training run (not an earlier checkpoint of it), with its own logits (not
  rescaled), whose validation accuracy is within :data:`PAPER_SETTING_MARGIN` of the best teacher of the same model,
  task and tier. Other teachers read *outside the paper's setting* in the paper's column, while the kit's prediction
  still judges them.

* **What KD transfers besides confidence** (:data:`TRANSFER_EXPECTATION`). If KD from a teacher in the paper's
  setting passes on knowledge (which wrong classes resemble the right one), and is not only a learned label
  smoothing, the student should be more accurate than ERM and its probabilities better: **accuracy up, NLL down,
  ECE down**. Each is read with the same paired interval as entropy and judged with :func:`judge` (``negligible`` band
  0: any interval that excludes 0 is a change).

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
    "PAPER_SETTING_MARGIN",
    "in_paper_setting",
    "paper_setting_text",
    "TRANSFER_EXPECTATION",
    "transfer_expectation",
    "paper_expectation",
    "kd_expectation",
    "kit_expectation",
    "judge",
    "JUDGEMENTS",
]

PAPER_EXPECTATION = {"ls": "up", "standard": "down", "self": "down", "reverse": "up"}
PAPER_SETTING_MARGIN = 0.02  # validation accuracy within 2 points of the best teacher of its model: "converged"
TRANSFER_EXPECTATION = {"accuracy": "up", "nll": "down", "ece": "down"}  # the knowledge-transfer view, KD in the paper's setting

HYPOTHESES_TEXT = (
    "**The hypotheses, declared before the runs** (`helpers.maths.hypotheses`). *LS raises* the student's test entropy. "
    "*KD moves it towards its teacher's*: a teacher whose mean **validation** entropy is below the ERM students' "
    "predicts *lowered*, one above it *raised* — provided the teacher lies outside the ERM mean's 95% interval widened "
    f"by the negligible band (±{NEGLIGIBLE_ENTROPY:g} nats); nearer than that, no prediction. One rule for every "
    "teacher, tier and setting, read from a split the verdicts do not use. Beside it stands **the paper's statement "
    "per setting**, applied only in the paper's setting — a teacher trained to convergence (a finished run with its "
    f"own logits, validation accuracy within {PAPER_SETTING_MARGIN * 100:g} percentage points of the best teacher of "
    "its model): standard and self KD lower entropy, reverse KD raises it; an earlier checkpoint or a rescaled teacher "
    "reads *outside the paper's setting*. **What KD transfers besides confidence**: if KD from such a teacher transfers "
    "knowledge, the student's accuracy rises and its NLL and ECE fall. A comparison without its partner (no LS run for "
    "claim (a), one seed, no measured teacher) is *not testable*.")

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


def in_paper_setting(finished: bool, rescaled: bool = False, val_accuracy: float | None = None,
                     best_val_accuracy: float | None = None, margin: float = PAPER_SETTING_MARGIN) -> bool:
    """Whether a KD teacher is in the paper's setting: trained to convergence — a ``finished`` run (not an earlier
    checkpoint), not ``rescaled``, and with ``val_accuracy`` within ``margin`` of ``best_val_accuracy`` (the best teacher
    of the same model, task and tier). Unknown accuracies (None or NaN: an older result file) leave the accuracy
    criterion out."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got margin={margin!r}")
    if not finished or rescaled:
        return False
    known = [v for v in (val_accuracy, best_val_accuracy) if v is not None and not math.isnan(float(v))]
    return len(known) < 2 or float(val_accuracy) >= float(best_val_accuracy) - margin


def paper_setting_text(margin: float = PAPER_SETTING_MARGIN) -> str:
    """The paper's setting, in one sentence (the criterion of :func:`in_paper_setting`)."""
    return (f"the paper's setting is a teacher trained to convergence: a finished training run (not an earlier "
            f"checkpoint) with its own logits (not rescaled), whose validation accuracy is within {margin * 100:g} "
            f"percentage points of the best teacher of the same model")


def transfer_expectation(metric: str, method: str, paper_setting: bool) -> str | None:
    """What the knowledge-transfer view predicts for KD's effect on ``metric`` (accuracy ``'up'``, NLL and ECE
    ``'down'``), for KD from a teacher in the paper's setting; None otherwise."""
    if method != "kd" or not paper_setting:
        return None
    return TRANSFER_EXPECTATION.get(metric)


def kd_expectation(teacher_entropy: float, erm_entropy: float, negligible: float = NEGLIGIBLE_ENTROPY,
                   erm_half: float = 0.0) -> str | None:
    """The kit's KD prediction from validation entropies: ``'down'`` for a teacher more confident than the ERM
    students, ``'up'`` for a less confident one, None when the teacher lies within ``erm_half + negligible`` of the
    ERM mean (``erm_half``: the half-width of its 95% interval; NaN — one ERM seed — gives no prediction) or when
    either entropy is unknown."""
    values = (teacher_entropy, erm_entropy, erm_half)
    if any(v is None or math.isnan(float(v)) for v in values):
        return None
    if erm_half < 0 or negligible < 0:
        raise ValueError(f"erm_half and negligible must be >= 0, got {erm_half!r} and {negligible!r}")
    gap = float(teacher_entropy) - float(erm_entropy)
    if abs(gap) < negligible + float(erm_half):
        return None
    return "up" if gap > 0 else "down"


def kit_expectation(method: str, teacher_entropy: float | None = None, erm_entropy: float | None = None,
                    erm_half: float = 0.0) -> str | None:
    """The kit's prediction for one comparison: LS ``'up'``; KD :func:`kd_expectation`; None otherwise."""
    if method == "ls":
        return "up"
    if method == "kd":
        return kd_expectation(math.nan if teacher_entropy is None else teacher_entropy,
                              math.nan if erm_entropy is None else erm_entropy, erm_half=erm_half)
    return None


JUDGEMENTS = {
    "as predicted": "as predicted",
    "small": "in the predicted direction, but smaller than the negligible band",
    "opposite": "**the opposite of the prediction**",
    "opposite-small": "against the prediction, but smaller than the negligible band",
    "no change": "**no practical change** (the prediction is not confirmed)",
    "not confirmed": "not confirmed (the interval includes 0)",
    "not testable": "not testable",
    "outside": "outside the paper's setting (not judged against it)",
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
