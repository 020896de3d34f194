"""The slider apps' defaults, ranges and labels: one place read by the Python apps (:mod:`helpers.teaching.widgets`)
and their browser twins (:mod:`helpers.teaching.live_charts`), so that both start from the same view, move over the
same values, and an executed notebook's app is recognised by its sliders' labels (:data:`APP_SLIDERS`).

Ranges are ``(low, high)``; a temperature slider moves in steps of :data:`LOG_STEP` in ``log10`` of the temperature.
"""

from __future__ import annotations

import math

__all__ = [
    "TEMPERATURE_APP_LOGITS", "TEMPERATURE_APP_RANGE", "TEMPERATURE_APP_LOGIT_RANGE",
    "LS_APP_ALPHA", "LS_APP_NUM_CLASSES", "LS_APP_MAX_CLASSES",
    "KD_APP_TEACHER_LOGITS", "KD_APP_CONFIDENCE", "KD_APP_TEMPERATURE", "KD_APP_ALPHA", "KD_APP_TEMPERATURE_RANGE",
    "CALIBRATION_APP_BINS", "CALIBRATION_APP_TEMPERATURE", "CALIBRATION_APP_RANGE",
    "LOG_STEP", "APP_SLIDERS", "kd_confidence_range",
]

TEMPERATURE_APP_LOGITS: tuple[float, ...] = (2.0, 1.0, 0.1, -1.0)  # notebook 01
TEMPERATURE_APP_RANGE: tuple[float, float] = (0.01, 100.0)
TEMPERATURE_APP_LOGIT_RANGE: tuple[float, float] = (-6.0, 6.0)  # step 0.1
LS_APP_ALPHA = 0.1  # notebook 02
LS_APP_NUM_CLASSES = 6
LS_APP_MAX_CLASSES = 20
KD_APP_TEACHER_LOGITS: tuple[float, ...] = (4.0, 2.0, 1.0, 0.0, -1.0, -2.0)  # notebook 03
KD_APP_CONFIDENCE = 0.9
KD_APP_TEMPERATURE = 1.0
KD_APP_ALPHA = 0.5
KD_APP_TEMPERATURE_RANGE: tuple[float, float] = (1.0, 20.0)
CALIBRATION_APP_BINS = 15  # notebook 04
CALIBRATION_APP_TEMPERATURE = 1.0
CALIBRATION_APP_RANGE: tuple[float, float] = (0.1, 10.0)

LOG_STEP = 0.01  # a temperature slider's step, in log10(temperature)

# the slider labels each app shows, by which an executed notebook's app is recognised (its saved widget state)
APP_SLIDERS: dict[str, tuple[str, ...]] = {
    "temperature": ("temperature τ", "logit z0", "logit z1"),
    "label_smoothing": ("smoothing α", "classes K"),
    "distillation": ("teacher confidence (τ=1)", "temperature τ", "soft weight α"),
    "calibration": ("temperature T",),
}


def kd_confidence_range(num_classes: int) -> tuple[float, float]:
    """The teacher-confidence slider's ends for ``num_classes`` classes: ``ceil(100/K)/100`` (just above uniform,
    on the slider's 0.01 grid) to 0.99."""
    return math.ceil(100.0 / num_classes) / 100.0, 0.99
