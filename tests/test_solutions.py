"""Every written answer runs: what ``show_solution`` prints passes its check (in the notebook's own exercise cell),
each ``notebooks/solutions/*.md`` Python block runs at the end of its notebook (smoke preset), and what the written
answers quote or claim agrees with the kit.

The numbers a solution states about deterministic computations (notebooks 01-03) are guarded by ``assert`` lines in
its own snippets, so they run with it; a solution that depends on trained models says to read the numbers from the
printout instead of typing them.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from helpers.teaching.exercises import EXERCISES, grade_exercise, run_check, show_solution

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.md"))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(path: Path, language: str) -> list[str]:
    return [code for lang, code in FENCE.findall(path.read_text(encoding="utf-8")) if lang == language]


def _exercise_cell(name: str) -> str:
    exercise = EXERCISES[name]
    (path,) = NOTEBOOKS.glob(f"{exercise.notebook}_*.ipynb")
    (cell,) = [c.source for c in nbformat.read(path, as_version=4).cells
               if c.cell_type == "code" and re.search(rf"^def {exercise.function}\(", c.source, re.MULTILINE)]
    return cell


@pytest.mark.usefixtures("single_torch_thread")
@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_printed_solution_passes_its_check_in_the_notebooks_cell(name):
    """The printed solution, put in place of the blank function of the notebook's exercise cell (the cell's own imports
    kept, with the setup cell's torch and numpy), passes the self-check and earns every point."""
    exercise = EXERCISES[name]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        show_solution(name)
    cell = _exercise_cell(name)
    imports = cell[:re.search(rf"^def {exercise.function}\(", cell, re.MULTILINE).start()]
    namespace: dict = {}
    exec(compile("import math\nimport numpy as np\nimport torch\n" + imports + printed.getvalue(),  # noqa: S102
                 f"<solution {name}>", "exec"), namespace)
    function, arguments = namespace[exercise.function], exercise.instructor.arguments()
    assert run_check(name, function, *arguments).passed
    assert grade_exercise(name, function, *arguments).passed


def test_each_notebooks_solutions_show_its_coding_exercises():
    for name, exercise in EXERCISES.items():
        (path,) = (NOTEBOOKS / "solutions").glob(f"{exercise.notebook}_*.md")
        assert any(f'show_solution("{name}")' in block for block in _blocks(path, "python")), (path.name, name)


def test_quoted_kit_code_is_in_the_file_the_solution_names():
    """A ``text`` block quoting the kit follows a sentence naming the file (``helpers/....py``) it is quoted from."""
    quotes = 0
    for path in SOLUTIONS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match[1] != "text":
                continue
            named = re.findall(r"`(helpers/[\w/]+\.py)`", text[:match.start()])
            assert named, (path.name, match[2])
            assert match[2].strip() in (ROOT / named[-1]).read_text(encoding="utf-8"), (path.name, named[-1], match[2])
            quotes += 1
    assert quotes


def test_no_solution_uses_a_name_no_notebook_has():
    """``theory.`` or ``calibration.`` as a module prefix: the notebooks import names from ``helpers``, not modules."""
    for path in SOLUTIONS:
        for block in _blocks(path, "python"):
            assert not re.search(r"\b(theory|calibration|metrics|losses)\.\w+\(", block), (path.name, block)


def test_no_solution_repeats_the_misconception_that_ls_caps_confidence():
    """TEACHING.md: "LS caps the confidence at 1 − α + α/K" is true of the free-logit optimum only."""
    text = (NOTEBOOKS / "solutions" / "02_label_smoothing.md").read_text(encoding="utf-8")
    assert not re.search(r"\bcaps?\b", text, re.IGNORECASE)


# The solutions' Python blocks run at the end of their notebook in tests/test_notebooks.py (one execution per
# notebook serves both).
