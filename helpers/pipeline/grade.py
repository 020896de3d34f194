"""Grade a class: run every submitted notebook, then every exercise's grading cases on the function the student wrote.

    python -m helpers.pipeline.grade SUBMISSIONS... --out grades.csv [--roster roster.csv] [--due 2025-03-14]
        [--jobs N] [--feedback DIR] [--timeout 600] [--preset smoke] [--notebook 01]

Each submission (a ``.ipynb`` file) is executed headless in its own process, in a temporary folder, with a time
limit for the whole notebook (a cell still running then is interrupted, and the process and its kernel are killed if
they do not stop); ``--jobs`` submissions at once (default: the machine's cores). Every cell runs even after one
raises, like a teacher pressing "run all" and reading on. Then one extra cell, added at the end, grades the functions
the notebook defines on each exercise's grading cases (:func:`grade_function`: cases the students never see, each
worth its points, so an exercise earns partial credit) and prints the results as JSON.

Which exercises a notebook has, the name of the function each one grades and the extra arguments its check takes
are read from the kit's own notebooks (the ``check_...(function, ...)`` calls): nothing is retyped here. Which kit
notebook a submission is: ``--notebook``, else the submission's title (its first Markdown line) or check calls, else
a kit notebook's number in the file name (``alice_01.ipynb``). The student is the file's stem, or with ``--roster``
the roster id the file name starts with (:mod:`helpers.pipeline.gradebook` describes the roster's format).

``grades.csv`` has one row per student and exercise: ``student, notebook, exercise, passed, points, max_points,
mistake, message, status``. ``passed``: every grading case passed; ``points``: the points of the cases passed, of
``max_points``. ``mistake`` is the key of the classic mistake named (``helpers.teaching.exercises.MISTAKES``);
``message`` what the grading found, on one line. ``status`` says what happened:

* ``ok``: the notebook ran and the function was graded (``points`` says how well);
* ``blank``: the function is still the template (returns ``None``);
* ``missing-function``: the notebook defines no function of that name (renamed, or its cell deleted);
* ``error``: a cell raised (the message names it); the grading still ran on what the notebook defined;
* ``timeout``: the notebook did not finish within the time limit; the grading ran on what was defined by then,
  unless the grading itself did not finish;
* ``empty``, ``not-json``, ``not-a-notebook``: the file is empty, is not JSON, is JSON but not a notebook;
* ``unknown-notebook``: the file is a notebook, but none of the kit's notebooks with exercises;
* ``missing-file``: no such file;
* ``missing``: nothing handed in: a roster student (or a student who handed in another notebook of the class)
  without this notebook, 0 points.

Beside ``grades.csv`` (``grades`` standing for its stem): ``grades-students.csv``, one line per student with the
total and each exercise's points, ``submitted`` (the file's modification time) and, with ``--due``, ``late`` and
``late_by_hours`` (marked, never penalised); ``grades-canvas.csv`` and ``grades-moodle.csv``, one column of points
per notebook in the layouts Canvas's and Moodle's gradebook imports read (:mod:`helpers.pipeline.gradebook`).

A never-ending or crashing submission costs its time limit, never the grading run. A Markdown feedback file per
student who handed something in is written into ``--feedback`` (default: ``feedback/`` beside the CSV): points per
exercise, the grading cases each failed and the classic mistake named (never a grading case's expected values). A
summary table is printed.
"""

from __future__ import annotations

from helpers.infrastructure.editions import instructor_only

import argparse
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from helpers.pipeline.gradebook import (
    COLUMNS, Row, Student, Submission, canvas_table, match_student, missing_rows, moodle_table, number, parse_due,
    read_roster, student_table, write_grades, write_table,
)
from helpers.pipeline.submissions import (
    STATUSES, Exercise, exercises, grade_function, grade_submission, identify, max_points, namespace_report,
    notebook_titles, read_submission,
)

__all__ = ["Exercise", "Row", "COLUMNS", "STATUSES", "exercises", "identify", "max_points", "grade_function",
           "namespace_report", "grade_submission", "grade_class", "write_grades", "feedback_markdown", "summary",
           "main"]

def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def grade_class(submissions: list[Path], timeout: float = 600, check_timeout: float = 120, preset: str = "smoke",
                notebook: str | None = None, show_progress: bool = True, jobs: int | None = None,
                students: dict[Path, str] | None = None) -> list[Row]:
    """Grade every submission, ``jobs`` at once (default: the cores; each in its own process and folder, with its
    time limit) with a progress bar; the rows, in submission order. ``students``: path -> the student's name."""
    from helpers.infrastructure.progress import progress

    paths = [Path(path) for path in submissions]
    jobs = max(1, min(jobs or default_jobs(), len(paths) or 1))
    threads = max(1, default_jobs() // jobs)
    names = students or {}
    results: dict[int, list[Row]] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool, \
            progress(total=len(paths), desc="grading", disable=not show_progress) as bar:
        futures = {pool.submit(grade_submission, path, timeout, check_timeout, preset, notebook, None,
                               names.get(path), threads): index for index, path in enumerate(paths)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    return [row for index in range(len(paths)) for row in results[index]]


def feedback_markdown(student: str, rows: list[Row]) -> str:
    """A short feedback page for one student: a line per exercise (points, the classic mistake named), then the
    grading cases each exercise failed (their names, never their expected values) or what went wrong."""
    from helpers.teaching.exercises import MISTAKES

    earned, worth = sum(row.points for row in rows), sum(row.max_points for row in rows)
    lines = [f"# Feedback for {student}", "", f"{number(earned)} of {number(worth)} points; "
             f"{sum(row.passed for row in rows)} of {len(rows)} exercises pass every grading case.", "",
             "| notebook | exercise | points | result | classic mistake |", "|---|---|---|---|---|"]
    for row in rows:
        result = "passed" if row.passed else ("not passed" if row.status == "ok" else row.status)
        mistake = MISTAKES.get(row.exercise, {}).get(row.mistake, "")
        lines.append(f"| {row.notebook or '?'} | {row.exercise or '—'} | {number(row.points)} of "
                     f"{number(row.max_points)} | {result} | {mistake} |")
    lines.append("")
    for row in rows:
        if row.passed:
            continue
        lines += [f"## {row.exercise or row.notebook or 'the submission'}", ""]
        failed = [case for case in row.cases if not case[1]]
        if row.status == "ok" and failed:
            for name, _, points, worth_, mistake in failed:
                named = MISTAKES.get(row.exercise, {}).get(mistake, "")
                lines.append(f"- grading case *{name}* not passed ({number(points)} of {number(worth_)})"
                             + (f": likely mistake, {named}" if named else ""))
        else:
            lines.append(row.message)
        lines.append("")
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    """A plain-text table: per exercise, how many students, passed, mean points, each status, the most common
    mistake."""
    from helpers.teaching.exercises import MISTAKES

    exercise_rows: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        exercise_rows.setdefault((row.notebook, row.exercise), []).append(row)
    header = ("notebook", "exercise", "students", "passed", "mean points", "statuses", "most common mistake")
    table = [header]
    for (notebook, exercise), group in exercise_rows.items():
        statuses = ", ".join(f"{status} {count}" for status, count in Counter(r.status for r in group).most_common())
        mistakes = Counter(r.mistake for r in group if r.mistake).most_common(1)
        common = f"{MISTAKES.get(exercise, {}).get(mistakes[0][0], mistakes[0][0])} ({mistakes[0][1]})" \
            if mistakes else ""
        mean = f"{number(sum(r.points for r in group) / len(group))} of {number(group[0].max_points)}"
        table.append((notebook or "?", exercise or "—", str(len(group)), str(sum(r.passed for r in group)), mean,
                      statuses, common))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table)


def _students_of(submissions: list[Path], roster: list[Student] | None) -> tuple[dict[Path, str], list[Path]]:
    """Each submission's student (its roster id, else its stem) and the submissions no roster id matches."""
    if roster is None:
        return {path: path.stem for path in submissions}, []
    ids = [student.id for student in roster]
    names, strangers = {}, []
    for path in submissions:
        matched = match_student(path.stem, ids)
        names[path] = matched or path.stem
        if matched is None:
            strangers.append(path)
    return names, strangers


def _duplicates(submissions: list[Path], names: dict[Path, str], notebook: str | None) -> str:
    """A one-line description of the students who handed in one notebook twice, or ''."""
    seen: dict[tuple[str, str], list[Path]] = {}
    for path in submissions:
        stem = notebook or identify(path, read_submission(path)[0])
        if stem:
            seen.setdefault((names[path], stem), []).append(path)
    twice = [f"{student} ({stem}): {', '.join(p.name for p in paths)}"
             for (student, stem), paths in seen.items() if len(paths) > 1]
    return "; ".join(twice)


def _missing(rows: list[Row], roster: list[Student] | None, notebook: str | None) -> list[Row]:
    """The ``missing`` rows: every student (the roster's, and whoever handed something in) times every notebook of
    the class (``notebook``, else the notebooks graded) they handed nothing in for."""
    graded = {row.notebook for row in rows if row.exercise}
    by_notebook: dict[str, list[tuple[str, float]]] = {}
    for e in exercises():
        if e.notebook == notebook or (notebook is None and e.notebook in graded):
            by_notebook.setdefault(e.notebook, []).append((e.name, max_points(e.name)))
    everyone = list(dict.fromkeys([*(s.id for s in roster or ()), *(row.student for row in rows)]))
    return missing_rows(rows, everyone, by_notebook)


def _write(rows: list[Row], roster: list[Student] | None, handed_in: list[Submission], due, out: Path,
           feedback: Path) -> None:
    """Write grades.csv, the tables beside it and the feedback pages; print the summary."""
    write_grades(rows, out)
    outputs = _outputs(out)
    students = student_table(rows, roster, handed_in, due)
    write_table(*students, outputs["students"])
    titles = notebook_titles()
    write_table(*canvas_table(rows, roster, titles), outputs["canvas"])
    write_table(*moodle_table(rows, roster, titles), outputs["moodle"])
    feedback.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Row]] = {}
    for row in rows:
        if row.status != "missing":
            by_student.setdefault(row.student, []).append(row)
    for student, student_rows in by_student.items():
        (feedback / f"{student}.md").write_text(feedback_markdown(student, student_rows), encoding="utf-8")
    print(summary(rows))
    nothing = [line[0] for line in students[1] if line[3] == "missing"]
    late = [line[0] for line in students[1] if line[5] == "yes"]
    print(f"\nwrote {out} ({len(rows)} rows), {', '.join(str(p) for p in outputs.values())} and "
          f"{len(by_student)} feedback files in {feedback}"
          + (f"; handed in nothing: {', '.join(nothing)}" if nothing else "")
          + (f"; late: {', '.join(late)}" if late else ""))


def _outputs(out: Path) -> dict[str, Path]:
    """The files written beside ``--out``: the per-student table and the Canvas and Moodle imports."""
    return {kind: out.with_name(f"{out.stem}-{kind}.csv") for kind in ("students", "canvas", "moodle")}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.grade", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="notebooks handed in (a folder: every .ipynb in it)")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"),
                        help="the CSV to write (grades.csv); the per-student, Canvas and Moodle tables go beside it")
    parser.add_argument("--roster", type=Path, default=None,
                        help="CSV of the class (an `id` column; optional name, email, ...): who did not hand in")
    parser.add_argument("--due", default=None, help="deadline, an ISO date or date-time: later files are marked late")
    parser.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the cores)")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="folder for one Markdown feedback file per student (default: feedback/ beside --out)")
    parser.add_argument("--notebook", default=None, help="the kit notebook every submission is (e.g. 01 or its name)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per notebook (600)")
    parser.add_argument("--check-timeout", type=float, default=120, help="seconds for the grading (120)")
    parser.add_argument("--preset", default="smoke", help="KDLS_PRESET for the executed notebooks (smoke)")
    args = parser.parse_args(argv)
    refusal = instructor_only("the grader")
    if refusal is not None:
        parser.error(refusal)
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: give 1 or more")
    try:
        roster = read_roster(args.roster) if args.roster is not None else None
        due = parse_due(args.due) if args.due is not None else None
    except ValueError as error:
        parser.error(str(error))
    notebook = args.notebook
    if notebook is not None:
        known = sorted({e.notebook for e in exercises()})
        matches = [stem for stem in known if stem == notebook or stem.startswith(notebook + "_")]
        if len(matches) != 1:
            parser.error(f"--notebook {notebook!r}: choose one of {', '.join(known)}")
        notebook = matches[0]
    absent = [str(path) for path in args.submissions if not path.exists()]
    if absent:
        parser.error(f"no such file or folder: {', '.join(absent)}")
    submissions: list[Path] = []
    for path in args.submissions:
        submissions.extend(sorted(path.glob("*.ipynb")) if path.is_dir() else [path])
    if not submissions:
        parser.error(f"no notebook to grade in {', '.join(map(str, args.submissions))} (.ipynb files)")
    names, strangers = _students_of(submissions, roster)
    twice = _duplicates(submissions, names, notebook)
    if twice:
        parser.error(f"handed in twice, keep one file each: {twice}")
    for path in strangers:
        print(f"note: {path.name} matches no id of the roster: graded as {path.stem}, left out of the gradebook "
              "imports", file=sys.stderr)
    rows = grade_class(submissions, args.timeout, args.check_timeout, args.preset, notebook, jobs=args.jobs,
                       students=names)
    rows += _missing(rows, roster, notebook)
    handed_in = [Submission(names[path], path, path.stat().st_mtime) for path in submissions if path.is_file()]
    _write(rows, roster, handed_in, due, args.out, args.feedback or args.out.parent / "feedback")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
