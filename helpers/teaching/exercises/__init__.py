"""Hands-on exercises: self-checks for the notebooks, hidden grading cases, worked solutions.

How an exercise works in a notebook
-----------------------------------
1. A code cell defines a function with blanks, e.g.::

       def entropy_in_nats(probs):
           ...  # your code here

   A blank function returns ``None``: the notebook keeps running.
2. The next cell calls its check, e.g. ``check_entropy(entropy_in_nats)``. The check runs the student's function on
   its visible cases (ordinary ones and adversarial ones: mixed scales, probabilities near 0 and 1, ties, edge bins,
   and a seeded random batch compared with an independent reference), **prints** one verdict and **returns** True or
   False. It never raises: a blank prints "not implemented yet", an exception is reported with its case, a wrong answer
   with its case, the expected and the obtained values and -- when it matches a classic mistake -- the mistake's name
   and a hint. A function that runs the kit's own implementation (``helpers.*``, however it is reached) is a mistake.
3. Grading (:func:`grade_exercise`, instructor edition) runs *hidden* cases, different from the visible ones, each
   worth points (partial credit); ``show_solution("entropy")`` prints the worked solution.

Conventions are the kit's (README): natural logarithms (nats), batch means, ``alpha`` weights the soft part, LS =
PyTorch's ``label_smoothing`` (uniform over **all** K classes), KD =
``(1-alpha)*CE(y, p_s) + alpha*tau**2*KL(p_t^tau || p_s^tau)`` with a "batchmean" KL and no gradient into the teacher.

Adding an exercise is one module here (plus its notebook cell): it declares ``EXERCISE = Exercise(...)``
(:class:`~helpers.teaching.exercises.checking.Exercise`: its check, mistakes, visible cases and, between
``# BEGIN INSTRUCTOR`` / ``# END INSTRUCTOR``, the solution, the hidden cases with their points and the catalogue of
wrong implementations). This package finds every module (``checking`` is the shared machinery), registers its exercise
in :data:`EXERCISES` and lends its ``check_<name>`` as an attribute listed in ``__all__`` (and so in the flat API,
``from helpers import check_<name>``); the grader and the nbgrader export read :data:`EXERCISES`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from helpers.teaching.exercises.checking import (
    CaseGrade, CheckResult, Exercise, ExerciseGrade, grade, strip_instructor, verdict,
)

_MACHINERY = ("checking",)
NO_SOLUTIONS = "This is the student edition of the kit: it has no worked solutions (ask your instructor)."


def _discover() -> dict[str, Exercise]:
    """Every exercise module of this package -> its ``EXERCISE``, sorted by notebook, then name."""
    found: dict[str, Exercise] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in _MACHINERY or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        exercise = getattr(module, "EXERCISE", None)
        if not isinstance(exercise, Exercise):
            raise ImportError(f"{module.__name__} defines no EXERCISE = Exercise(...): every module of "
                              f"{__name__} other than {', '.join(_MACHINERY)} is one exercise")
        if exercise.name in found:
            raise ImportError(f"two exercise modules declare the exercise {exercise.name!r}")
        found[exercise.name] = exercise
    return dict(sorted(found.items(), key=lambda item: (item[1].notebook, item[0])))


#: exercise name -> its :class:`Exercise` (every module of this package but the machinery)
EXERCISES: dict[str, Exercise] = _discover()
#: exercise name -> its classic mistakes (key -> the name a check prints)
MISTAKES: dict[str, dict[str, str]] = {name: dict(e.mistakes) for name, e in EXERCISES.items()}
#: exercise name -> (worked solution, its check); empty in the student edition
SOLUTIONS: dict[str, tuple[Callable, Callable]] = {
    name: (e.instructor.solution, e.check) for name, e in EXERCISES.items() if e.instructor is not None}

globals().update({e.check.__name__: e.check for e in EXERCISES.values()})
__all__ = ["EXERCISES", "MISTAKES", "SOLUTIONS", "Exercise", "CheckResult", "CaseGrade", "ExerciseGrade",
           "show_solution", "run_check", "grade_exercise", "strip_instructor",
           *(e.check.__name__ for e in EXERCISES.values())]


def _exercise(name: str) -> Exercise:
    if name not in EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; exercises are {', '.join(EXERCISES)}")
    return EXERCISES[name]


def show_solution(name: str) -> None:
    """Print the worked solution of exercise ``name`` (one line saying there is none, in the student edition)."""
    import inspect

    exercise = _exercise(name)
    print(NO_SOLUTIONS if exercise.instructor is None else inspect.getsource(exercise.instructor.solution))


def run_check(name: str, function: Callable, *arguments) -> CheckResult:
    """Exercise ``name``'s visible self-check of ``function`` (``arguments``: the notebook variables the check also
    takes, e.g. the test split of ``check_temperature_scaling``), without printing."""
    return verdict(_exercise(name), function, *arguments)


def grade_exercise(name: str, function: Callable, *arguments) -> ExerciseGrade:
    """Grade ``function`` on exercise ``name``'s hidden cases: per case, passed, points earned of its maximum, the
    classic mistake named (or None) and a message without the expected values. Never raises for what ``function``
    does; raises ``RuntimeError`` in the student edition (no hidden cases) and ``ValueError`` for an unknown name."""
    return grade(_exercise(name), function, *arguments)
