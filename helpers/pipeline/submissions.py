"""One handed-in notebook, graded: which kit notebook it is, running it in its own process, and grading the
functions it defines on each exercise's grading cases (the machinery behind :mod:`helpers.pipeline.grade`).

:func:`grade_submission` copies the file into a temporary folder and starts a worker process
(``python -m helpers.pipeline.submissions _worker ...``) that executes it cell by cell within the time limit, then
runs one added cell: :func:`namespace_report`, in the student's kernel, grades each exercise's function with
:func:`grade_function` and prints the verdicts as JSON. :func:`max_points` and :func:`grade_function` are the one
place that reads the points and grading cases the exercises declare (``helpers.teaching.exercises``).
"""

from __future__ import annotations

import json
import math
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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from helpers.infrastructure.settings import checkout_root
from helpers.pipeline.gradebook import Row

__all__ = ["Exercise", "STATUSES", "exercises", "identify", "notebook_titles", "max_points", "grade_function",
           "namespace_report", "read_submission", "grade_submission"]

STATUSES = ("ok", "blank", "missing-function", "error", "timeout", "empty", "not-json", "not-a-notebook",
            "unknown-notebook", "missing-file", "missing")
MARKER = "@@KDLS-GRADE@@"
_CHECK_CALL = re.compile(r"\bcheck_(\w+)\(\s*([A-Za-z_]\w*)\s*(?:,\s*([^)]*))?\)")


@dataclass(frozen=True)
class Exercise:
    """One exercise as the grader sees it: its name (a key of ``helpers.teaching.exercises.EXERCISES``), the kit
    notebook's stem, the name of the student's function and the notebook variables its check also takes."""

    name: str
    notebook: str
    function: str
    arguments: tuple[str, ...] = ()


def exercises(folder: Path | None = None) -> list[Exercise]:
    """Every exercise (``helpers.teaching.exercises.EXERCISES``: its function and its check's arguments), with the
    kit notebook it belongs to, in notebook order and, within a notebook, in the order of its check calls."""
    return list(_exercises(None if folder is None else str(Path(folder).resolve())))


@lru_cache(maxsize=8)
def _exercises(folder: str | None) -> tuple[Exercise, ...]:
    import nbformat

    from helpers.pipeline.notebooks import NOTEBOOK_DIR, list_notebooks
    from helpers.teaching.exercises import EXERCISES

    found: list[Exercise] = []
    for path in list_notebooks(NOTEBOOK_DIR if folder is None else Path(folder)):
        mine = [e for e in EXERCISES.values() if path.stem.startswith(f"{e.notebook}_")]
        if not mine:
            continue
        source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        where = {e.name: source.find(f"check_{e.name}(") % (len(source) + 1) for e in mine}  # absent: last
        found += [Exercise(e.name, path.stem, e.function, tuple(e.arguments))
                  for e in sorted(mine, key=lambda e: (where[e.name], e.name))]
    return tuple(found)


def _title(notebook) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            return cell.source.strip().splitlines()[0].strip()
    return ""


@lru_cache(maxsize=8)
def _kit_titles(folder: str | None) -> tuple[tuple[str, str], ...]:
    import nbformat

    from helpers.pipeline.notebooks import NOTEBOOK_DIR, list_notebooks

    return tuple((path.stem, _title(nbformat.read(path, as_version=4)))
                 for path in list_notebooks(NOTEBOOK_DIR if folder is None else Path(folder)))


def notebook_titles(folder: Path | None = None) -> dict[str, str]:
    """Each kit notebook's title (its first Markdown line, without the ``#``): the gradebooks' column names."""
    return {stem: title.lstrip("#").strip() or stem
            for stem, title in _kit_titles(None if folder is None else str(Path(folder).resolve()))}


def identify(path: Path, notebook=None, folder: Path | None = None) -> str | None:
    """The stem of the kit notebook that ``path`` (read as ``notebook``, if it could be) is a copy of, or None."""
    key = None if folder is None else str(Path(folder).resolve())
    found = _exercises(key)
    with_exercises = {e.notebook for e in found}
    if notebook is not None:
        title = _title(notebook)
        for stem, kit_title in _kit_titles(key):
            if title and title == kit_title:
                return stem
        calls = {name for cell in notebook.cells if cell.cell_type == "code"
                 for name, _, _ in _CHECK_CALL.findall(cell.source)}
        counts = Counter(e.notebook for e in found if e.name in calls)
        if counts:
            return counts.most_common(1)[0][0]
    stem = Path(path).stem
    for kit_stem in sorted(with_exercises):
        if kit_stem in stem:
            return kit_stem
    for number_ in re.findall(r"(?<!\d)(\d\d)(?!\d)", stem):
        matches = [kit_stem for kit_stem in sorted(with_exercises) if kit_stem.startswith(number_ + "_")]
        if matches:
            return matches[0]
    return None


# ------------------------------------------------------------------------ points and grading cases: one adapter


def _grading():
    """``(EXERCISES, grade_exercise)`` of :mod:`helpers.teaching.exercises`: the only place the grader reads the
    exercises' grading cases and their points from."""
    from helpers.teaching.exercises import EXERCISES, grade_exercise

    return EXERCISES, grade_exercise


def max_points(exercise: str) -> float:
    """The points exercise ``exercise`` is worth: the sum over its grading cases (set in the exercise's module)."""
    points = _grading()[0][exercise].points
    return float(sum(points.values()))


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def grade_function(exercise: str, function, *arguments) -> dict:
    """Grade ``function`` on exercise ``exercise``'s grading cases (extra ``arguments`` as its check takes them):
    a dict with ``passed`` (every case), ``status`` (``ok`` or ``blank``), ``points``, ``max_points``,
    ``mistake`` (the first failed case's), ``message`` (one line) and ``cases`` (one dict per case: ``case``,
    ``passed``, ``points``, ``max_points``, ``mistake``, ``message``)."""
    grading = _grading()
    grade = grading[1](exercise, function, *arguments)
    cases = [{"case": case.case, "passed": bool(case.passed), "points": float(case.points),
              "max_points": float(case.max_points), "mistake": case.mistake or "", "message": _one_line(case.message)}
             for case in grade.cases]
    failed = [case for case in cases if not case["passed"]]
    blank = grade.status == "blank"
    if not failed:
        message = f"all {len(cases)} grading cases pass"
    elif blank:
        message = "not implemented yet (the function is still the template: it returns None)"
    else:
        message = (f"{len(cases) - len(failed)} of {len(cases)} grading cases pass; "
                   + "; ".join(c["message"] if f"'{c['case']}'" in c["message"] else f"case '{c['case']}': "
                               f"{c['message']}" for c in failed))
    return {"passed": not failed, "status": "blank" if blank else "ok",
            "points": round(sum(c["points"] for c in cases), 6), "max_points": max_points(exercise),
            "mistake": next((c["mistake"] for c in failed if c["mistake"]), ""), "message": message, "cases": cases}


# ------------------------------------------------------------------------------------- inside the kernel


def namespace_report(namespace: dict, specs: list[list]) -> list[dict]:
    """Grade the function ``namespace`` defines for each exercise (called by the cell added at the end of a
    submission, in its kernel): one dict per ``[name, function, arguments]`` in ``specs``, as
    :func:`grade_function` returns it with ``exercise`` added (``status`` ``missing-function`` where the notebook
    defines no such function, or only the kit's own)."""
    import types

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
                           "points": 0.0, "max_points": max_points(name), "cases": [],
                           "message": f"no function `{function}` defined{what}: the check looks for this name "
                                      f"(renamed, or its cell deleted?){others}"})
            continue
        values = [namespace[argument] for argument in arguments if argument in namespace]
        try:
            graded = grade_function(name, candidate, *values) if len(values) == len(arguments) else \
                grade_function(name, candidate)
        except Exception as error:  # grading never raises; this is a last guard for the grading run
            graded = {"status": "error", "passed": False, "mistake": "", "points": 0.0,
                      "max_points": max_points(name), "cases": [],
                      "message": f"the grading itself failed: {type(error).__name__}: {error}"}
        report.append({"exercise": name, **graded})
    return report


def _check_cell(specs: list[Exercise]) -> str:
    payload = [[e.name, e.function, list(e.arguments)] for e in specs]
    return ("import json as _kdls_json\n"
            "from helpers.pipeline.submissions import namespace_report as _kdls_report\n"
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
            client.timeout = math.ceil(remaining)  # the interrupt comes at the deadline, not before it
            client.execute_cell(cell, index)
            errors = [output for output in cell.get("outputs", []) if output.get("output_type") == "error"]
            interrupted = bool(errors) and errors[0].get("ename") == "KeyboardInterrupt"
            if time.monotonic() >= deadline or (interrupted and time.monotonic() >= deadline - 2):
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




def read_submission(path: Path):
    """``(notebook or None, status or None, detail)``: the parsed notebook, or why it could not be read."""
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


def _kill(pid: int) -> None:
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def grade_submission(path: Path, timeout: float = 600, check_timeout: float = 120, preset: str = "smoke",
                     notebook: str | None = None, folder: Path | None = None, student: str | None = None,
                     threads: int | None = None) -> list[Row]:
    """The rows of one submission (never raises for a bad submission). ``student``: the name in the rows (default:
    the file's stem); ``threads``: the kernel's thread count (``OMP_NUM_THREADS``, unless already set)."""
    path = Path(path)
    student = student or path.stem
    specs_all = exercises(folder)
    parsed, problem, detail = read_submission(path)
    stem = notebook or identify(path, parsed, folder)
    specs = [e for e in specs_all if e.notebook == stem]
    if problem is not None or not specs:
        status = problem or "unknown-notebook"
        if problem is None:
            detail = ("this notebook is none of the kit's notebooks with exercises (say which one with --notebook)"
                      if stem is None else f"the kit's notebook {stem} has no exercises")
        if not specs:
            return [Row(student, stem or "", "", False, 0.0, 0.0, "", detail, status)]
        return [Row(student, stem or "", e.name, False, 0.0, max_points(e.name), "", detail, status) for e in specs]
    with tempfile.TemporaryDirectory(prefix="kdls-grade-") as tmp:
        work = Path(tmp)
        copy = work / "submission.ipynb"
        shutil.copyfile(path, copy)
        spec_file, result_file = work / "specs.json", work / "result.json"
        spec_file.write_text(json.dumps([[e.name, e.notebook, e.function, list(e.arguments)] for e in specs]))
        command = [sys.executable, "-m", "helpers.pipeline.submissions", "_worker", str(copy), str(spec_file),
                   str(result_file), str(timeout), str(check_timeout), preset]
        env = dict(os.environ)
        root = checkout_root()
        if root is not None:  # the worker and its kernel import this kit, even from a checkout that is not installed
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
        if threads is not None:
            for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(variable, str(threads))
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
            detail = (f"the grading did not finish within {check_timeout:g} s (a function that never returns?)"
                      if (outcome or {}).get("checks_timed_out") and not (outcome or {}).get("timed_out")
                      else f"the notebook did not finish within {timeout:g} s and was stopped")
            if (outcome or {}).get("checks_error"):
                detail += f" (the grading: {outcome['checks_error']})"
        else:
            status = "error"
            detail = ("the grading could not run: " + outcome["checks_error"]) if (outcome or {}).get("checks_error") \
                else "the notebook could not be executed: " + _one_line(output[-500:])
        return [Row(student, stem, e.name, False, 0.0, max_points(e.name), "", detail, status) for e in specs]
    notes, override = [], None
    missing = {e.function for e in specs
               if any(entry["exercise"] == e.name and entry["status"] == "missing-function" for entry in outcome["report"])}
    # a NameError for a missing exercise function (the notebook's own check cell calling it) is that function's
    # missing-function row, not an error of the notebook
    errors = [error for error in outcome.get("errors", [])
              if not (error["ename"] == "NameError" and any(f"'{name}'" in error["evalue"] for name in missing))]
    if outcome.get("timed_out"):
        override = "timeout"
        notes.append(f"the notebook did not finish within {timeout:g} s (a cell that never ends?); graded what it "
                     "had defined by then:")
    elif errors:
        error = errors[0]
        override = "error"
        notes.append(f"cell {error['cell']} raised {error['ename']}: {_one_line(error['evalue'])[:200]};"
                     " graded what the notebook defined:")
    by_name = {entry["exercise"]: entry for entry in outcome["report"]}
    rows = []
    for e in specs:
        entry = by_name[e.name]
        message = " ".join([*notes, _one_line(entry["message"])])
        cases = tuple((c["case"], c["passed"], c["points"], c["max_points"], c["mistake"]) for c in entry["cases"])
        rows.append(Row(student, stem, e.name, bool(entry["passed"]), float(entry["points"]),
                        float(entry["max_points"]), entry["mistake"], message, override or entry["status"], cases))
    return rows


def _worker_main(argv: list[str] | None = None) -> int:
    """The worker process, ``python -m helpers.pipeline.submissions _worker SUBMISSION SPECS RESULT TIMEOUT
    CHECK_TIMEOUT PRESET`` (not a command: :func:`grade_submission` starts it)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["_worker"] or len(argv) != 7:
        print("this module is the grader's worker; grade a class with python -m helpers.pipeline.grade",
              file=sys.stderr)
        return 2
    submission, specs, result, timeout, check_timeout, preset = argv[1:7]
    _worker(Path(submission), Path(specs), Path(result), float(timeout), float(check_timeout), preset)
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker_main())
