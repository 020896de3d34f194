"""nbgrader for courses that use it: the exercise notebooks as an nbgrader *source* version (``make assignment``).

    python -m helpers.pipeline.assignment --out build/assignment [--notebook 01 ...]

writes an nbgrader course folder::

    build/assignment/nbgrader_config.py
    build/assignment/source/<notebook>/<notebook>.ipynb     one assignment per kit notebook with exercises

In each notebook, every exercise's function gets its worked solution from :data:`helpers.teaching.exercises.SOLUTIONS`
(the function's own ``def`` line kept, the solution's body between ``### BEGIN SOLUTION`` / ``### END SOLUTION``;
``nbgrader generate_assignment`` turns it back into a blank for the students), and an autograder test cell
(read-only, ``grade: true``, ``points`` from :data:`POINTS`) right after the notebook's own check cell asserts that
the kit's check passes. Which exercises, which functions and which check arguments come from the kit's notebooks
(:func:`helpers.pipeline.grade.exercises`): nothing is retyped. Then, in that folder::

    nbgrader generate_assignment 01_softmax_temperature_entropy    # release/…: what students get
    # collect the students' notebooks into submitted/<student>/01_softmax_temperature_entropy/
    nbgrader autograde 01_softmax_temperature_entropy
    nbgrader export                                                 # grades.csv
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import textwrap
from pathlib import Path

__all__ = ["POINTS", "DEFAULT_POINTS", "points", "solution_body", "with_solution", "source_notebook",
           "write_assignment", "main"]

#: points per exercise in the autograder (an exercise not listed here is worth DEFAULT_POINTS)
POINTS: dict[str, int] = {
    "softmax_with_temperature": 1,
    "entropy": 1,
    "label_smoothing_loss": 2,
    "distillation_loss": 3,
    "expected_calibration_error": 2,
    "temperature_scaling": 2,
    "kd_training_step": 3,
    "paired_interval": 2,
    "kd_direction_prediction": 2,
}
DEFAULT_POINTS = 1
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

CONFIG = '''\
# nbgrader configuration of the course folder written by `python -m helpers.pipeline.assignment` (make assignment).
c = get_config()  # noqa: F821
c.CourseDirectory.root = "."
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
# notebooks 04 and 06 train small models: give each cell time (the smoke preset: KDLS_PRESET=smoke)
c.ExecutePreprocessor.timeout = 1200
'''


def points(exercise: str) -> int:
    return POINTS.get(exercise, DEFAULT_POINTS)


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
    solution markers if ``markers``); what precedes the ``def`` line (imports) is kept."""
    match = _def_line(cell_source, function)
    parameters = [p.strip().split("=")[0].strip() for p in match["parameters"].split(",") if p.strip()]
    names, body = solution_body(exercise)
    if parameters != names:
        raise ValueError(f"{exercise}: the notebook's {function}({', '.join(parameters)}) and the solution's "
                         f"({', '.join(names)}) name their parameters differently")
    if markers:
        body = f"    {BEGIN}\n{body}\n    {END}"
    return cell_source[:match.end()] + "\n" + body + "\n"


def _test_cell_source(exercise) -> str:
    arguments = ", ".join([exercise.function, *exercise.arguments])
    return (f"# Autograder test (nbgrader, {points(exercise.name)} point(s)): the kit's check of this exercise\n"
            f"from helpers.teaching.exercises import check_{exercise.name}\n\n"
            f"assert check_{exercise.name}({arguments}), "
            f"\"{exercise.name}: the check did not pass (what it found is printed above)\"\n")


def _nbgrader(grade_id: str, solution: bool, grade: bool, points_: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3, "solution": solution,
            "task": False}
    if points_ is not None:
        meta["points"] = points_
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
                                              points_=points(exercise.name))
        if notebook.nbformat_minor < 5:  # cell ids came with nbformat 4.5
            test.pop("id", None)
        cells.insert(check + 1, test)
    return notebook


def write_assignment(out: Path, notebooks: list[str] | None = None) -> list[Path]:
    """Write the nbgrader course folder into ``out`` (see the module's docstring); the notebooks written."""
    import nbformat

    from helpers.pipeline.grade import exercises
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
    try:
        written = write_assignment(args.out, args.notebook)
    except ValueError as error:
        parser.error(str(error))
    total = 0
    for path in written:
        print(f"wrote {path}")
    from helpers.pipeline.grade import exercises

    total = sum(points(e.name) for e in exercises() if e.notebook in {p.stem for p in written})
    print(f"{len(written)} assignment(s), {total} points in all. Next, in {args.out}: "
          "nbgrader generate_assignment NAME, then nbgrader autograde NAME (README: Running a course three ways)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
