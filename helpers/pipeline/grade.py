"""Grade a class: run every submitted notebook, then every exercise's check on the function the student wrote.

    python -m helpers.pipeline.grade SUBMISSIONS... --out grades.csv [--feedback DIR] [--timeout 600] [--preset smoke]

Each submission (a ``.ipynb`` file; the student is the file's stem) is executed headless in its own process, in a
temporary folder, with a time limit for the whole notebook (a cell still running then is interrupted, and the
process and its kernel are killed if they do not stop). Every cell runs even after one raises, like a teacher
pressing "run all" and reading on. Then one extra cell, added at the end, runs the kit's checks
(:func:`helpers.teaching.exercises.run_check`) on the functions the notebook defines and prints their verdicts as JSON.

Which exercises a notebook has, the name of the function each one checks and the extra arguments its check takes
are read from the kit's own notebooks (the ``check_...(function, ...)`` calls): nothing is retyped here. Which kit
notebook a submission is: ``--notebook``, else the submission's title (its first Markdown line) or check calls, else
a kit notebook's number in the file name (``alice_01.ipynb``).

``grades.csv`` has one row per student and exercise: ``student, notebook, exercise, passed, mistake, message,
status``. ``mistake`` is the key of the classic mistake the check named (``helpers.teaching.exercises.MISTAKES``);
``message`` what the check printed, on one line. ``status`` says what happened:

* ``ok``: the notebook ran and the check judged the function (``passed`` says how);
* ``blank``: the function is still the template (returns ``None``);
* ``missing-function``: the notebook defines no function of that name (renamed, or its cell deleted);
* ``error``: a cell raised (the message names it); the check still ran on what the notebook defined;
* ``timeout``: the notebook did not finish within the time limit; the check ran on what was defined by then,
  unless the checks themselves did not finish;
* ``empty``, ``not-json``, ``not-a-notebook``: the file is empty, is not JSON, is JSON but not a notebook;
* ``unknown-notebook``: the file is a notebook, but none of the kit's notebooks with exercises;
* ``missing-file``: no such file.

A never-ending or crashing submission costs its time limit, never the grading run. A Markdown feedback file per
student is written into ``--feedback`` (default: ``feedback/`` beside the CSV), and a summary table is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers.infrastructure.settings import checkout_root

__all__ = ["Exercise", "Row", "COLUMNS", "STATUSES", "exercises", "identify", "grade_submission", "grade_class",
           "write_grades", "feedback_markdown", "namespace_report", "main"]

COLUMNS = ("student", "notebook", "exercise", "passed", "mistake", "message", "status")
STATUSES = ("ok", "blank", "missing-function", "error", "timeout", "empty", "not-json", "not-a-notebook",
            "unknown-notebook", "missing-file")
MARKER = "@@KDLS-GRADE@@"
_CHECK_CALL = re.compile(r"\bcheck_(\w+)\(\s*([A-Za-z_]\w*)\s*(?:,\s*([^)]*))?\)")


@dataclass(frozen=True)
class Exercise:
    """One exercise of a kit notebook: the check's name (a key of ``helpers.teaching.exercises.SOLUTIONS``), the notebook's
    stem, the name of the student's function and the notebook variables the check also takes."""

    name: str
    notebook: str
    function: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Row:
    """One line of grades.csv."""

    student: str
    notebook: str
    exercise: str
    passed: bool
    mistake: str
    message: str
    status: str


def exercises(folder: Path | None = None) -> list[Exercise]:
    """Every exercise of the kit's notebooks, in notebook order, read from their ``check_...(...)`` calls."""
    import nbformat

    from helpers.teaching.exercises import SOLUTIONS
    from helpers.pipeline.notebooks import NOTEBOOK_DIR, list_notebooks

    found: list[Exercise] = []
    for path in list_notebooks(NOTEBOOK_DIR if folder is None else Path(folder)):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            for name, function, rest in _CHECK_CALL.findall(cell.source):
                if name in SOLUTIONS and not any(e.name == name for e in found):
                    arguments = tuple(a.strip() for a in rest.split(",") if a.strip()) if rest else ()
                    found.append(Exercise(name, path.stem, function, arguments))
    return found


def _title(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            return cell.source.strip().splitlines()[0].strip()
    return ""


def identify(path: Path, notebook=None, folder: Path | None = None) -> str | None:
    """The stem of the kit notebook that ``path`` (read as ``notebook``, if it could be) is a copy of, or None."""
    import nbformat

    from helpers.pipeline.notebooks import NOTEBOOK_DIR, list_notebooks

    kit = {p.stem: p for p in list_notebooks(NOTEBOOK_DIR if folder is None else Path(folder))}
    with_exercises = {e.notebook for e in exercises(folder)}
    if notebook is not None:
        title = _title(notebook)
        for stem, kit_path in kit.items():
            if title and title == _title(nbformat.read(kit_path, as_version=4)):
                return stem
        calls = {name for cell in notebook.cells if cell.cell_type == "code"
                 for name, _, _ in _CHECK_CALL.findall(cell.source)}
        counts = Counter(e.notebook for e in exercises(folder) if e.name in calls)
        if counts:
            return counts.most_common(1)[0][0]
    stem = Path(path).stem
    for kit_stem in sorted(with_exercises):
        if kit_stem in stem:
            return kit_stem
    for number in re.findall(r"(?<!\d)(\d\d)(?!\d)", stem):
        matches = [kit_stem for kit_stem in sorted(with_exercises) if kit_stem.startswith(number + "_")]
        if matches:
            return matches[0]
    return None


# ------------------------------------------------------------------------------------- inside the kernel


def namespace_report(namespace: dict, specs: list[list]) -> list[dict]:
    """Run each exercise's check on the function ``namespace`` defines (called by the cell added at the end of a
    submission, in its kernel): one dict per ``[name, function, arguments]`` in ``specs``."""
    import types

    from helpers.teaching.exercises import run_check

    defined = sorted(name for name, value in namespace.items()
                     if isinstance(value, types.FunctionType) and not name.startswith("_")
                     and getattr(value, "__module__", None) == "__main__")
    report = []
    for name, function, arguments in specs:
        candidate = namespace.get(function)
        borrowed = callable(candidate) and str(getattr(candidate, "__module__", "")).startswith("helpers")
        if not callable(candidate) or borrowed:
            what = "" if function not in namespace else f" (`{function}` is a {type(candidate).__name__})"
            if borrowed:
                what = f" (`{function}` is the kit's own, imported from {candidate.__module__}, not the student's)"
            others = f"; the notebook defines: {', '.join(defined)}" if defined else ""
            report.append({"exercise": name, "status": "missing-function", "passed": False, "mistake": "",
                           "message": f"no function `{function}` defined{what}: the check looks for this name "
                                      f"(renamed, or its cell deleted?){others}"})
            continue
        values = [namespace[argument] for argument in arguments if argument in namespace]
        try:
            result = run_check(name, candidate, *values) if len(values) == len(arguments) else \
                run_check(name, candidate)
        except Exception as error:  # a check never raises; this is a last guard for the grading run
            report.append({"exercise": name, "status": "error", "passed": False, "mistake": "",
                           "message": f"the check itself failed: {type(error).__name__}: {error}"})
            continue
        report.append({"exercise": name, "status": result.status, "passed": result.passed, "mistake": result.mistake,
                       "message": result.message})
    return report


def _check_cell(specs: list[Exercise]) -> str:
    payload = [[e.name, e.function, list(e.arguments)] for e in specs]
    return ("import json as _kdls_json\n"
            "from helpers.pipeline.grade import namespace_report as _kdls_report\n"
            f"print({MARKER!r} + _kdls_json.dumps(_kdls_report(globals(), {payload!r})))\n")


# ------------------------------------------------------------------------------------- the worker process


def _worker(submission: Path, spec_file: Path, result_file: Path, timeout: float, check_timeout: float,
            preset: str) -> None:
    """Execute ``submission`` (in its folder) cell by cell within ``timeout`` seconds, then the checks; write JSON."""
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    from helpers.pipeline.notebooks import preset_environment

    specs = [Exercise(name, notebook, function, tuple(arguments))
             for name, notebook, function, arguments in json.loads(spec_file.read_text())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        notebook = nbformat.read(submission, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_check_cell(specs)))
    config = Config()
    config.KernelManager.transport_encryption = "auto"
    client = NotebookClient(notebook, timeout=int(max(1, timeout)), kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, config=config,
                            resources={"metadata": {"path": str(submission.parent)}})
    outcome: dict = {"errors": [], "timed_out": False, "report": None, "checks_timed_out": False}
    deadline = time.monotonic() + timeout

    def save() -> None:
        result_file.write_text(json.dumps(outcome))

    with preset_environment(preset), client.setup_kernel():
        pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
        if pid:
            (result_file.parent / "kernel.pid").write_text(str(pid))
        last = len(notebook.cells) - 1
        for index, cell in enumerate(notebook.cells[:last]):
            if cell.cell_type != "code":
                continue
            remaining = deadline - time.monotonic()
            if remaining < 1:  # out of time: the remaining cells are not run (none is cut off halfway)
                outcome["timed_out"] = True
                break
            client.timeout = int(remaining)
            client.execute_cell(cell, index)
            errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
            if time.monotonic() >= deadline:
                outcome["timed_out"] = True
                save()
                break
            if errors:
                outcome["errors"].append({"cell": index + 1, "ename": errors[0].get("ename", "Error"),
                                          "evalue": errors[0].get("evalue", "")})
            save()
        checks = notebook.cells[last]
        if outcome["timed_out"]:
            # an interrupt sent to the timed-out cell may arrive late: let it land on a pause, not on the checks
            pause = nbformat.v4.new_code_cell("import time as _kdls_time\n_kdls_time.sleep(2)")
            for _ in range(3):
                pause.outputs = []
                client.timeout = 30
                client.execute_cell(pause, last)
                if not any(output.get("output_type") == "error" for output in pause.get("outputs", [])):
                    break
            notebook.cells[last] = checks  # execute_cell stores the cell it ran at the index given
        # the checks; once more if an interrupt meant for a timed-out cell reached them instead
        cell, started = checks, time.monotonic()
        for attempt in range(2):
            cell.outputs = []
            client.timeout = int(max(1, check_timeout - (time.monotonic() - started)))
            client.execute_cell(cell, last)
            errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
            text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                           if output.get("output_type") == "stream")
            lines = [line for line in text.splitlines() if line.startswith(MARKER)]
            if lines:
                outcome["report"] = json.loads(lines[-1][len(MARKER):])
                break
            outcome["checks_output"] = json.dumps(cell.get("outputs", []))[-800:]
            if time.monotonic() - started >= check_timeout:
                outcome["checks_timed_out"] = True
                break
            if errors:
                outcome["checks_error"] = f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
                if errors[0].get("ename") == "KeyboardInterrupt" and attempt == 0:
                    continue
            break
    save()


# ------------------------------------------------------------------------------------- the grader


def _read(path: Path):
    """``(notebook or None, status or None)``: the parsed notebook, or why it could not be read."""
    import nbformat

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        return None, "missing-file", str(error)
    if not data.strip():
        return None, "empty", "the file is empty"
    try:
        json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        return None, "not-json", f"the file is not JSON, so not a notebook ({type(error).__name__}: {error})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a hand-edited notebook may lack cell ids: still a notebook
            notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        _ = [cell.cell_type for cell in notebook.cells]
    except Exception as error:
        return None, "not-a-notebook", f"the file is JSON but not a notebook ({type(error).__name__}: {error})"
    return notebook, None, ""


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _kill(pid: int) -> None:
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def grade_submission(path: Path, timeout: float = 600, check_timeout: float = 120, preset: str = "smoke",
                     notebook: str | None = None, folder: Path | None = None) -> list[Row]:
    """The rows of one submission (never raises for a bad submission)."""
    path = Path(path)
    student = path.stem
    specs_all = exercises(folder)
    parsed, problem, detail = _read(path)
    stem = notebook or identify(path, parsed, folder)
    specs = [e for e in specs_all if e.notebook == stem]
    if problem is not None or not specs:
        status = problem or "unknown-notebook"
        if problem is None:
            detail = ("this notebook is none of the kit's notebooks with exercises (say which one with --notebook)"
                      if stem is None else f"the kit's notebook {stem} has no exercises")
        names = [e.name for e in specs] or [""]
        return [Row(student, stem or "", name, False, "", detail, status) for name in names]
    with tempfile.TemporaryDirectory(prefix="kdls-grade-") as tmp:
        work = Path(tmp)
        copy = work / "submission.ipynb"
        shutil.copyfile(path, copy)
        spec_file, result_file = work / "specs.json", work / "result.json"
        spec_file.write_text(json.dumps([[e.name, e.notebook, e.function, list(e.arguments)] for e in specs]))
        command = [sys.executable, "-m", "helpers.pipeline.grade", "_worker", str(copy), str(spec_file), str(result_file),
                   str(timeout), str(check_timeout), preset]
        env = dict(os.environ)
        root = checkout_root()
        if root is not None:  # the worker and its kernel import this kit, even from a checkout that is not installed
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
        process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        killed = False
        try:
            output, _ = process.communicate(timeout=timeout + check_timeout + 90)
        except subprocess.TimeoutExpired:
            killed = True
            _kill(process.pid)
            output, _ = process.communicate()
        finally:
            pid_file = work / "kernel.pid"
            if pid_file.is_file():
                _kill(int(pid_file.read_text()))
        outcome = json.loads(result_file.read_text()) if result_file.is_file() else None
    return _rows(student, stem, specs, outcome, killed, timeout, check_timeout, output or "")


def _rows(student: str, stem: str, specs: list[Exercise], outcome: dict | None, killed: bool, timeout: float,
          check_timeout: float, output: str) -> list[Row]:
    if outcome is None or outcome.get("report") is None:
        if killed or (outcome or {}).get("timed_out") or (outcome or {}).get("checks_timed_out"):
            status = "timeout"
            detail = (f"the checks did not finish within {check_timeout:g} s (a function that never returns?)"
                      if (outcome or {}).get("checks_timed_out") and not (outcome or {}).get("timed_out")
                      else f"the notebook did not finish within {timeout:g} s and was stopped")
            if (outcome or {}).get("checks_error"):
                detail += f" (the checks: {outcome['checks_error']})"
        else:
            status = "error"
            detail = ("the checks could not run: " + outcome["checks_error"]) if (outcome or {}).get("checks_error") \
                else "the notebook could not be executed: " + _one_line(output[-500:])
        return [Row(student, stem, e.name, False, "", detail, status) for e in specs]
    notes, override = [], None
    missing = {e.function for e in specs
               if any(entry["exercise"] == e.name and entry["status"] == "missing-function" for entry in outcome["report"])}
    # a NameError for a missing exercise function (the notebook's own check cell calling it) is that function's
    # missing-function row, not an error of the notebook
    errors = [error for error in outcome.get("errors", [])
              if not (error["ename"] == "NameError" and any(f"'{name}'" in error["evalue"] for name in missing))]
    if outcome.get("timed_out"):
        override = "timeout"
        notes.append(f"the notebook did not finish within {timeout:g} s (a cell that never ends?); checked what it "
                     "had defined by then:")
    elif errors:
        error = errors[0]
        override = "error"
        notes.append(f"cell {error['cell']} raised {error['ename']}: {_one_line(error['evalue'])[:200]};"
                     " checked what the notebook defined:")
    by_name = {entry["exercise"]: entry for entry in outcome["report"]}
    rows = []
    for e in specs:
        entry = by_name[e.name]
        message = " ".join([*notes, _one_line(entry["message"])])
        rows.append(Row(student, stem, e.name, bool(entry["passed"]), entry["mistake"], message,
                        override or entry["status"]))
    return rows


def grade_class(submissions: list[Path], timeout: float = 600, check_timeout: float = 120, preset: str = "smoke",
                notebook: str | None = None, show_progress: bool = True) -> list[Row]:
    """Grade every submission in turn (with a progress bar); the rows, in submission order."""
    from helpers.infrastructure.progress import progress

    rows: list[Row] = []
    for path in progress(list(submissions), desc="grading", disable=not show_progress):
        rows.extend(grade_submission(Path(path), timeout, check_timeout, preset, notebook))
    return rows


def write_grades(rows: list[Row], out: Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
    return out


def feedback_markdown(student: str, rows: list[Row]) -> str:
    """A short feedback page for one student: a line per exercise, then what each check said."""
    from helpers.teaching.exercises import MISTAKES

    passed = sum(row.passed for row in rows)
    lines = [f"# Feedback for {student}", "", f"{passed} of {len(rows)} exercises pass their check.", "",
             "| notebook | exercise | result | classic mistake |", "|---|---|---|---|"]
    for row in rows:
        result = "passed" if row.passed else ("not passed" if row.status == "ok" else row.status)
        mistake = MISTAKES.get(row.exercise, {}).get(row.mistake, "")
        lines.append(f"| {row.notebook or '?'} | {row.exercise or '—'} | {result} | {mistake} |")
    lines.append("")
    for row in rows:
        if row.passed:
            continue
        lines += [f"## {row.exercise or row.notebook or 'the submission'}", "", row.message, ""]
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    """A plain-text table: per exercise, how many submissions, passed, each status, the most common mistake."""
    from helpers.teaching.exercises import MISTAKES

    exercise_rows: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        exercise_rows.setdefault((row.notebook, row.exercise), []).append(row)
    header = ("notebook", "exercise", "students", "passed", "statuses", "most common mistake")
    table = [header]
    for (notebook, exercise), group in exercise_rows.items():
        statuses = ", ".join(f"{status} {count}" for status, count in Counter(r.status for r in group).most_common())
        mistakes = Counter(r.mistake for r in group if r.mistake).most_common(1)
        common = f"{MISTAKES.get(exercise, {}).get(mistakes[0][0], mistakes[0][0])} ({mistakes[0][1]})" \
            if mistakes else ""
        table.append((notebook or "?", exercise or "—", str(len(group)), str(sum(r.passed for r in group)), statuses,
                      common))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        submission, specs, result, timeout, check_timeout, preset = argv[1:7]
        _worker(Path(submission), Path(specs), Path(result), float(timeout), float(check_timeout), preset)
        return 0
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.grade", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="notebooks handed in (a folder: every .ipynb in it)")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the CSV to write (grades.csv)")
    parser.add_argument("--feedback", type=Path, default=None,
                        help="folder for one Markdown feedback file per student (default: feedback/ beside --out)")
    parser.add_argument("--notebook", default=None, help="the kit notebook every submission is (e.g. 01 or its name)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per notebook (600)")
    parser.add_argument("--check-timeout", type=float, default=120, help="seconds for the checks (120)")
    parser.add_argument("--preset", default="smoke", help="KDLS_PRESET for the executed notebooks (smoke)")
    args = parser.parse_args(argv)
    notebook = args.notebook
    if notebook is not None:
        known = sorted({e.notebook for e in exercises()})
        matches = [stem for stem in known if stem == notebook or stem.startswith(notebook + "_")]
        if len(matches) != 1:
            parser.error(f"--notebook {notebook!r}: choose one of {', '.join(known)}")
        notebook = matches[0]
    submissions: list[Path] = []
    for path in args.submissions:
        submissions.extend(sorted(path.glob("*.ipynb")) if path.is_dir() else [path])
    rows = grade_class(submissions, args.timeout, args.check_timeout, args.preset, notebook)
    write_grades(rows, args.out)
    feedback = args.feedback or args.out.parent / "feedback"
    feedback.mkdir(parents=True, exist_ok=True)
    by_student: dict[str, list[Row]] = {}
    for row in rows:
        by_student.setdefault(row.student, []).append(row)
    for student, student_rows in by_student.items():
        (feedback / f"{student}.md").write_text(feedback_markdown(student, student_rows), encoding="utf-8")
    print(summary(rows))
    print(f"\nwrote {args.out} ({len(rows)} rows) and {len(by_student)} feedback files in {feedback}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
