"""Mutation testing of the exercises' checks.

Every exercise module carries, in its instructor block, a catalogue of at least eight wrong implementations written as
students write them (the mistakes TEACHING.md lists, off-by-one and wrong-axis errors, numerically unstable variants,
clamping, edge values, both sides of every band, and wrapping the kit's own function). Each one must fail the visible
self-check AND lose points in hidden grading, and both must name its mistake where the catalogue says which; the worked
solution passes both with full points. The score table is printed (``pytest -s``) and written to
``build/mutation-score.md``.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.teaching.exercises import EXERCISES, grade_exercise, run_check
from helpers.teaching.exercises.checking import KIT_WRAPPER

pytestmark = [pytest.mark.usefixtures("single_torch_thread"),
              pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),  # mutants, on purpose
              pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")]
NAMES = list(EXERCISES)
TABLE = Path(__file__).resolve().parents[1] / "build" / "mutation-score.md"


@dataclass(frozen=True)
class Mutant:
    exercise: str
    description: str
    expected: str  # the mistake the checks must name ("" where none is known)
    check_passed: bool
    check_named: str
    points: float
    max_points: float
    grade_named: tuple[str, ...]

    @property
    def killed_by_check(self) -> bool:
        return not self.check_passed and (not self.expected or self.check_named == self.expected)

    @property
    def killed_by_grading(self) -> bool:
        return self.points < self.max_points and (not self.expected or self.expected in self.grade_named)

    @property
    def killed(self) -> bool:
        return self.killed_by_check and self.killed_by_grading


@functools.cache
def _mutants(name: str) -> tuple[Mutant, ...]:
    exercise = EXERCISES[name]
    arguments = exercise.instructor.arguments()
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for description, (wrong, expected) in exercise.instructor.wrong.items():
            check = run_check(name, wrong, *arguments)
            grade = grade_exercise(name, wrong, *arguments)
            found.append(Mutant(name, description, expected, check.passed, check.mistake, grade.points,
                                grade.max_points, grade.mistakes))
    return tuple(found)


def _table(names: list[str]) -> str:
    lines = ["| exercise | wrong implementations | killed by the self-check | killed by grading | killed by both "
             "(mistake named) | score |", "|---|---|---|---|---|---|"]
    for name in names:
        mutants = _mutants(name)
        both = sum(m.killed for m in mutants)
        lines.append(f"| {name} | {len(mutants)} | {sum(m.killed_by_check for m in mutants)} | "
                     f"{sum(m.killed_by_grading for m in mutants)} | {both} | {both / len(mutants):.0%} |")
    details = ["", "| exercise | wrong implementation | mistake expected | self-check names | grading: points, "
               "mistakes named |", "|---|---|---|---|---|"]
    for name in names:
        for m in _mutants(name):
            details.append(f"| {name} | {m.description.replace('|', chr(92) + '|')} | {m.expected or '—'} | "
                           f"{'passed!' if m.check_passed else m.check_named or '—'} | "
                           f"{m.points:g} of {m.max_points:g}, {', '.join(m.grade_named) or '—'} |")
    return "\n".join(lines + details) + "\n"


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_a_catalogue_of_at_least_eight_wrong_implementations(name):
    wrong = EXERCISES[name].instructor.wrong
    assert len(wrong) >= 8, f"{name}: {len(wrong)} wrong implementations"
    assert any(key == KIT_WRAPPER for _, key in wrong.values()), f"{name}: no wrapper of the kit's own function"
    assert {key for _, key in wrong.values()} - {""} <= set(EXERCISES[name].mistakes)


@pytest.mark.parametrize("name", NAMES)
def test_the_worked_solution_passes_the_check_and_gets_full_points(name):
    exercise = EXERCISES[name]
    solution, arguments = exercise.instructor.solution, exercise.instructor.arguments()
    assert run_check(name, solution, *arguments).passed
    grade = grade_exercise(name, solution, *arguments)
    assert grade.passed and grade.points == grade.max_points == exercise.max_points > 0


@pytest.mark.parametrize("name", NAMES)
def test_every_wrong_implementation_fails_the_check_and_loses_points_naming_its_mistake(name):
    survivors = [m for m in _mutants(name) if not m.killed]
    assert not survivors, "\n".join(
        f"{m.description}: expected {m.expected or 'any mistake'}; self-check "
        f"{'passed' if m.check_passed else 'named ' + repr(m.check_named)}; grading {m.points:g}/{m.max_points:g} "
        f"named {m.grade_named}" for m in survivors)


def test_mutation_score_table():
    """The table for the closing note: printed, and written to build/mutation-score.md."""
    table = _table(NAMES)
    print("\n" + table)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(table, encoding="utf-8")
    assert all(m.killed for name in NAMES for m in _mutants(name))
