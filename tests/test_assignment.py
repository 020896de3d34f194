"""make assignment: the nbgrader source notebooks are generated from the worked solutions and the kit's checks, and the
real nbgrader (offline, in a temporary course folder) gives a correct submission full marks and takes from a wrong one
exactly the points of its broken exercise."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.pipeline.assignment import BEGIN, END, POINTS, points, solution_body, with_solution, write_assignment
from helpers.pipeline.grade import exercises

ROOT = Path(__file__).resolve().parents[1]
NB01 = "01_softmax_temperature_entropy"


def _graded_cells(path: Path) -> dict[str, dict]:
    notebook = nbformat.read(path, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: {**cell.metadata["nbgrader"], "source": cell.source}
            for cell in notebook.cells if "nbgrader" in cell.metadata}


def test_every_exercise_gets_a_solution_region_and_a_graded_check(tmp_path):
    written = write_assignment(tmp_path)
    found = exercises()
    assert {path.stem for path in written} == {e.notebook for e in found}
    assert (tmp_path / "nbgrader_config.py").is_file()
    for path in written:
        cells = _graded_cells(path)
        for exercise in (e for e in found if e.notebook == path.stem):
            solution = cells[f"{exercise.name}_solution"]
            assert solution["solution"] and not solution["grade"]
            assert BEGIN in solution["source"] and END in solution["source"]
            assert solution_body(exercise.name)[1] in solution["source"]  # the worked solution, not a copy
            test = cells[f"{exercise.name}_test"]
            assert test["grade"] and test["locked"] and test["points"] == points(exercise.name)
            assert f"check_{exercise.name}({', '.join([exercise.function, *exercise.arguments])})" in test["source"]
    assert set(POINTS) >= {e.name for e in found}, "every exercise has its points in helpers.pipeline.assignment.POINTS"
    original = nbformat.read(ROOT / "notebooks" / f"{NB01}.ipynb", as_version=4)
    assert not any("nbgrader" in cell.metadata for cell in original.cells), "the kit's notebook itself is unchanged"


def test_the_solution_replaces_the_blank_and_keeps_the_imports():
    cell = ("import torch.nn.functional as F\n\n\n"
            "def my_loss(student_logits, teacher_logits, targets, alpha, temperature):\n    ...  # your code here\n")
    filled = with_solution(cell, "distillation_loss", "my_loss", markers=False)
    assert filled.startswith("import torch.nn.functional as F\n\n\ndef my_loss(") and "your code here" not in filled
    with pytest.raises(ValueError, match="name their parameters differently"):
        with_solution("def f(x, y):\n    ...\n", "entropy", "f")


def _nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        "KDLS_PRESET": "smoke", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=course, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_nbgrader_grades_a_correct_and_a_wrong_submission(tmp_path):
    pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install -r requirements-grading.txt)")
    course = tmp_path / "course"
    write_assignment(course, ["01"])
    _nbgrader(course, "generate_assignment", NB01)
    released = course / "release" / NB01 / f"{NB01}.ipynb"
    text = released.read_text()
    assert BEGIN not in text and "raise NotImplementedError()" in text and "clamp_min(1e-12)" not in text

    specs = [e for e in exercises() if e.notebook == NB01]

    def hand_in(student: str, broken: str | None) -> None:
        notebook = nbformat.read(released, as_version=4)
        for exercise in specs:
            (cell,) = [c for c in notebook.cells if c.cell_type == "code" and f"def {exercise.function}(" in c.source]
            cell.source = with_solution(cell.source, exercise.name, exercise.function, markers=False)
            if exercise.name == broken:  # the classic mistake: entropy in bits
                cell.source = cell.source.replace("torch.log(", "torch.log2(")
                assert "log2" in cell.source
        target = course / "submitted" / student / NB01 / f"{NB01}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)

    hand_in("good", None)
    hand_in("wrong", "entropy")
    _nbgrader(course, "autograde", NB01)
    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(handle)}
    total = sum(points(e.name) for e in specs)
    assert scores == {"good": (total, total), "wrong": (total - points("entropy"), total)}

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, lost in (("good", None), ("wrong", "entropy")):
            for exercise in specs:
                grade = gradebook.find_grade(f"{exercise.name}_test", NB01, NB01, student)
                assert grade.score == (0 if exercise.name == lost else points(exercise.name)), (student, exercise)
    shutil.rmtree(course / "autograded")
