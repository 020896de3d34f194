"""A class's gradebook: the rows of ``grades.csv``, the roster, late hand-ins, and the tables a gradebook imports.

The grader (:mod:`helpers.pipeline.grade`) produces one :class:`Row` per student and exercise; this module turns
them into the files an instructor keeps or uploads:

* ``grades.csv``: the rows themselves (:data:`COLUMNS`);
* ``students.csv``: one line per student, the total and the points of each exercise (:data:`STUDENT_COLUMNS`);
* ``canvas.csv``: Canvas's gradebook import layout (:func:`canvas_table`);
* ``moodle.csv``: Moodle's CSV grade import layout (:func:`moodle_table`).

Both gradebook exports have one grade column per kit notebook (its points, all its exercises together), titled with
the notebook's title.

The roster (``--roster FILE``) is a CSV file with a header line. Column names are matched ignoring case, spaces,
dashes and underscores:

* ``id`` (or ``student_id``, ``student``), required: the student's identifier, the name their handed-in file starts
  with (``s1234.ipynb``, ``s1234_01.ipynb`` or ``s1234-v2.ipynb`` are all ``s1234``'s);
* optional: ``name`` (``First Last`` or ``Last, First``), ``first_name``, ``last_name``, ``email``, ``section``;
* optional, for the gradebook exports: ``canvas_id`` (Canvas's numeric user ID), ``sis_user_id``, ``sis_login_id``,
  ``id_number`` (Moodle's ID number), ``username`` (Moodle's username).

Conventions: points are written with at most four decimals and no trailing zeros (``1.5``, ``2``); times are local
ISO 8601 with the UTC offset, to the second; ``late_by_hours`` has two decimals.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

__all__ = ["COLUMNS", "STUDENT_COLUMNS", "CANVAS_IDENTITY", "MOODLE_IDENTITY", "Row", "Student", "Submission",
           "Due", "read_roster", "match_student", "parse_due", "missing_rows", "write_grades", "student_table",
           "canvas_table", "moodle_table", "write_table", "number"]

COLUMNS = ("student", "notebook", "exercise", "passed", "points", "max_points", "mistake", "message", "status")
STUDENT_COLUMNS = ("student", "name", "email", "status", "submitted", "late", "late_by_hours", "points",
                   "max_points")
#: the identity columns of a Canvas gradebook export, in its order (assignment columns follow)
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"
#: the user profile columns a Moodle grade export writes by default, and the username (grade columns follow)
MOODLE_IDENTITY = ("First name", "Last name", "ID number", "Institution", "Department", "Email address", "Username")

_ROSTER_FIELDS = {
    "id": ("id", "studentid", "student"),
    "name": ("name", "fullname"),
    "first_name": ("firstname", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
    "email": ("email", "emailaddress"),
    "section": ("section",),
    "canvas_id": ("canvasid", "canvasuserid"),
    "sis_user_id": ("sisuserid",),
    "sis_login_id": ("sisloginid",),
    "id_number": ("idnumber",),
    "username": ("username",),
}


@dataclass(frozen=True)
class Row:
    """One line of grades.csv (``cases``: the grading cases behind ``points``, for the feedback; not written)."""

    student: str
    notebook: str
    exercise: str
    passed: bool
    points: float
    max_points: float
    mistake: str
    message: str
    status: str
    cases: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class Student:
    """One roster entry (empty strings where the roster has no such column)."""

    id: str
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    section: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    id_number: str = ""
    username: str = ""

    def names(self) -> tuple[str, str]:
        """``(first, last)``: the roster's own columns, else ``name`` split (``Last, First`` or ``First Last``)."""
        if self.first_name or self.last_name:
            return self.first_name, self.last_name
        if "," in self.name:
            last, first = (part.strip() for part in self.name.split(",", 1))
            return first, last
        first, _, last = self.name.strip().rpartition(" ")
        return (first, last) if first else (last, "")

    def display(self) -> str:
        """The full name, ``First Last``."""
        return " ".join(part for part in self.names() if part) or self.name


@dataclass(frozen=True)
class Submission:
    """A handed-in file of ``student`` and when it was last modified (seconds since the epoch)."""

    student: str
    path: Path
    modified: float


@dataclass(frozen=True)
class Due:
    """A deadline: a hand-in modified after ``deadline`` is late (a date alone means the end of that day)."""

    text: str
    deadline: datetime

    def late_by(self, modified: float) -> timedelta | None:
        """How late a file modified at ``modified`` is, or None if on time."""
        delta = datetime.fromtimestamp(modified).astimezone() - self.deadline
        return delta if delta > timedelta(0) else None


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).casefold()


def read_roster(path: Path) -> list[Student]:
    """The students of a roster CSV (see the module's docstring); ValueError with a one-line reason if unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ValueError(f"roster {path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ValueError(f"roster {path}: not a UTF-8 text file") from None
    rows = list(csv.reader(text.splitlines()))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ValueError(f"roster {path}: empty (a header line with an `id` column, then one student per line)")
    header = [_key(cell) for cell in rows[0]]
    columns: dict[str, int] = {}
    for name, aliases in _ROSTER_FIELDS.items():
        found = [i for i, cell in enumerate(header) if cell in aliases]
        if found:
            columns[name] = found[0]
    if "id" not in columns:
        raise ValueError(f"roster {path}: no student id column (name one `id`, `student_id` or `student`); "
                         f"its columns: {', '.join(rows[0])}")
    students: list[Student] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {name: (row[i].strip() if i < len(row) else "") for name, i in columns.items()}
        if not values["id"]:
            raise ValueError(f"roster {path}, line {number}: no student id")
        if values["id"].casefold() in seen:
            raise ValueError(f"roster {path}, line {number}: student id {values['id']!r} already on line "
                             f"{seen[values['id'].casefold()]}")
        seen[values["id"].casefold()] = number
        students.append(Student(**values))
    return students


def match_student(stem: str, ids: Iterable[str]) -> str | None:
    """The roster id a handed-in file's stem belongs to: the id itself, or the longest id followed by ``_``, ``-``,
    ``.`` or a space (case ignored); None if none."""
    folded = stem.casefold()
    best = None
    for student in ids:
        key = student.casefold()
        if folded == key:
            return student
        if folded.startswith(key) and folded[len(key)] in "_-. " and (best is None or len(student) > len(best)):
            best = student
    return best


def parse_due(text: str) -> Due:
    """A deadline from an ISO date (``2025-03-14``: the end of that day, local time) or date-time
    (``2025-03-14T17:00``, local time unless it names its offset); ValueError with a one-line reason otherwise."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            deadline = datetime.combine(date.fromisoformat(value), time.max)
        else:
            deadline = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--due {text!r}: not an ISO date or date-time (e.g. 2025-03-14 or 2025-03-14T17:00)") \
            from None
    return Due(text, deadline.astimezone() if deadline.tzinfo is None else deadline)


def number(value: float) -> str:
    """Points as written in every table: at most four decimals, no trailing zeros."""
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def missing_rows(rows: Sequence[Row], students: Iterable[str],
                 notebooks: dict[str, Sequence[tuple[str, float]]]) -> list[Row]:
    """The rows of what was not handed in: for each of ``students`` and each notebook of ``notebooks`` (notebook ->
    its exercises and their maximum points) that has no row of that student, one ``missing`` row per exercise."""
    handed_in = {(row.student, row.notebook) for row in rows}
    added = []
    for student in students:
        for notebook, exercises in notebooks.items():
            if (student, notebook) not in handed_in:
                added += [Row(student, notebook, exercise, False, 0.0, maximum, "", "nothing handed in", "missing")
                          for exercise, maximum in exercises]
    return added


def write_grades(rows: Sequence[Row], out: Path) -> Path:
    """Write ``grades.csv`` (:data:`COLUMNS`)."""
    records = []
    for row in rows:
        record = asdict(row)
        record.pop("cases")
        record["points"], record["max_points"] = number(row.points), number(row.max_points)
        records.append(record)
    return write_table(COLUMNS, [[record[column] for column in COLUMNS] for record in records], out)


def write_table(header: Sequence[str], lines: Sequence[Sequence], out: Path) -> Path:
    """Write a CSV file (UTF-8, comma-separated, quoted where needed)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(lines)
    return out


def _exercise_order(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(row.exercise for row in rows if row.exercise))


def _notebook_order(rows: Sequence[Row]) -> list[str]:
    return list(dict.fromkeys(row.notebook for row in rows if row.notebook and row.exercise))


def _by_student(rows: Sequence[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.student, []).append(row)
    return grouped


def _max_points(rows: Sequence[Row]) -> dict[str, float]:
    """Each exercise's maximum, as graded (the same in every row of an exercise)."""
    return {row.exercise: row.max_points for row in rows if row.exercise}


def student_table(rows: Sequence[Row], roster: Sequence[Student] | None, submissions: Sequence[Submission],
                  due: Due | None) -> tuple[tuple[str, ...], list[list[str]]]:
    """``(header, lines)`` of ``students.csv``: one line per student (roster order, then students not on it),
    ``status`` ``submitted``, ``missing`` or ``not-on-roster``; ``late`` ``yes``/``no`` (blank without ``--due``
    or a hand-in), ``late_by_hours`` for a late one; the points per exercise (:data:`STUDENT_COLUMNS`, then one
    column per exercise)."""
    exercises = _exercise_order(rows)
    maxima = _max_points(rows)
    grouped = _by_student(rows)
    known = {student.id: student for student in roster or ()}
    order = [student.id for student in roster or ()] + [s for s in grouped if s not in known]
    modified: dict[str, float] = {}
    for submission in submissions:
        modified[submission.student] = max(modified.get(submission.student, 0.0), submission.modified)
    lines = []
    for student_id in order:
        student = known.get(student_id, Student(student_id))
        student_rows = grouped.get(student_id, [])
        handed_in = student_id in modified
        status = "submitted" if handed_in else "missing"
        if roster is not None and student_id not in known:
            status = "not-on-roster"
        submitted = late = late_by = ""
        if handed_in:
            submitted = datetime.fromtimestamp(modified[student_id]).astimezone().isoformat(timespec="seconds")
            if due is not None:
                delta = due.late_by(modified[student_id])
                late = "no" if delta is None else "yes"
                late_by = "" if delta is None else f"{delta.total_seconds() / 3600:.2f}"
        earned = {row.exercise: row.points for row in student_rows if row.exercise}
        lines.append([student_id, student.display(), student.email, status, submitted, late, late_by,
                      number(sum(earned.values())), number(sum(maxima[e] for e in exercises)),
                      *(number(earned.get(exercise, 0.0)) for exercise in exercises)])
    return STUDENT_COLUMNS + tuple(exercises), lines


def _notebook_points(rows: Sequence[Row]) -> tuple[list[str], dict[str, float], dict[tuple[str, str], float]]:
    """The notebooks graded, each one's maximum, and each (student, notebook)'s points."""
    notebooks = _notebook_order(rows)
    maxima: dict[str, dict[str, float]] = {}
    earned: dict[tuple[str, str], float] = {}
    for row in rows:
        if row.notebook and row.exercise:
            maxima.setdefault(row.notebook, {})[row.exercise] = row.max_points
            earned[row.student, row.notebook] = earned.get((row.student, row.notebook), 0.0) + row.points
    return notebooks, {n: sum(maxima[n].values()) for n in notebooks}, earned


def _lms_students(rows: Sequence[Row], roster: Sequence[Student] | None) -> list[Student]:
    """The students an export lists: the roster's (students not on it cannot be matched), else every student."""
    if roster is not None:
        return list(roster)
    return [Student(student) for student in _by_student(rows)]


def canvas_table(rows: Sequence[Row], roster: Sequence[Student] | None,
                 titles: dict[str, str]) -> tuple[tuple[str, ...], list[list[str]]]:
    """``(header, lines)`` of a Canvas gradebook import.

    The layout follows Canvas's Instructor Guide, "How do I import grades in the Gradebook?" (and the Gradebook
    export it mirrors): the columns ``Student`` (``Last, First``), ``ID`` (Canvas's user ID), ``SIS User ID``,
    ``SIS Login ID``, ``Section``, then one column per assignment; a second line whose ``Student`` cell reads
    ``Points Possible`` gives each assignment's maximum. Canvas matches a student by ID, else SIS User ID, else SIS
    Login ID: ``ID`` is the roster's ``canvas_id``, ``SIS User ID`` its ``sis_user_id`` (else the student id),
    ``SIS Login ID`` its ``sis_login_id``. A column titled ``Name`` creates a new assignment; to fill an existing
    one, title the column as Canvas's own export does, ``Name (assignment id)``. ``titles``: notebook -> title.
    """
    notebooks, maxima, earned = _notebook_points(rows)
    header = CANVAS_IDENTITY + tuple(titles.get(notebook, notebook) for notebook in notebooks)
    lines = [[CANVAS_POINTS_POSSIBLE, "", "", "", "", *(number(maxima[n]) for n in notebooks)]]
    for student in _lms_students(rows, roster):
        first, last = student.names()
        sortable = ", ".join(part for part in (last, first) if part)
        lines.append([sortable, student.canvas_id, student.sis_user_id or student.id, student.sis_login_id,
                      student.section, *(number(earned.get((student.id, n), 0.0)) for n in notebooks)])
    return header, lines


def moodle_table(rows: Sequence[Row], roster: Sequence[Student] | None,
                 titles: dict[str, str]) -> tuple[tuple[str, ...], list[list[str]]]:
    """``(header, lines)`` of a Moodle CSV grade import.

    The layout follows Moodle's documentation, "Grade import" (docs.moodle.org, CSV import: the import file has the
    layout of Moodle's own CSV grade export, "Grade export"): the user profile columns ``First name``, ``Last
    name``, ``ID number``, ``Institution``, ``Department``, ``Email address`` (plus ``Username``), then one column
    per grade item. On import, "Identify user by" maps ``Email address`` to the user's email, ``ID number`` to the
    ID number or ``Username`` to the username, and each grade column to a grade item (or a new one). ``ID number``
    is the roster's ``id_number`` (else the student id), ``Username`` its ``username`` (else the student id).
    """
    notebooks, _, earned = _notebook_points(rows)
    header = MOODLE_IDENTITY + tuple(titles.get(notebook, notebook) for notebook in notebooks)
    lines = []
    for student in _lms_students(rows, roster):
        first, last = student.names()
        lines.append([first, last, student.id_number or student.id, "", "", student.email,
                      student.username or student.id, *(number(earned.get((student.id, n), 0.0)) for n in notebooks)])
    return header, lines
