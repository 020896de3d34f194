"""python -m helpers.grade: a crafted class, built here from the real exercise notebooks, gets exactly the rows it
deserves, and no bad submission crashes or hangs the grading run.

The class: a correct submission (the worked solutions of helpers.teaching.exercises.SOLUTIONS), every classic mistake of
notebook 01's two checks and one of notebook 02's, a function left blank, a notebook that raises, one that loops
forever, one with its exercise cells deleted, one with a renamed function, a file that is not JSON and an empty file.
Every classic mistake of every check is named through ``run_check`` (fast, in process), with the mistakes written
independently in tests/test_exercises.py.
"""

from __future__ import annotations

import csv
import importlib
import inspect
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.pipeline.assignment import solution_body
from helpers.teaching.exercises import MISTAKES, SOLUTIONS, run_check
from helpers.pipeline.grade import COLUMNS, Row, exercises, feedback_markdown, identify, namespace_report, summary

ROOT = Path(__file__).resolve().parents[1]
NB01 = ROOT / "notebooks" / "01_softmax_temperature_entropy.ipynb"
NB02 = ROOT / "notebooks" / "02_label_smoothing.ipynb"
S01, S02 = NB01.stem, NB02.stem

# ------------------------------------------------------------------------------------ the students' answers

MISTAKEN = {  # (exercise, mistake key) -> the body a student wrote
    ("softmax_with_temperature", "multiplied"): "return torch.softmax(logits * temperature, dim=-1)",
    ("softmax_with_temperature", "ignored"): "return torch.softmax(logits, dim=-1)",
    ("softmax_with_temperature", "axis"): "return torch.softmax(logits / temperature, dim=0)",
    ("softmax_with_temperature", "overflow"): "e = torch.exp(logits / temperature)\n    return e / e.sum(-1, keepdim=True)",
    ("softmax_with_temperature", "unnormalised"): "return torch.exp(logits / temperature)",
    ("entropy", "log2"): "return -(probs * probs.clamp_min(1e-12).log2()).sum(-1)",
    ("entropy", "axis"): "return -(probs * probs.clamp_min(1e-12).log()).sum(0)",
    ("entropy", "nan"): "return -(probs * probs.log()).sum(-1)",
    ("entropy", "mean"): "return -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()",
    ("entropy", "sign"): "return (probs * probs.clamp_min(1e-12).log()).sum(-1)",
    ("label_smoothing_loss", "k_minus_1"): (
        "k = logits.shape[-1]\n    q = torch.full_like(logits, alpha / (k - 1))\n"
        "    q[torch.arange(len(targets)), targets] = 1 - alpha\n"
        "    return -(q * torch.log_softmax(logits, -1)).sum(-1).mean()"),
}
FUNCTIONS = {e.name: e for e in exercises()}  # exercise -> its notebook, function name, check arguments


def _cell(exercise: str, body: str | None, function: str | None = None) -> str:
    """A complete exercise cell: the notebook's function name, the worked solution's body if ``body`` is None."""
    spec = FUNCTIONS[exercise]
    names, solution = solution_body(exercise)
    text = solution if body is None else "    " + body
    return f"import torch\n\n\ndef {function or spec.function}({', '.join(names)}):\n{text}\n"


def _define(source: str, name: str):
    namespace: dict = {}
    exec(compile(source, "<student>", "exec"), namespace)
    return namespace[name]


def _expected_check(exercise: str, source: str) -> tuple[bool, str, str, str]:
    """(passed, mistake, one-line message, status) that run_check gives for the function ``source`` defines."""
    result = run_check(exercise, _define(source, FUNCTIONS[exercise].function))
    return result.passed, result.mistake, " ".join(line.strip() for line in result.message.splitlines()
                                                   if line.strip()), result.status


def _notebook(path: Path, answers: dict[str, str]):
    notebook = nbformat.read(path, as_version=4)
    for exercise, source in answers.items():
        function = FUNCTIONS[exercise].function
        (cell,) = [c for c in notebook.cells if c.cell_type == "code" and f"def {function}(" in c.source]
        cell.source = source
    return notebook


def _new_cell(notebook, source: str):
    cell = nbformat.v4.new_code_cell(source)
    if notebook.nbformat_minor < 5:  # cell ids came with nbformat 4.5
        cell.pop("id", None)
    return cell


def _first_code_index(notebook) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")


# ------------------------------------------------------------------------------------ fast: the pieces


def test_exercises_are_read_from_the_notebooks():
    found = exercises()
    assert {e.name for e in found} <= set(SOLUTIONS)
    by_name = {e.name: e for e in found}
    assert by_name["softmax_with_temperature"].function == "softmax_with_temperature"
    assert by_name["entropy"].function == "entropy_in_nats" and by_name["entropy"].notebook == S01
    assert by_name["temperature_scaling"].arguments == ("test_logits", "test_labels")
    assert by_name["kd_training_step"].notebook == "06_erm_ls_kd"
    assert {"softmax_with_temperature", "entropy", "label_smoothing_loss", "distillation_loss",
            "expected_calibration_error", "temperature_scaling", "kd_training_step"} <= set(by_name)


def _mistake_cases():
    """(exercise, mutant, key) of every `test_*_mistakes_are_named` in tests/test_exercises.py."""
    module = importlib.import_module("test_exercises")
    cases = []
    for name, test in vars(module).items():
        if not (name.startswith("test_") and name.endswith("_mistakes_are_named")):
            continue
        source = inspect.getsource(test)
        match = (re.search(r'_assert_named\(exercises\.check_\w+, mutant, key, "(\w+)", capsys\)', source)
                 or re.search(r'MISTAKES\["(\w+)"\]\[key\]', source))
        assert match, name
        for mark in test.pytestmark:
            if mark.name == "parametrize":
                cases += [(match[1], mutant, key) for mutant, key in mark.args[1]]
    return cases


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_run_check_names_every_classic_mistake():
    cases = _mistake_cases()
    assert {exercise for exercise, _, _ in cases} == set(MISTAKES) & set(SOLUTIONS)
    exact = 0
    for exercise, mutant, key in cases:
        result = run_check(exercise, mutant)
        assert (result.passed, result.status) == (False, "ok"), (exercise, key, result)
        # the mistake the message names first; a message may name a second one (e.g. ignoring the data, "if you
        # maximised accuracy: ...")
        assert result.mistake and MISTAKES[exercise][key] in result.message, (exercise, key, result.message)
        exact += result.mistake_name == MISTAKES[exercise][key]
        (reported,) = namespace_report({"answer": mutant}, [[exercise, "answer", []]])
        assert (reported["mistake"], reported["status"]) == (result.mistake, "ok")
    assert exact >= len(cases) - 1, f"{exact} of {len(cases)} mistakes named first"


def test_run_check_on_a_solution_and_a_blank():
    for exercise, (solution, _) in SOLUTIONS.items():
        if exercise in FUNCTIONS and exercise != "kd_training_step":
            assert run_check(exercise, solution).passed, exercise
    blank = run_check("entropy", lambda probs: None)
    assert (blank.passed, blank.status, blank.mistake) == (False, "blank", "")


def test_a_missing_or_renamed_function_is_reported():
    report = namespace_report({"my_entropy": lambda p: p, "entropy_in_nats": 3},
                              [["entropy", "entropy_in_nats", []], ["softmax_with_temperature", "softmax", []]])
    assert [r["status"] for r in report] == ["missing-function", "missing-function"]
    assert "`entropy_in_nats` is a int" in report[0]["message"]


def test_identify_by_title_checks_or_file_name(tmp_path):
    notebook = nbformat.read(NB02, as_version=4)
    assert identify(tmp_path / "alice.ipynb", notebook) == S02
    assert identify(tmp_path / "bob_01.ipynb", None) == S01
    assert identify(tmp_path / "carol.ipynb", None) is None


def test_feedback_and_summary():
    rows = [Row("ann", S01, "entropy", False, "log2", "❌ wrong. Likely mistake: log base 2.", "ok"),
            Row("ann", S01, "softmax_with_temperature", True, "", "✅ correct", "ok")]
    text = feedback_markdown("ann", rows)
    assert "1 of 2 exercises pass" in text and "| log base 2 |" in text and "## entropy" in text
    assert "log base 2 (1)" in summary(rows)


# ------------------------------------------------------------------------------------ slow: a whole class


def _class(folder: Path) -> dict[str, list[tuple]]:
    """Write the class into ``folder``; the expected CSV rows of each student (without the header)."""
    expected: dict[str, list[tuple]] = {}

    def row(student, notebook, exercise, passed, mistake, message, status):
        expected.setdefault(student, []).append((student, notebook, exercise, str(passed), mistake, message, status))

    def submit(student, source_notebook, answers, notes="", status=None, edit=None):
        notebook = _notebook(source_notebook, answers)
        if edit:
            edit(notebook)
        nbformat.write(notebook, folder / f"{student}.ipynb")
        for exercise in [e for e, spec in FUNCTIONS.items() if spec.notebook == source_notebook.stem]:
            if exercise in answers:
                passed, mistake, message, check_status = _expected_check(exercise, answers[exercise])
            else:
                passed, mistake, check_status = False, "", "blank"
                message = " ".join(_blank_message(exercise).split())
            row(student, source_notebook.stem, exercise, passed, mistake, (notes + " " + message).strip(),
                status or check_status)

    solved01 = {e: _cell(e, None) for e in ("softmax_with_temperature", "entropy")}
    submit("alice", NB01, solved01)
    pairs = list(zip([k for e, k in MISTAKEN if e == "softmax_with_temperature"],
                     [k for e, k in MISTAKEN if e == "entropy"]))
    for student, (softmax_key, entropy_key) in zip(["bob", "carol", "dan", "erin", "fay"], pairs):
        submit(student, NB01, {"softmax_with_temperature": _cell("softmax_with_temperature",
                                                                 MISTAKEN["softmax_with_temperature", softmax_key]),
                               "entropy": _cell("entropy", MISTAKEN["entropy", entropy_key])})
    submit("gus", NB02, {"label_smoothing_loss": _cell("label_smoothing_loss", None)})
    submit("hana", NB02, {"label_smoothing_loss": _cell("label_smoothing_loss",
                                                        MISTAKEN["label_smoothing_loss", "k_minus_1"])})
    def raise_early(notebook):
        notebook.cells.insert(_first_code_index(notebook) + 1, _new_cell(notebook, "1 / 0"))

    cell = _first_code_index(nbformat.read(NB01, as_version=4)) + 2
    submit("jon", NB01, solved01, status="error", edit=raise_early,
           notes=f"cell {cell} raised ZeroDivisionError: division by zero; checked what the notebook defined:")

    def delete_exercises(notebook):
        notebook.cells = [c for c in notebook.cells if not re.search(r"def (softmax_with_temperature|entropy_in_nats)"
                                                                     r"\(|check_(softmax_with_temperature|entropy)\(",
                                                                     c.source)]

    (folder / "leo.ipynb").write_text(nbformat.writes(_edited(NB01, delete_exercises)))
    for exercise in ("softmax_with_temperature", "entropy"):
        row("leo", S01, exercise, False, "", _missing(FUNCTIONS[exercise].function), "missing-function")

    def borrow_the_kits(notebook):  # the exercise's own cell replaced by the kit's function of the same name
        for cell in notebook.cells:
            if re.search(r"def softmax_with_temperature\(", cell.source):
                cell.source = "from helpers import softmax_with_temperature"

    (folder / "una.ipynb").write_text(nbformat.writes(_edited(NB01, borrow_the_kits)))
    row("una", S01, "softmax_with_temperature", False, "",
        "no function `softmax_with_temperature` defined (`softmax_with_temperature` is the kit's own, imported from "
        "helpers.maths.theory, not the student's): the check looks for this name (renamed, or its cell deleted?); "
        "the notebook defines: entropy_in_nats", "missing-function")
    row("una", S01, "entropy", False, "", " ".join(_blank_message("entropy").split()), "blank")

    renamed = {"softmax_with_temperature": _cell("softmax_with_temperature", None, function="my_softmax")}
    nbformat.write(_notebook(NB01, renamed), folder / "max.ipynb")
    row("max", S01, "softmax_with_temperature", False, "",
        _missing("softmax_with_temperature", ["entropy_in_nats", "my_softmax"]), "missing-function")
    # max left entropy_in_nats as it was handed out: blank
    row("max", S01, "entropy", False, "", " ".join(_blank_message("entropy").split()), "blank")

    (folder / "ned_01.ipynb").write_text('{"cells": [ oops, this is not JSON')
    (folder / "oli_02.ipynb").write_text("")
    for exercise in ("softmax_with_temperature", "entropy"):
        row("ned_01", S01, exercise, False, "", "the file is not JSON, so not a notebook (JSONDecodeError: Expecting "
            "value: line 1 column 13 (char 12))", "not-json")
    row("oli_02", S02, "label_smoothing_loss", False, "", "the file is empty", "empty")
    return expected


def _edited(path: Path, edit):
    notebook = nbformat.read(path, as_version=4)
    edit(notebook)
    return notebook


def _blank_message(exercise: str) -> str:
    return run_check(exercise, lambda *args: None).message.replace("<lambda>", FUNCTIONS[exercise].function)


def _missing(function: str, defined: list[str] = ()) -> str:
    others = f"; the notebook defines: {', '.join(defined)}" if defined else ""
    return f"no function `{function}` defined: the check looks for this name (renamed, or its cell deleted?){others}"


def _grade(files: list[Path], out: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "helpers.pipeline.grade", *map(str, files), "--out", str(out), "--timeout", str(timeout),
               "--check-timeout", "60"]
    result = subprocess.run(command, cwd=out.parent, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _read_rows(path: Path) -> list[tuple]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == COLUMNS
        return [tuple(line) for line in reader]


@pytest.mark.slow
def test_grading_a_crafted_class(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    expected = _class(folder)
    submissions = sorted(folder.glob("*.ipynb"))
    assert len(submissions) >= 13  # and kim, who loops forever, below
    result = _grade(submissions, tmp_path / "grades.csv", timeout=240)
    got = _read_rows(tmp_path / "grades.csv")
    assert [r[0] for r in got] == [r[0] for path in submissions for r in expected[path.stem]]  # submission order
    by_student: dict[str, list[tuple]] = {}
    for line in got:
        by_student.setdefault(line[0], []).append(line)
    for student, rows in expected.items():
        assert by_student[student] == rows, student
    # a progress bar while grading, a summary table at the end, one feedback file per student
    assert "grading" in result.stderr and "most common mistake" in result.stdout
    assert "softmax_with_temperature" in result.stdout and "not-json 1" in result.stdout
    feedback = tmp_path / "feedback"
    assert sorted(p.stem for p in feedback.glob("*.md")) == sorted(expected)
    assert "log base 2" in (feedback / "bob.md").read_text() or "log base 2" in (feedback / "carol.md").read_text()
    assert "2 of 2 exercises pass" in (feedback / "alice.md").read_text()


@pytest.mark.slow
def test_a_notebook_that_never_ends_is_stopped(tmp_path):
    def loop(notebook):
        notebook.cells.insert(_first_code_index(notebook) + 1, _new_cell(notebook, "while True:\n    pass\n"))

    path = tmp_path / "kim.ipynb"
    nbformat.write(_edited(NB01, loop), path)
    _grade([path], tmp_path / "grades.csv", timeout=20)
    note = "the notebook did not finish within 20 s (a cell that never ends?); checked what it had defined by then:"
    assert _read_rows(tmp_path / "grades.csv") == [
        ("kim", S01, exercise, "False", "", f"{note} {_missing(FUNCTIONS[exercise].function)}", "timeout")
        for exercise in ("softmax_with_temperature", "entropy")]
