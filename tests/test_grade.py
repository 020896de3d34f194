"""The grader (python -m helpers.pipeline.grade): a crafted class gets exactly the rows, points and gradebook lines it
deserves, and no bad submission crashes or hangs the grading run.

The class (small notebooks that carry a kit notebook's title and only its exercise cells, so that each runs in
seconds): a correct submission, every classic mistake of notebook 01's two exercises and one of notebook 02's, a
function left blank, a notebook that raises, one with its exercise cells deleted, one with a renamed function, one
that imports the kit's own function, a file that is not JSON, an empty file, one handed in late, one not on the
roster, and a roster student who handed in nothing. Every wrong implementation of the exercises' catalogue goes
through the cell the grader adds to a notebook (fast, in process). The Canvas and Moodle exports are read with each
system's documented import rules, which read the samples under tests/fixtures/gradebooks/ too.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import types
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from helpers.pipeline import grade, submissions
from helpers.pipeline.assignment import solution_body
from helpers.pipeline.grade import (
    COLUMNS, Row, exercises, feedback_markdown, grade_function, identify, max_points, namespace_report, summary,
)
from helpers.pipeline.gradebook import (
    CANVAS_IDENTITY, MOODLE_IDENTITY, STUDENT_COLUMNS, Student, canvas_table, match_student, moodle_table, number,
    parse_due, read_roster,
)
from helpers.teaching.exercises import SOLUTIONS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gradebooks"
NB01 = ROOT / "notebooks" / "01_softmax_temperature_entropy.ipynb"
NB02 = ROOT / "notebooks" / "02_label_smoothing.ipynb"
S01, S02 = NB01.stem, NB02.stem
TITLES = {S01: "01 · Softmax, temperature and entropy", S02: "02 · Label smoothing: a softer target, a finite optimum"}

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


def _blank_cell(exercise: str) -> str:
    names, _ = solution_body(exercise)
    return f"def {FUNCTIONS[exercise].function}({', '.join(names)}):\n    ...  # your code here\n"


def _define(source: str, name: str):
    namespace: dict = {}
    exec(compile(source, "<student>", "exec"), namespace)
    return namespace[name]


def _expected(exercise: str, source: str) -> dict:
    """What grading gives the function ``source`` defines (in process)."""
    return grade_function(exercise, _define(source, FUNCTIONS[exercise].function))


def _new_cell(source: str, kind: str = "code"):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    cell.pop("id", None)
    return cell


def _small_notebook(stem: str, answers: dict[str, str | None], before: tuple[str, ...] = ()):
    """A notebook with the kit notebook's title, then ``before``'s cells, then per exercise of ``answers`` its cell
    (the blank where None) and the kit's check call."""
    notebook = nbformat.v4.new_notebook()
    notebook.nbformat_minor = 4
    notebook.cells = [_new_cell(f"# {TITLES[stem]}\n\nMy answers.", "markdown"), *(_new_cell(s) for s in before)]
    for exercise, source in answers.items():
        spec = FUNCTIONS[exercise]
        notebook.cells += [_new_cell(source if source is not None else _blank_cell(exercise)),
                           _new_cell(f"from helpers import check_{exercise}\n\ncheck_{exercise}({spec.function});")]
    return notebook


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


def _as_if_typed(function):
    """``function`` as if a student had typed it in a notebook (a function of ``__main__``; the grader takes a
    function of the kit's own modules for the kit's implementation, not the student's)."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__module__ = "__main__"
    return copy


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")
def test_the_kernel_reports_what_grading_finds_for_classic_mistakes():
    """Wrong implementations of the exercises' catalogue (two per exercise: tests/test_exercises.py runs them all),
    seen through the cell the grader adds to a notebook: graded (not passed, fewer points), with the classic mistake
    the grading cases named first."""
    from helpers.teaching.exercises import EXERCISES, grade_exercise

    seen = 0
    for name, exercise in EXERCISES.items():
        if exercise.arguments:  # graded with the notebook's variables (temperature scaling's test split): below
            continue
        for description, (wrong, _key) in list(exercise.instructor.wrong.items())[:2]:
            typed = _as_if_typed(wrong)
            (reported,) = namespace_report({"answer": typed}, [[name, "answer", []]])
            graded = grade_exercise(name, wrong)
            assert (reported["passed"], reported["status"]) == (False, "ok"), (name, description)
            assert reported["points"] == pytest.approx(graded.points), (name, description)
            assert reported["points"] < reported["max_points"] == max_points(name), (name, description)
            assert reported["mistake"] == next((c.mistake for c in graded.cases if c.mistake and not c.passed), "")
            seen += 1
    assert seen >= 2 * sum(not exercise.arguments for exercise in EXERCISES.values())
    (reported,) = namespace_report({"answer": _as_if_typed(SOLUTIONS["temperature_scaling"][0]), "test_logits": 0},
                                   [["temperature_scaling", "answer", ["test_logits", "test_labels"]]])
    assert reported["passed"] and reported["points"] == max_points("temperature_scaling"), "graded without the split"


def test_a_solution_earns_every_point_and_a_blank_none():
    for exercise, (solution, _) in SOLUTIONS.items():
        if exercise in FUNCTIONS and exercise != "kd_training_step":
            graded = grade_function(exercise, solution)
            assert graded["passed"] and graded["points"] == graded["max_points"] == max_points(exercise) > 0
            assert sum(case["max_points"] for case in graded["cases"]) == pytest.approx(max_points(exercise))
    blank = grade_function("entropy", lambda probs: None)
    assert (blank["passed"], blank["status"], blank["mistake"], blank["points"]) == (False, "blank", "", 0)


def test_partial_credit_is_the_sum_of_the_cases_passed(monkeypatch):
    """The adapter over the exercises' grading cases: points add up per case, the first named mistake is kept, the
    message names each failed case once, a blank stays ``blank``, and the maximum is the cases' points."""
    def case(name, passed, worth, mistake="", message=""):
        return SimpleNamespace(case=name, passed=passed, points=worth if passed else 0.0, max_points=worth,
                               mistake=mistake, message=message)

    graded = {"good": [case("a", True, 1.0), case("b", True, 0.5)],
              "half": [case("a", True, 1.0), case("b", False, 0.5, "log2", "case 'b': wrong: log base 2"),
                       case("c", False, 0.25, None, "wrong")],
              "blank": [case("a", False, 1.0, None, "not yet"), case("b", False, 0.5, None, "not yet")]}
    fake = SimpleNamespace(EXERCISES={"entropy": SimpleNamespace(points={"a": 1.0, "b": 0.5, "c": 0.25})},
                           grade_exercise=lambda name, fn: SimpleNamespace(
                               cases=graded[fn.__name__], status="blank" if fn.__name__ == "blank" else "ok"))
    monkeypatch.setattr(submissions, "_grading", lambda: (fake.EXERCISES, fake.grade_exercise))

    def named(name):
        return type(lambda: None)((lambda: None).__code__, {}, name)

    good, half, blank = (grade_function("entropy", named(name)) for name in ("good", "half", "blank"))
    assert (good["passed"], good["points"], good["max_points"], good["status"]) == (True, 1.5, 1.75, "ok")
    assert (half["passed"], half["points"], half["mistake"], half["status"]) == (False, 1.0, "log2", "ok")
    assert half["message"] == "1 of 3 grading cases pass; case 'b': wrong: log base 2; case 'c': wrong"
    assert (blank["status"], blank["points"]) == ("blank", 0)
    assert max_points("entropy") == 1.75


def test_a_missing_or_renamed_function_is_reported():
    report = namespace_report({"my_entropy": lambda p: p, "entropy_in_nats": 3},
                              [["entropy", "entropy_in_nats", []], ["softmax_with_temperature", "softmax", []]])
    assert [r["status"] for r in report] == ["missing-function", "missing-function"]
    assert [(r["points"], r["max_points"]) for r in report] == [(0, max_points("entropy")),
                                                               (0, max_points("softmax_with_temperature"))]
    assert "`entropy_in_nats` is a int" in report[0]["message"]


def test_identify_by_title_checks_or_file_name(tmp_path):
    notebook = nbformat.read(NB02, as_version=4)
    assert identify(tmp_path / "alice.ipynb", notebook) == S02
    assert identify(tmp_path / "bob_01.ipynb", None) == S01
    assert identify(tmp_path / "carol.ipynb", None) is None
    assert identify(tmp_path / "dan.ipynb", _small_notebook(S01, {"entropy": None})) == S01


def test_feedback_and_summary():
    rows = [Row("ann", S01, "entropy", False, 0.5, 1.0, "log2", "❌ wrong. Likely mistake: log base 2.", "ok",
                (("one example", True, 0.5, 0.5, ""), ("a secret batch", False, 0.0, 0.5, "log2"))),
            Row("ann", S01, "softmax_with_temperature", True, 1.0, 1.0, "", "✅ correct", "ok")]
    text = feedback_markdown("ann", rows)
    assert "1.5 of 2 points; 1 of 2 exercises pass every grading case" in text and "| log base 2 |" in text
    assert "## entropy" in text and "*a secret batch* not passed (0 of 0.5): likely mistake, log base 2" in text
    assert "Likely mistake" not in text, "the feedback shows no grading case's message (its expected values)"
    assert "log base 2 (1)" in summary(rows) and "0.5 of 1" in summary(rows)


# ------------------------------------------------------------------------------------ fast: the gradebook


def test_the_roster_reads_its_columns_and_says_what_is_wrong(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Student ID,Full Name,E-mail,Canvas ID\ns1,\"Lovelace, Ada\",ada@x.edu,301\ns2,Alan Turing,,\n",
                      encoding="utf-8")
    ada, alan = read_roster(roster)
    assert (ada.id, ada.names(), ada.email, ada.canvas_id) == ("s1", ("Ada", "Lovelace"), "ada@x.edu", "301")
    assert (alan.names(), alan.display()) == (("Alan", "Turing"), "Alan Turing")
    for text, reason in (("name,email\nAda,a@x\n", "no student id column"), ("id,name\n,Ada\n", "line 2: no student id"),
                         ("id\ns1\nS1\n", "already on line 2"), ("", "empty")):
        roster.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=reason):
            read_roster(roster)
    with pytest.raises(ValueError, match="cannot be read"):
        read_roster(tmp_path / "nowhere.csv")


def test_files_are_matched_to_roster_ids():
    ids = ["ann", "ann_b", "s1"]
    assert [match_student(stem, ids) for stem in ("ann", "ANN_01", "ann_b_02", "s1-v2", "s12", "annie")] == \
        ["ann", "ann", "ann_b", "s1", None, None]


def test_a_due_date_is_the_end_of_that_day():
    day = parse_due("2025-03-14")
    end = datetime(2025, 3, 14, 23, 59, 59).astimezone().timestamp()
    assert day.late_by(end) is None and day.late_by(end + 1) is not None
    at = parse_due("2025-03-14T17:00+00:00")
    assert at.late_by(datetime.fromisoformat("2025-03-14T17:00:00+00:00").timestamp()) is None
    assert at.late_by(datetime.fromisoformat("2025-03-14T19:30:00+00:00").timestamp()).total_seconds() == 9000
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_due("next friday")
    assert [number(x) for x in (2, 1.5, 0.1 + 0.2, 1 / 3, -0.0)] == ["2", "1.5", "0.3", "0.3333", "0"]


def _canvas_import(path: Path) -> tuple[dict[str, tuple[str, str | None]], dict[str, float], dict[str, dict]]:
    """Read a file as Canvas's gradebook import does (tests/fixtures/gradebooks/README.md): the assignment columns
    (header -> (name, Canvas id or None)), their points possible, and each student's scores keyed by the first of
    ID, SIS User ID, SIS Login ID that is set. Fails where Canvas would refuse the file."""
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    header = lines[0]
    assert tuple(header[:5]) == CANVAS_IDENTITY, header
    assignments = {}
    for column in header[5:]:
        match = re.fullmatch(r"(.*\S)\s+\((\d+)\)", column)
        assignments[column] = (match[1], match[2]) if match else (column, None)
    possible: dict[str, float] = {}
    scores: dict[str, dict] = {}
    for line in lines[1:]:
        assert len(line) == len(header), line
        if line[0].strip() == "Points Possible":
            possible = {column: float(value) for column, value in zip(header[5:], line[5:]) if value}
            continue
        key = next(value for value in line[1:4] if value)  # unmatched otherwise
        scores[key] = {column: float(value) for column, value in zip(header[5:], line[5:]) if value}
    return assignments, possible, scores


def _moodle_import(path: Path, identify_by: str) -> dict[str, dict[str, float]]:
    """Read a file as Moodle's CSV grade import does (tests/fixtures/gradebooks/README.md), users identified by the
    column ``identify_by``: each user's grades per grade column (every column that is not a profile field)."""
    with open(path, newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    header = lines[0]
    assert set(MOODLE_IDENTITY) - {"Username"} <= set(header) and identify_by in header, header
    grades = [column for column in header if column not in MOODLE_IDENTITY]
    users = {}
    for line in lines[1:]:
        assert len(line) == len(header), "Moodle refuses lines with another number of fields than the header"
        record = dict(zip(header, line))
        assert record[identify_by], line
        users[record[identify_by]] = {column: float(record[column]) for column in grades
                                      if record[column] not in ("", "-")}
    return users


def test_the_import_rules_read_the_documented_samples():
    assignments, possible, scores = _canvas_import(FIXTURES / "canvas_gradebook_import.csv")
    assert assignments == {"Quiz 1 (1201)": ("Quiz 1", "1201"), "Lab report": ("Lab report", None)}
    assert possible == {"Quiz 1 (1201)": 10.0, "Lab report": 5.0}
    assert scores == {"3001": {"Quiz 1 (1201)": 9.5, "Lab report": 4.0}, "3002": {"Quiz 1 (1201)": 7.0}}
    assert _moodle_import(FIXTURES / "moodle_grade_import.csv", "Email address") == {
        "anne@example.edu": {"Assignment: Lab report": 56.0, "Quiz 1": 9.5},
        "bobby@example.edu": {"Assignment: Lab report": 75.0}}
    assert set(_moodle_import(FIXTURES / "moodle_grade_import.csv", "ID number")) == {"S0042", "S0043"}


def _write(table, path: Path) -> Path:
    from helpers.pipeline.gradebook import write_table

    return write_table(*table, path)


def test_the_exports_have_the_layouts_the_gradebooks_import(tmp_path):
    rows = [Row("s1", S01, "entropy", True, 1.0, 1.0, "", "", "ok"),
            Row("s1", S01, "softmax_with_temperature", False, 0.25, 1.0, "", "", "ok"),
            Row("s2", S01, "entropy", False, 0.0, 1.0, "", "", "missing"),
            Row("s2", S01, "softmax_with_temperature", False, 0.0, 1.0, "", "", "missing")]
    roster = [Student("s1", name="Ada Lovelace", email="ada@x.edu", canvas_id="301", section="A"),
              Student("s2", first_name="Alan", last_name="Turing", email="alan@x.edu", id_number="N2")]
    titles = {S01: TITLES[S01]}
    canvas = _write(canvas_table(rows, roster, titles), tmp_path / "canvas.csv")
    header = next(csv.reader(open(canvas, encoding="utf-8")))
    sample = next(csv.reader(open(FIXTURES / "canvas_gradebook_import.csv", encoding="utf-8")))
    assert header[:5] == sample[:5] and header[5:] == [TITLES[S01]]
    assert _canvas_import(canvas) == ({TITLES[S01]: (TITLES[S01], None)}, {TITLES[S01]: 2.0},
                                      {"301": {TITLES[S01]: 1.25}, "s2": {TITLES[S01]: 0.0}})
    assert list(csv.reader(open(canvas, encoding="utf-8")))[2][:5] == ["Lovelace, Ada", "301", "s1", "", "A"]
    moodle = _write(moodle_table(rows, roster, titles), tmp_path / "moodle.csv")
    assert _moodle_import(moodle, "Email address") == {"ada@x.edu": {TITLES[S01]: 1.25},
                                                       "alan@x.edu": {TITLES[S01]: 0.0}}
    assert _moodle_import(moodle, "ID number") == {"s1": {TITLES[S01]: 1.25}, "N2": {TITLES[S01]: 0.0}}
    assert _moodle_import(moodle, "Username") == {"s1": {TITLES[S01]: 1.25}, "s2": {TITLES[S01]: 0.0}}


# ------------------------------------------------------------------------------------ slow: a whole class

DUE = "2025-03-14T17:00"


def _class(folder: Path) -> tuple[dict[str, list[tuple]], list[Student]]:
    """Write the class and its roster into ``folder``; the expected grades.csv rows of each student (no header)
    and the roster."""
    expected: dict[str, list[tuple]] = {}

    def row(student, notebook, exercise, passed, points, worth, mistake, message, status):
        expected.setdefault(student, []).append((student, notebook, exercise, str(passed), number(points),
                                                 number(worth), mistake, message, status))

    def graded(student, notebook, exercise, source, notes="", status=None):
        if source is None:
            got = grade_function(exercise, _define(_blank_cell(exercise), FUNCTIONS[exercise].function))
        else:
            got = _expected(exercise, source)
        row(student, notebook, exercise, got["passed"], got["points"], got["max_points"], got["mistake"],
            (notes + " " + got["message"]).strip(), status or got["status"])

    def submit(student, stem, answers, before=(), notes="", status=None, file=None):
        nbformat.write(_small_notebook(stem, answers, before), folder / f"{file or student}.ipynb")
        for exercise, source in answers.items():
            graded(student, stem, exercise, source, notes, status)

    solved01 = {e: _cell(e, None) for e in ("softmax_with_temperature", "entropy")}
    submit("alice", S01, solved01)
    pairs = list(zip([k for e, k in MISTAKEN if e == "softmax_with_temperature"],
                     [k for e, k in MISTAKEN if e == "entropy"]))
    for student, (softmax_key, entropy_key) in zip(["bob", "carol", "dan", "erin", "fay"], pairs):
        submit(student, S01, {"softmax_with_temperature": _cell("softmax_with_temperature",
                                                                MISTAKEN["softmax_with_temperature", softmax_key]),
                              "entropy": _cell("entropy", MISTAKEN["entropy", entropy_key])})
    submit("gus", S02, {"label_smoothing_loss": _cell("label_smoothing_loss", None)})
    submit("hana", S02, {"label_smoothing_loss": _cell("label_smoothing_loss",
                                                       MISTAKEN["label_smoothing_loss", "k_minus_1"])})
    submit("jon", S01, solved01, before=("1 / 0",), status="error",
           notes="cell 2 raised ZeroDivisionError: division by zero; graded what the notebook defined:")

    notebook = _small_notebook(S01, {})  # leo deleted his exercise cells; the checks are left, calling nothing
    notebook.cells += [_new_cell(f"from helpers import check_{e}\n\ncheck_{e}({FUNCTIONS[e].function})")
                       for e in ("softmax_with_temperature", "entropy")]
    nbformat.write(notebook, folder / "leo.ipynb")
    for exercise in ("softmax_with_temperature", "entropy"):
        row("leo", S01, exercise, False, 0, max_points(exercise), "", _missing(FUNCTIONS[exercise].function),
            "missing-function")

    notebook = _small_notebook(S01, {"softmax_with_temperature": "from helpers import softmax_with_temperature",
                                     "entropy": None})  # una: the kit's function under the exercise's name
    nbformat.write(notebook, folder / "una.ipynb")
    row("una", S01, "softmax_with_temperature", False, 0, max_points("softmax_with_temperature"), "",
        "no function `softmax_with_temperature` defined (`softmax_with_temperature` is the kit's own, imported from "
        "helpers.maths.theory, not the student's): the check looks for this name (renamed, or its cell deleted?); "
        "the notebook defines: entropy_in_nats", "missing-function")
    graded("una", S01, "entropy", None)

    renamed = _cell("softmax_with_temperature", None, function="my_softmax")  # max renamed it, left entropy blank
    nbformat.write(_small_notebook(S01, {"softmax_with_temperature": renamed, "entropy": None}), folder / "max.ipynb")
    row("max", S01, "softmax_with_temperature", False, 0, max_points("softmax_with_temperature"), "",
        _missing("softmax_with_temperature", ["entropy_in_nats", "my_softmax"]), "missing-function")
    graded("max", S01, "entropy", None)

    (folder / "ned_01.ipynb").write_text('{"cells": [ oops, this is not JSON')
    (folder / "oli_02.ipynb").write_text("")
    for exercise in ("softmax_with_temperature", "entropy"):
        row("ned", S01, exercise, False, 0, max_points(exercise), "", "the file is not JSON, so not a notebook "
            "(JSONDecodeError: Expecting value: line 1 column 13 (char 12))", "not-json")
    row("oli", S02, "label_smoothing_loss", False, 0, max_points("label_smoothing_loss"), "", "the file is empty",
        "empty")
    submit("pat", S01, solved01)  # late, below
    # not on the roster: graded under the file's stem
    submit("zed_01", S01, {"softmax_with_temperature": _cell("softmax_with_temperature", None), "entropy": None})

    roster = [Student(name, name=f"{name.title()} Example", email=f"{name}@example.edu",
                      canvas_id=str(3000 + i) if i % 2 else "", section="A" if i < 8 else "B")
              for i, name in enumerate(["alice", "bob", "carol", "dan", "erin", "fay", "gus", "hana", "jon", "leo",
                                        "una", "max", "ned", "oli", "pat", "quinn"])]
    with open(folder.parent / "roster.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email", "canvas_id", "section"])
        writer.writerows([s.id, s.name, s.email, s.canvas_id, s.section] for s in roster)
    due = parse_due(DUE).deadline.timestamp()
    for path in folder.glob("*.ipynb"):
        os.utime(path, (due - 3600, due - 3600))
    os.utime(folder / "pat.ipynb", (due + 5.5 * 3600, due + 5.5 * 3600))
    return expected, roster


def _missing(function: str, defined: list[str] = ()) -> str:
    others = f"; the notebook defines: {', '.join(defined)}" if defined else ""
    return f"no function `{function}` defined: the check looks for this name (renamed, or its cell deleted?){others}"


def _grade(files: list[Path], out: Path, timeout: int, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "helpers.pipeline.grade", *map(str, files), "--out", str(out), "--timeout",
               str(timeout), "--check-timeout", "60", *options]
    result = subprocess.run(command, cwd=out.parent, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [list(line) for line in csv.reader(handle)]


@pytest.mark.slow
def test_grading_a_crafted_class(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    expected, roster = _class(folder)
    files = sorted(folder.glob("*.ipynb"))
    assert len(files) >= 12 and len(roster) >= 12
    result = _grade(files, tmp_path / "grades.csv", 240, "--roster", str(tmp_path / "roster.csv"), "--due", DUE,
                    "--jobs", "2")
    got = _read_csv(tmp_path / "grades.csv")
    assert tuple(got[0]) == COLUMNS
    # the missing rows: quinn handed in nothing; every student of one notebook misses the other one
    maxima = {e: max_points(e) for e in FUNCTIONS}
    exercises_of = {S01: ["softmax_with_temperature", "entropy"], S02: ["label_smoothing_loss"]}
    students = [s.id for s in roster] + ["zed_01"]
    handed_in = {student: {line[1] for line in lines} for student, lines in expected.items()}
    graded_rows = [tuple(line) for line in got[1:] if line[8] != "missing"]
    missing_rows = [tuple(line) for line in got[1:] if line[8] == "missing"]
    owner = {path: match_student(path.stem, [s.id for s in roster]) or path.stem for path in files}
    assert graded_rows == [line for path in files for line in expected[owner[path]]]  # in submission order
    assert [tuple(line) for line in got[1:]] == graded_rows + missing_rows  # what was not handed in comes last
    assert sorted(missing_rows) == sorted(
        (student, stem, exercise, "False", "0", number(maxima[exercise]), "", "nothing handed in", "missing")
        for student in students for stem in (S01, S02) if stem not in handed_in.get(student, set())
        for exercise in exercises_of[stem])

    # one line per student: roster order, then who is not on it
    students_csv = _read_csv(tmp_path / "grades-students.csv")
    columns = list(STUDENT_COLUMNS) + ["softmax_with_temperature", "entropy", "label_smoothing_loss"]
    assert students_csv[0] == columns
    points = {(line[0], line[2]): float(line[4]) for line in got[1:]}
    total = sum(maxima[e] for ex in exercises_of.values() for e in ex)
    due = parse_due(DUE).deadline.timestamp()
    for line, student in zip(students_csv[1:], students, strict=True):
        entry = next((s for s in roster if s.id == student), Student(student))
        mine = [points[student, e] for e in columns[9:]]
        on_time, late = (due - 3600, due + 5.5 * 3600)
        when = late if student == "pat" else on_time
        stamp = datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds")
        status = "missing" if student == "quinn" else "not-on-roster" if student == "zed_01" else "submitted"
        timing = ["", "", ""] if student == "quinn" else [stamp, "yes", "5.50"] if student == "pat" else \
            [stamp, "no", ""]
        assert line == [student, entry.display(), entry.email, status, *timing, number(sum(mine)), number(total),
                        *map(number, mine)], student
    assert students_csv[1][9:] == [number(maxima[e]) for e in exercises_of[S01]] + ["0"]  # alice: all of 01 right

    # the gradebook imports: the roster's students (zed cannot be matched), one column per notebook
    assignments, possible, scores = _canvas_import(tmp_path / "grades-canvas.csv")
    assert assignments == {TITLES[S01]: (TITLES[S01], None), TITLES[S02]: (TITLES[S02], None)}
    assert possible == {TITLES[stem]: sum(maxima[e] for e in exercises_of[stem]) for stem in (S01, S02)}
    per_notebook = {(s, stem): sum(points[s, e] for e in exercises_of[stem]) for s in students for stem in (S01, S02)}
    assert scores == {(s.canvas_id or s.id): {TITLES[stem]: per_notebook[s.id, stem] for stem in (S01, S02)}
                      for s in roster}
    canvas_lines = _read_csv(tmp_path / "grades-canvas.csv")
    assert [line[:5] for line in canvas_lines[2:]] == [
        [f"{s.names()[1]}, {s.names()[0]}", s.canvas_id, s.id, "", s.section] for s in roster]
    moodle = _moodle_import(tmp_path / "grades-moodle.csv", "Email address")
    assert moodle == {s.email: {TITLES[stem]: per_notebook[s.id, stem] for stem in (S01, S02)} for s in roster}
    assert [line[:7] for line in _read_csv(tmp_path / "grades-moodle.csv")[1:]] == [
        [*s.names(), s.id, "", "", s.email, s.id] for s in roster]

    # a progress bar while grading, a summary table at the end, one feedback file per student who handed in
    assert "grading" in result.stderr and "most common mistake" in result.stdout
    assert "zed_01.ipynb matches no id of the roster" in result.stderr
    assert "handed in nothing: quinn; late: pat" in result.stdout
    assert "not-json 1" in result.stdout
    feedback = tmp_path / "feedback"
    assert sorted(p.stem for p in feedback.glob("*.md")) == sorted(expected)
    assert "log base 2" in (feedback / "bob.md").read_text() or "log base 2" in (feedback / "carol.md").read_text()
    assert "2 of 2 exercises pass every grading case" in (feedback / "alice.md").read_text()


@pytest.mark.parametrize("problem", ["twice", "absent", "due", "roster", "jobs"])
def test_bad_input_is_refused_in_one_line_before_grading(tmp_path, capsys, problem):
    for name in ("ann_01", "ann_v2"):
        nbformat.write(_small_notebook(S01, {"entropy": None}), tmp_path / f"{name}.ipynb")
    (tmp_path / "roster.csv").write_text("id\nann\n" if problem != "roster" else "name\nAnn\n", encoding="utf-8")
    files = [str(tmp_path / "ann_01.ipynb"), str(tmp_path / ("ann_v2.ipynb" if problem == "twice" else "bob.ipynb"))]
    if problem != "absent":
        files = files[:1] + files[1:] * (problem == "twice")
    options = {"due": ["--due", "friday"], "jobs": ["--jobs", "0"]}.get(problem, [])
    with pytest.raises(SystemExit) as stop:
        grade.main([*files, "--roster", str(tmp_path / "roster.csv"), "--out", str(tmp_path / "grades.csv"), *options])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert stop.value.code == 2 and not (tmp_path / "grades.csv").exists()
    assert error.endswith({
        "twice": f"handed in twice, keep one file each: ann ({S01}): ann_01.ipynb, ann_v2.ipynb",
        "absent": f"no such file or folder: {tmp_path / 'bob.ipynb'}",
        "due": "--due 'friday': not an ISO date or date-time (e.g. 2025-03-14 or 2025-03-14T17:00)",
        "roster": "its columns: name",
        "jobs": "--jobs 0: give 1 or more"}[problem]), error


@pytest.mark.slow
def test_a_notebook_that_never_ends_is_stopped(tmp_path):
    path = tmp_path / "kim.ipynb"
    nbformat.write(_small_notebook(S01, {}, before=("while True:\n    pass\n",)), path)
    _grade([path], tmp_path / "grades.csv", timeout=20)
    note = "the notebook did not finish within 20 s (a cell that never ends?); graded what it had defined by then:"
    assert [tuple(line) for line in _read_csv(tmp_path / "grades.csv")[1:]] == [
        ("kim", S01, exercise, "False", "0", number(max_points(exercise)), "",
         f"{note} {_missing(FUNCTIONS[exercise].function)}", "timeout")
        for exercise in ("softmax_with_temperature", "entropy")]
