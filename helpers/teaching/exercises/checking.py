"""The machinery every exercise shares; the exercises themselves are the other modules of this package.

An exercise module declares one :class:`Exercise`: its name, the notebook and the student's function it is about, its
visible self-check's cases, its classic mistakes (``key -> name``) and, between the lines ``# BEGIN INSTRUCTOR`` and
``# END INSTRUCTOR``, its :class:`Instructor` part: the worked solution, the hidden grading cases with their points and
the catalogue of wrong implementations. The student edition removes those blocks (:func:`strip_instructor`); every
module still imports, the self-checks still work, and the instructor part is ``None``.

A :class:`Case` is a name and a *judge*: a function that runs the student's function on the case (always through
:func:`call`) and raises :class:`Wrong` (a wrong answer, naming a classic mistake when it recognises one) or
:class:`NotYet` (the function is still the template). :func:`verdict` runs the visible cases in order and stops at the
first wrong one (a :class:`CheckResult`, whose message the notebook's ``check_<name>`` prints); :func:`grade` runs every
hidden case and gives each its points or none (an :class:`ExerciseGrade`).

:func:`call` also watches what the student's function runs: entering any of the kit's own functions (``helpers.*``,
however it was reached -- an alias, a wrapper, an imported name, a module attribute) is the mistake
:data:`KIT_WRAPPER`, except the modules an exercise allows (:attr:`Exercise.allowed`).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers.infrastructure.editions import BEGIN_INSTRUCTOR, END_INSTRUCTOR, strip_instructor

__all__ = ["LN2", "KIT_WRAPPER", "BEGIN_INSTRUCTOR", "END_INSTRUCTOR", "NotYet", "Wrong", "Case", "Instructor",
           "Exercise", "CheckResult", "CaseGrade", "ExerciseGrade", "call", "as_tensor", "close", "fmt",
           "expect_close", "verdict", "report", "grade", "strip_instructor"]

LN2 = math.log(2.0)
#: the mistake every exercise knows: the student's function runs the kit's own implementation
KIT_WRAPPER = "kit_wrapper"
_COMMON_MISTAKES = {KIT_WRAPPER: "called the kit's own implementation instead of writing it"}
_KIT_HINT = ("The exercise is to write it yourself (torch, numpy and scipy are fine); the kit's function is what the "
             "check compares with.")
#: code run by Python's machinery rather than by the student: importing a kit module, the flat API's look-up
_PLUMBING = frozenset({"<module>", "__getattr__", "__dir__"})


# ----------------------------------------------------------------------------- cases and outcomes


class NotYet(Exception):
    """The student's function is still the template (it returned ``None`` or ``...``)."""


class Wrong(Exception):
    """A wrong answer on one case: ``detail`` says what was found (expected and obtained values included),
    ``redacted`` the same without the expected values (what grading reports on a hidden case; ``detail`` if None),
    ``mistake`` the key of the classic mistake recognised (``""`` if none) and ``hint`` how to fix it."""

    def __init__(self, detail: str, mistake: str = "", hint: str = "", redacted: str | None = None):
        super().__init__(detail)
        self.detail, self.mistake, self.hint = detail, mistake, hint
        self.redacted = detail if redacted is None else redacted


@dataclass(frozen=True)
class Case:
    """One case: its name, its judge (runs the student's function on the case, raises :class:`Wrong` or
    :class:`NotYet`) and, for a hidden grading case, the points it is worth."""

    name: str
    judge: Callable[[Callable], None]
    points: float = 0.0


@dataclass(frozen=True)
class Instructor:
    """What only the instructor edition has: the worked ``solution`` (named like the student's function), the
    ``hidden`` grading cases (a function of the check's extra arguments, giving :class:`Case` objects with points) and
    the catalogue of ``wrong`` implementations written as students write them (description -> (function, the key of
    the mistake the checks must name, or ``""`` where none is known)); ``arguments()`` gives the check's extra arguments
    the catalogue is run with (a stand-in for the notebook's variables)."""

    solution: Callable
    hidden: Callable[..., list[Case]]
    wrong: Mapping[str, tuple[Callable, str]]
    arguments: Callable[[], tuple] = tuple


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``name`` (the check is ``check_<name>``), the ``notebook`` (its two-digit number) and the
    ``function`` the student writes there, the printed self-check ``check``, the classic ``mistakes`` (key -> name;
    :data:`KIT_WRAPPER` is added), the visible ``cases`` (a function of the check's extra ``arguments``: the names of
    the notebook variables the check also takes), the kit modules the student's function may call (``allowed``) and
    the :class:`Instructor` part (None in the student edition)."""

    name: str
    notebook: str
    function: str
    check: Callable[..., bool]
    mistakes: Mapping[str, str]
    cases: Callable[..., list[Case]]
    arguments: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    instructor: Instructor | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or getattr(self.check, "__name__", "") != f"check_{self.name}":
            raise ValueError(f"exercise {self.name!r}: its check must be a function named check_{self.name}")
        if not re.fullmatch(r"\d\d", self.notebook):
            raise ValueError(f"exercise {self.name!r}: notebook must be a two-digit number, got {self.notebook!r}")
        object.__setattr__(self, "mistakes", {**self.mistakes, **_COMMON_MISTAKES})

    @property
    def points(self) -> dict[str, float]:
        """Hidden case -> its points (the instructor edition only)."""
        return {case.name: case.points for case in _instructor(self).hidden()}

    @property
    def max_points(self) -> float:
        """The exercise's points: the sum over its hidden cases (the instructor edition only)."""
        return sum(self.points.values())


@dataclass(frozen=True)
class CheckResult:
    """The visible self-check's verdict as data: ``status`` ``"ok"`` (an answer was judged) or ``"blank"`` (the
    template); ``mistake`` the key of the classic mistake named (``""`` if none), ``mistake_name`` its name; ``message``
    what the check prints."""

    exercise: str
    passed: bool
    status: str
    mistake: str
    message: str
    mistake_name: str = ""


@dataclass(frozen=True)
class CaseGrade:
    """One hidden case's result: points earned of ``max_points``, the classic mistake named (None if none) and a
    message that does not show the expected values."""

    case: str
    passed: bool
    points: float
    max_points: float
    mistake: str | None
    message: str


@dataclass(frozen=True)
class ExerciseGrade:
    """One exercise graded on its hidden cases: ``status`` ``"ok"`` or ``"blank"`` (the template: no points)."""

    exercise: str
    status: str
    cases: tuple[CaseGrade, ...] = field(default_factory=tuple)

    @property
    def points(self) -> float:
        return sum(case.points for case in self.cases)

    @property
    def max_points(self) -> float:
        return sum(case.max_points for case in self.cases)

    @property
    def passed(self) -> bool:
        """Every hidden case right (full points)."""
        return self.status == "ok" and all(case.passed for case in self.cases)

    @property
    def mistakes(self) -> tuple[str, ...]:
        """The classic mistakes named, in case order, each once."""
        return tuple(dict.fromkeys(case.mistake for case in self.cases if case.mistake))


# ----------------------------------------------------------------------------- calling the student's function

_ALLOWED: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("allowed_kit_modules", default=())


def _is_kit(module: str) -> bool:
    return (module == "helpers" or module.startswith("helpers.")) and not module.startswith("helpers.teaching.exercises")


@contextlib.contextmanager
def _kit_calls(allowed: tuple[str, ...]) -> Iterator[list[str]]:
    """Collect the kit functions entered while the block runs (a profile hook: every Python call is seen, however
    the function was reached); calls inside an ``allowed`` module, or inside Python's import and look-up plumbing,
    are not counted, nor is anything they call."""
    entered: list[str] = []
    inside: list = []  # the frames of an allowed call in progress

    def profile(frame, event, _arg):
        if event == "call" and not inside:
            module = frame.f_globals.get("__name__", "")
            if not isinstance(module, str) or not _is_kit(module):
                return
            if module in allowed or frame.f_code.co_name in _PLUMBING:
                inside.append(frame)
            else:
                entered.append(f"{module}.{getattr(frame.f_code, 'co_qualname', frame.f_code.co_name)}")
        elif event == "return" and inside and frame is inside[-1]:
            inside.pop()

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield entered
    finally:
        sys.setprofile(previous)


def _name(fn: Callable) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def call(fn: Callable, case: str, *args, none_is_blank: bool = True):
    """``fn(*args)`` on copies of the tensors, as the student's answer to ``case``: a template (``None`` or ``...``,
    unless ``none_is_blank`` is False: an exercise whose answer may be None) raises :class:`NotYet`; an exception, or
    a call into the kit's own implementation, :class:`Wrong`."""
    args = tuple(a.clone() if isinstance(a, torch.Tensor) and not a.requires_grad else a for a in args)
    with _kit_calls(_ALLOWED.get()) as entered:
        try:
            out, raised = fn(*args), None
        except Exception as exc:  # the student's code: report, never let it escape
            out, raised = None, exc
    if entered:
        raise Wrong(f"case '{case}': your function runs the kit's own `{entered[0]}`.", KIT_WRAPPER, _KIT_HINT)
    if raised is not None:
        text = str(raised)
        hint = ("The input may be one example of shape (K,) or a batch (B, K): work on the last axis (dim=-1)."
                if "Dimension out of range" in text or "axis" in text else "")
        raise Wrong(f"case '{case}': your function raised {type(raised).__name__}: {text}", "", hint)
    if out is Ellipsis or (out is None and none_is_blank):
        raise NotYet
    return out


# ----------------------------------------------------------------------------- comparing


def as_tensor(out, case: str, what: str) -> torch.Tensor:
    """The student's answer as a float64 tensor (a tensor, a number, a tuple or a numpy array), or :class:`Wrong`."""
    try:
        if isinstance(out, torch.Tensor):
            return out.detach().double()
        return torch.as_tensor(np.asarray(out, dtype=float), dtype=torch.float64)
    except Exception:
        raise Wrong(f"case '{case}': your function returned {type(out).__name__} {out!r:.80}; expected {what}.") from None


def close(a, b, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """Same shape, finite where ``b`` is, and equal within ``atol + rtol·|b|``, elementwise."""
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def fmt(value) -> str:
    """A short rendering of a number or an array (4 significant digits, at most 6 numbers)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value, dtype=float)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    flat = array.reshape(-1)
    shown = ", ".join(f"{x:.4g}" for x in flat[:6]) + (", …" if flat.size > 6 else "")
    return f"[{shown}] (shape {tuple(array.shape)})"


def expect_close(case: str, got: torch.Tensor, expected: torch.Tensor, diagnose: Callable[[torch.Tensor], tuple[str, str]],
                 rtol: float = 1e-4, atol: float = 1e-6) -> None:
    """:class:`Wrong` unless ``got`` equals ``expected`` (same shape, within the tolerances); ``diagnose(got)`` gives
    the (mistake key, hint) the wrong answer shows, or ``("", "")``."""
    if close(got, expected, rtol, atol):
        return
    key, hint = diagnose(got)
    shape = "" if got.shape == expected.shape else f" (shape {tuple(got.shape)}, expected {tuple(expected.shape)})"
    raise Wrong(f"case '{case}': expected {fmt(expected)}, got {fmt(got)}.", key, hint,
                redacted=f"case '{case}': wrong answer{shape}.")


# ----------------------------------------------------------------------------- running an exercise


def _instructor(exercise: Exercise) -> Instructor:
    if exercise.instructor is None:
        raise RuntimeError(f"exercise {exercise.name!r}: this is the student edition of the kit, which has no "
                           "solutions and no grading cases; grade with the instructor edition")
    return exercise.instructor


def _named(exercise: Exercise, wrong: Wrong, text: str) -> str:
    if not wrong.mistake:
        return text + (f"\n   Hint: {wrong.hint}" if wrong.hint else "")
    return text + f"\n   Likely mistake: {exercise.mistakes[wrong.mistake]}. {wrong.hint}".rstrip()


def _judge(exercise: Exercise, case: Case, fn: Callable) -> None:
    token = _ALLOWED.set(exercise.allowed)
    try:
        with torch.random.fork_rng():  # a case may seed: leave the caller's random state as it was
            case.judge(fn)
    finally:
        _ALLOWED.reset(token)


def verdict(exercise: Exercise, fn: Callable, *arguments) -> CheckResult:
    """The visible self-check of ``fn``: its cases in order, up to the first wrong one. Never raises."""
    title = f"check_{exercise.name}({_name(fn)})"
    try:
        cases = exercise.cases(*arguments)
        for case in cases:
            _judge(exercise, case, fn)
    except NotYet:
        return CheckResult(exercise.name, False, "blank", "",
                           f"⏳ {title}: not implemented yet — fill in the blanks (...) and run this check again.")
    except Wrong as wrong:
        return CheckResult(exercise.name, False, "ok", wrong.mistake, _named(exercise, wrong, f"❌ {title}: {wrong.detail}"),
                           exercise.mistakes.get(wrong.mistake, ""))
    except Exception as exc:  # a surprising answer the check could not handle
        return CheckResult(exercise.name, False, "ok", "",
                           f"❌ {title}: could not check your answer ({type(exc).__name__}: {exc}).")
    return CheckResult(exercise.name, True, "ok", "",
                       f"✅ {title}: correct ({len(cases)} case{'' if len(cases) == 1 else 's'} checked).")


def report(exercise: Exercise, fn: Callable, *arguments) -> bool:
    """Print the self-check's verdict; True when every visible case is right."""
    result = verdict(exercise, fn, *arguments)
    print(result.message)
    return result.passed


def grade(exercise: Exercise, fn: Callable, *arguments) -> ExerciseGrade:
    """Grade ``fn`` on every hidden case (the instructor edition only; raises ``RuntimeError`` in the student's).
    Never raises for what the student's function does."""
    cases = _instructor(exercise).hidden(*arguments)
    grades, blank = [], 0
    for case in cases:
        try:
            _judge(exercise, case, fn)
        except NotYet:
            blank += 1
            grades.append(CaseGrade(case.name, False, 0.0, case.points, None, "not implemented yet"))
        except Wrong as wrong:
            grades.append(CaseGrade(case.name, False, 0.0, case.points, wrong.mistake or None,
                                    _named(exercise, wrong, wrong.redacted)))
        except Exception as exc:
            grades.append(CaseGrade(case.name, False, 0.0, case.points, None,
                                    f"case '{case.name}': could not check the answer ({type(exc).__name__}: {exc})"))
        else:
            grades.append(CaseGrade(case.name, True, case.points, case.points, None, "correct"))
    return ExerciseGrade(exercise.name, "blank" if cases and blank == len(cases) else "ok", tuple(grades))
