"""nbgrader for courses that use it: the exercise notebooks as an nbgrader *source* version (``make assignment``).

    python -m helpers.pipeline.assignment --out build/assignment [--notebook 01 ...]

writes an nbgrader course folder::

    build/assignment/nbgrader_config.py
    build/assignment/source/<notebook>/<notebook>.ipynb     one assignment per kit notebook with exercises

In each notebook, every exercise's function gets its worked solution from :data:`helpers.teaching.exercises.SOLUTIONS`
(the function's own ``def`` line kept, the solution's body between ``### BEGIN SOLUTION`` / ``### END SOLUTION``).
``nbgrader generate_assignment`` turns it back into the kit's own blank, ``...  # your code here`` (the course's
``nbgrader_config.py`` sets this stub instead of nbgrader's ``raise NotImplementedError()``): an unfinished
exercise returns None, its check says "not implemented yet" and "Run all" goes on to the last cell, as in the kit's
notebooks. Right after the notebook's own check cell comes an autograder test cell (read-only, ``grade: true``,
``points``: the exercise's points, :func:`helpers.pipeline.submissions.max_points`) whose body is a hidden test:
students see only its comment; ``nbgrader autograde`` restores it and it outputs the points the function earns on
the exercise's grading cases (:func:`autograde_points`), which nbgrader records as partial credit. Which exercises,
which functions and which check arguments come from the kit's notebooks
(:func:`helpers.pipeline.submissions.exercises`): nothing is retyped. Then, in that folder::

    nbgrader generate_assignment 01_softmax_temperature_entropy    # release/…: what students get
    # collect the students' notebooks into submitted/<student>/01_softmax_temperature_entropy/
    nbgrader autograde 01_softmax_temperature_entropy
    nbgrader export                                                 # grades.csv
"""

from __future__ import annotations

from helpers.infrastructure.editions import instructor_only

import argparse
import ast
import inspect
import re
import textwrap
from pathlib import Path

from helpers.pipeline.gradebook import number
from helpers.pipeline.submissions import exercises, max_points

__all__ = ["BEGIN", "END", "STUB", "solution_body", "with_solution", "autograde_points", "source_notebook",
           "write_assignment", "main"]

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
#: what nbgrader leaves where a solution was: the kit's own blank (a function that returns None)
STUB = "...  # your code here"

CONFIG = f'''\
# nbgrader configuration of the course folder written by `python -m helpers.pipeline.assignment` (make assignment).
c = get_config()  # noqa: F821
c.CourseDirectory.root = "."
# the student version keeps the kit's blank: an unfinished exercise returns None, its check says "not implemented
# yet", and "Run all" reaches the last cell (nbgrader's default stub raises NotImplementedError and stops it)
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}
# notebooks 04 and 06 train small models: give each cell time (the smoke preset: KDLS_PRESET=smoke)
c.ExecutePreprocessor.timeout = 1200
'''


def solution_body(exercise: str) -> tuple[list[str], str]:
    """``(parameter names, body)`` of the worked solution of ``exercise``: the body (docstring included) indented by
    four spaces, as in the source."""
    from helpers.teaching.exercises import SOLUTIONS

    source = textwrap.dedent(inspect.getsource(SOLUTIONS[exercise][0]))
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    lines = source.splitlines()
    body = "\n".join(lines[function.body[0].lineno - 1:function.end_lineno])
    return [argument.arg for argument in function.args.args], body


def _def_line(source: str, function: str) -> re.Match[str]:
    match = re.search(rf"^def {re.escape(function)}\((?P<parameters>[^)]*)\):[^\n]*$", source, re.MULTILINE)
    if match is None:
        raise ValueError(f"no `def {function}(...)` line in the cell")
    return match


def with_solution(cell_source: str, exercise: str, function: str, markers: bool = True) -> str:
    """The exercise cell with ``function``'s blank body replaced by the worked solution's body (between nbgrader's
    solution markers if ``markers``); what precedes the ``def`` line (imports) is kept. A blank whose comment says
    more than :data:`STUB` keeps that comment above the markers (the student version shows it above the stub)."""
    match = _def_line(cell_source, function)
    parameters = [p.strip().split("=")[0].strip() for p in match["parameters"].split(",") if p.strip()]
    names, body = solution_body(exercise)
    if parameters != names:
        raise ValueError(f"{exercise}: the notebook's {function}({', '.join(parameters)}) and the solution's "
                         f"({', '.join(names)}) name their parameters differently")
    if markers:
        blank = cell_source[match.end():].strip().splitlines()[:1]
        hint = ""
        comment = blank[0].split("#", 1)[1].strip() if blank and "#" in blank[0] else ""
        comment = re.sub(r"^your code here\W*", "", comment)
        if comment:
            hint = f"    # {comment}\n"
        body = f"{hint}    {BEGIN}\n{body}\n    {END}"
    return cell_source[:match.end()] + "\n" + body + "\n"


def autograde_points(exercise: str, function, *arguments) -> float:
    """The points ``function`` earns on exercise ``exercise``'s grading cases: the value an nbgrader test cell
    outputs for partial credit. Nothing is written to stderr while grading (nbgrader scores a cell that writes to
    stderr 0)."""
    import contextlib
    import io
    import warnings

    from helpers.pipeline.submissions import grade_function

    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        graded = grade_function(exercise, function, *arguments)
    return round(min(graded["points"], graded["max_points"]), 6)


def _test_cell_source(exercise) -> str:
    arguments = ", ".join([repr(exercise.name), exercise.function, *exercise.arguments])
    worth = max_points(exercise.name)
    return (f"# Autograder test (nbgrader, {number(worth)} point{'' if worth == 1 else 's'}): after hand-in, "
            f"`{exercise.function}` is graded\n# on cases you do not see; the check above tests it on cases you do.\n"
            f"{HIDDEN_BEGIN}\n"
            "from helpers.pipeline.assignment import autograde_points\n\n"
            f"autograde_points({arguments})\n"
            f"{HIDDEN_END}\n")


def _nbgrader(grade_id: str, solution: bool, grade: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def source_notebook(path: Path, exercises_of_notebook: list):
    """The nbgrader source version of one kit notebook (an ``nbformat`` notebook; the file is not changed)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for exercise in exercises_of_notebook:
        cells = notebook.cells
        index = next((i for i, cell in enumerate(cells) if cell.cell_type == "code"
                      and re.search(rf"^def {re.escape(exercise.function)}\(", cell.source, re.MULTILINE)), None)
        if index is None:
            raise ValueError(f"{path.name}: no cell defines {exercise.function}() (exercise {exercise.name})")
        cell = cells[index]
        cell.source = with_solution(cell.source, exercise.name, exercise.function)
        cell.metadata["nbgrader"] = _nbgrader(f"{exercise.name}_solution", solution=True, grade=False)
        check = next((i for i in range(index + 1, len(cells)) if cells[i].cell_type == "code"
                      and f"check_{exercise.name}(" in cells[i].source), index)
        test = nbformat.v4.new_code_cell(_test_cell_source(exercise))
        test.metadata["nbgrader"] = _nbgrader(f"{exercise.name}_test", solution=False, grade=True,
                                              points=max_points(exercise.name))
        if notebook.nbformat_minor < 5:  # cell ids came with nbformat 4.5
            test.pop("id", None)
        cells.insert(check + 1, test)
    return notebook


def write_assignment(out: Path, notebooks: list[str] | None = None) -> list[Path]:
    """Write the nbgrader course folder into ``out`` (see the module's docstring); the notebooks written."""
    import nbformat

    from helpers.pipeline.notebooks import NOTEBOOK_DIR

    out = Path(out)
    found = exercises()
    stems = list(dict.fromkeys(e.notebook for e in found))
    if notebooks:
        chosen = []
        for wanted in notebooks:
            matches = [s for s in stems if s == wanted or s.startswith(f"{wanted}_")]
            if len(matches) != 1:
                raise ValueError(f"no notebook with exercises called {wanted!r}; choose among {', '.join(stems)}")
            chosen.append(matches[0])
        stems = chosen
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    written = []
    for stem in stems:
        notebook = source_notebook(NOTEBOOK_DIR / f"{stem}.ipynb", [e for e in found if e.notebook == stem])
        target = out / "source" / stem / f"{stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.assignment", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("build/assignment"), help="the course folder")
    parser.add_argument("--notebook", action="append", default=None,
                        help="only this notebook (its number or name; repeatable)")
    args = parser.parse_args(argv)
    refusal = instructor_only("the nbgrader assignment")
    if refusal is not None:
        parser.error(refusal)
    try:
        written = write_assignment(args.out, args.notebook)
    except ValueError as error:
        parser.error(str(error))
    for path in written:
        print(f"wrote {path}")
    total = sum(max_points(e.name) for e in exercises() if e.notebook in {p.stem for p in written})
    print(f"{len(written)} assignment(s), {number(total)} points in all. Next, in {args.out}: "
          "nbgrader generate_assignment NAME, then nbgrader autograde NAME (README: Running a course three ways)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
