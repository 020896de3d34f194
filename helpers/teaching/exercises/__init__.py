"""Hands-on exercises with self-checks, and their worked solutions (the only copy of them).

How an exercise works in a notebook
-----------------------------------
1. A code cell defines a function with blanks, e.g.::

       def entropy(probs):
           ...  # your code here

   A blank function returns ``None``: the notebook keeps running.
2. The next cell calls a check, e.g. ``check_entropy(entropy)``. A check runs the student's function
   on a few prepared cases, compares with the kit's own implementation (:mod:`helpers.maths.losses`,
   :mod:`helpers.maths.metrics`, :mod:`helpers.maths.calibration`), **prints** what it found and **returns**
   ``True`` (all cases pass) or ``False``. It never raises: a blank prints "not implemented yet",
   an exception raised by the student's function is reported with the case that raised it, and a
   wrong answer is reported with the case, the expected and the obtained values and -- when the
   answer matches a classic mistake -- the mistake's name and a hint (see :data:`MISTAKES`).
3. Worked solutions live in :data:`SOLUTIONS` (reference implementations written the way a student
   would, each passing its check); ``show_solution("entropy")`` prints one.

Conventions are the kit's (README): natural logarithms (nats), batch means, ``alpha`` weights the
soft part, LS = PyTorch's ``label_smoothing`` (uniform over **all** K classes), KD =
``(1-alpha)*CE(y, p_s) + alpha*tau**2*KL(p_t^tau || p_s^tau)`` with a "batchmean" KL and no
gradient into the teacher.

Modules: one per notebook, each holding that notebook's checks (cases, mutants, hints) with their worked
solutions beside them -- ``softmax_entropy`` (01), ``label_smoothing`` (02), ``distillation`` (03),
``calibration`` (04: ECE, temperature scaling), ``kd_step_and_interval`` (06: one KD training step, a paired
95% interval) and ``kd_direction`` (07) -- above ``checking``, the machinery they share (cases, calling the
student's function, naming a mistake, printing one verdict; :data:`MISTAKES`; :class:`CheckResult`). This
package's face registers each exercise in :data:`SOLUTIONS` and runs a check by name (:func:`run_check`).
A new exercise: its check and solution go in its notebook's module, its mistakes' names in
``checking.MISTAKES``, its entry in :data:`SOLUTIONS` here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from helpers.teaching.exercises.calibration import (
    check_expected_calibration_error, check_temperature_scaling, expected_calibration_error_solution,
    temperature_scaling_solution,
)
from helpers.teaching.exercises.checking import MISTAKES, CheckResult, named_mistake
from helpers.teaching.exercises.distillation import check_distillation_loss, distillation_loss_solution
from helpers.teaching.exercises.kd_direction import check_kd_direction_prediction, kd_direction_prediction_solution
from helpers.teaching.exercises.kd_step_and_interval import (
    check_kd_training_step, check_paired_interval, kd_training_step_solution, paired_interval_solution,
)
from helpers.teaching.exercises.label_smoothing import check_label_smoothing_loss, label_smoothing_loss_solution
from helpers.teaching.exercises.softmax_entropy import (
    check_entropy, check_softmax_with_temperature, entropy_solution, softmax_with_temperature_solution,
)

__all__ = [
    "MISTAKES",
    "SOLUTIONS",
    "show_solution",
    "check_softmax_with_temperature",
    "check_entropy",
    "check_label_smoothing_loss",
    "check_distillation_loss",
    "check_expected_calibration_error",
    "check_temperature_scaling",
    "check_kd_training_step",
    "check_paired_interval",
    "check_kd_direction_prediction",
]


#: exercise name -> (worked solution, its check)
SOLUTIONS: dict[str, tuple[Callable, Callable]] = {
    "softmax_with_temperature": (softmax_with_temperature_solution, check_softmax_with_temperature),
    "entropy": (entropy_solution, check_entropy),
    "label_smoothing_loss": (label_smoothing_loss_solution, check_label_smoothing_loss),
    "distillation_loss": (distillation_loss_solution, check_distillation_loss),
    "expected_calibration_error": (expected_calibration_error_solution, check_expected_calibration_error),
    "temperature_scaling": (temperature_scaling_solution, check_temperature_scaling),
    "kd_training_step": (kd_training_step_solution, check_kd_training_step),
    "paired_interval": (paired_interval_solution, check_paired_interval),
    "kd_direction_prediction": (kd_direction_prediction_solution, check_kd_direction_prediction),
}


def show_solution(name: str) -> None:
    """Print the worked solution of exercise ``name`` (a key of :data:`SOLUTIONS`)."""
    if name not in SOLUTIONS:
        raise ValueError(f"unknown exercise {name!r}; exercises are {sorted(SOLUTIONS)}")
    print(inspect.getsource(SOLUTIONS[name][0]))


def solution_names() -> Sequence[str]:
    return tuple(SOLUTIONS)


def run_check(exercise: str, function: Callable, *arguments) -> CheckResult:
    """Run exercise ``exercise``'s check on ``function`` (extra ``arguments`` go to the check, e.g. the test split of
    ``check_temperature_scaling``) without printing; the verdict as a :class:`CheckResult`."""
    import contextlib
    import io

    if exercise not in SOLUTIONS:
        raise ValueError(f"unknown exercise {exercise!r}; exercises are {sorted(SOLUTIONS)}")
    check = SOLUTIONS[exercise][1]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        passed = bool(check(function, *arguments))
    message = printed.getvalue().strip()
    blank = not passed and message.startswith("⏳")
    return CheckResult(exercise, passed, "blank" if blank else "ok", "" if passed else named_mistake(exercise, message),
                       message)
