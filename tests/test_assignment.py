"""make assignment: the nbgrader source notebooks are generated from the worked solutions and the exercises' grading
cases; the student version keeps "Run all" going (an unfinished exercise says "not implemented yet", as in the kit's
notebooks), and the real nbgrader (offline, in a temporary course folder) gives each submission exactly the points
the kit's grading gives its functions, partial credit included."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.pipeline.assignment import (
    BEGIN, CONFIG, END, HIDDEN_BEGIN, HIDDEN_END, STUB, autograde_points, solution_body, with_solution,
    write_assignment,
)
from helpers.pipeline.submissions import exercises, grade_function, max_points

ROOT = Path(__file__).resolve().parents[1]
NB01 = "01_softmax_temperature_entropy"


def _graded_cells(path: Path) -> dict[str, dict]:
    notebook = nbformat.read(path, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: {**cell.metadata["nbgrader"], "source": cell.source}
            for cell in notebook.cells if "nbgrader" in cell.metadata}


def test_every_exercise_gets_a_solution_region_and_a_hidden_graded_test(tmp_path):
    written = write_assignment(tmp_path)
    found = exercises()
    assert {path.stem for path in written} == {e.notebook for e in found}
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert config == CONFIG and f'c.ClearSolutions.code_stub = {{"python": {STUB!r}}}' in config
    for path in written:
        cells = _graded_cells(path)
        for exercise in (e for e in found if e.notebook == path.stem):
            solution = cells[f"{exercise.name}_solution"]
            assert solution["solution"] and not solution["grade"]
            assert BEGIN in solution["source"] and END in solution["source"]
            assert solution_body(exercise.name)[1] in solution["source"]  # the worked solution, not a copy
            test = cells[f"{exercise.name}_test"]
            assert test["grade"] and test["locked"] and test["points"] == max_points(exercise.name) > 0
            hidden = test["source"].split(HIDDEN_BEGIN)[1].split(HIDDEN_END)[0]
            call = f"autograde_points({', '.join([repr(exercise.name), exercise.function, *exercise.arguments])})"
            assert hidden.strip().endswith(call), "the hidden test's last expression is the points earned"
    original = nbformat.read(ROOT / "notebooks" / f"{NB01}.ipynb", as_version=4)
    assert not any("nbgrader" in cell.metadata for cell in original.cells), "the kit's notebook itself is unchanged"


def test_the_solution_replaces_the_blank_and_keeps_the_imports_and_the_hint():
    cell = ("import torch.nn.functional as F\n\n\n"
            "def my_loss(student_logits, teacher_logits, targets, alpha, temperature):\n    ...  # your code here\n")
    filled = with_solution(cell, "distillation_loss", "my_loss", markers=False)
    assert filled.startswith("import torch.nn.functional as F\n\n\ndef my_loss(") and "your code here" not in filled
    with pytest.raises(ValueError, match="name their parameters differently"):
        with_solution("def f(x, y):\n    ...\n", "entropy", "f")
    hinted = with_solution("def f(probs):\n    ...  # your code here: return one entropy per row\n", "entropy", "f")
    assert hinted.startswith(f"def f(probs):\n    # return one entropy per row\n    {BEGIN}\n")
    plain = with_solution("def f(probs):\n    ...  # your code here\n", "entropy", "f")
    assert plain.startswith(f"def f(probs):\n    {BEGIN}\n")


def _log2_entropy(probs):
    import torch

    return -(probs * torch.log2(probs.clamp_min(1e-12))).sum(dim=-1)


def test_autograde_points_are_the_grading_points_and_write_nothing_to_stderr():
    from helpers.teaching.exercises import SOLUTIONS

    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        full = autograde_points("entropy", SOLUTIONS["entropy"][0])
        wrong = autograde_points("entropy", _log2_entropy)
        blank = autograde_points("entropy", lambda probs: None)
    assert full == max_points("entropy") and blank == 0
    assert wrong == grade_function("entropy", _log2_entropy)["points"] < full
    assert stderr.getvalue() == ""


def _nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                        "KDLS_PRESET": "smoke", "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=course, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


# a student who writes `torch.log2` for `torch.log` (the classic "entropy in bits"), and one whose softmax ignores
# the temperature: each loses the points of the grading cases that tell the mistake apart, no more
BROKEN = {"bits": ("entropy", "torch.log(", "torch.log2("),
          "no_temperature": ("softmax_with_temperature", "logits / temperature", "logits")}


@pytest.mark.slow
def test_nbgrader_student_version_runs_to_the_end_and_autograde_gives_exact_points(tmp_path):
    pytest.importorskip("nbgrader", reason="nbgrader is not installed (pip install -r requirements-grading.txt)")
    from nbclient import NotebookClient

    from helpers.pipeline.notebooks import preset_environment

    course = tmp_path / "course"
    write_assignment(course, ["01"])
    _nbgrader(course, "generate_assignment", NB01)
    released = course / "release" / NB01 / f"{NB01}.ipynb"
    text = released.read_text()
    assert BEGIN not in text and "NotImplementedError" not in text and "clamp_min(1e-12)" not in text
    assert "autograde_points" not in text and HIDDEN_BEGIN not in text, "the hidden tests are not handed out"
    specs = [e for e in exercises() if e.notebook == NB01]

    # "Run all" on the unfinished student version reaches the last cell: no exception stops it
    unfinished = nbformat.read(released, as_version=4)
    for exercise in specs:
        (cell,) = [c for c in unfinished.cells if c.cell_type == "code" and f"def {exercise.function}(" in c.source]
        assert cell.source.rstrip().endswith(STUB), cell.source
    client = NotebookClient(unfinished, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(released.parent)}})
    with preset_environment("smoke"):
        client.execute()
    code = [cell for cell in unfinished.cells if cell.cell_type == "code"]
    assert code[-1].get("execution_count"), "the last cell ran"
    printed = "".join(output.get("text", "") for cell in code for output in cell.outputs)
    assert printed.count("not implemented yet") >= len(specs)

    def hand_in(student: str, broken: str | None) -> dict[str, float]:
        """Write ``student``'s submission; the points the kit's grading gives each of its functions."""
        notebook = nbformat.read(released, as_version=4)
        earned = {}
        for exercise in specs:
            (cell,) = [c for c in notebook.cells if c.cell_type == "code" and f"def {exercise.function}(" in c.source]
            if student != "blank":
                cell.source = with_solution(cell.source, exercise.name, exercise.function, markers=False)
            if broken and BROKEN[broken][0] == exercise.name:
                _, old, new = BROKEN[broken]
                assert old in cell.source
                cell.source = cell.source.replace(old, new)
            namespace: dict = {}
            exec("import torch\n" + cell.source, namespace)  # the notebook imported torch in an earlier cell
            earned[exercise.name] = grade_function(exercise.name, namespace[exercise.function])["points"]
        if student == "good":
            assert earned == {e.name: max_points(e.name) for e in specs}
        target = course / "submitted" / student / NB01 / f"{NB01}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
        return earned

    expected = {"good": hand_in("good", None), "bits": hand_in("bits", "bits"),
                "no_temperature": hand_in("no_temperature", "no_temperature"), "blank": hand_in("blank", None)}
    assert sum(expected["blank"].values()) == 0
    _nbgrader(course, "autograde", NB01)
    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as handle:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(handle)}
    total = sum(max_points(e.name) for e in specs)
    assert scores == {student: (pytest.approx(sum(points.values())), total) for student, points in expected.items()}

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, points in expected.items():
            for exercise in specs:
                grade = gradebook.find_grade(f"{exercise.name}_test", NB01, NB01, student)
                assert grade.score == pytest.approx(points[exercise.name]), (student, exercise.name)
    assert expected["bits"]["entropy"] < max_points("entropy")
    assert 0 < expected["no_temperature"]["softmax_with_temperature"] < max_points("softmax_with_temperature"), \
        "partial credit: some grading cases pass"
    shutil.rmtree(course / "autograded")
