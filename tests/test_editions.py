"""The two editions from one source (helpers.infrastructure.editions, setup.py): the student edition carries no answer.

What counts as an answer: every line of an instructor block (between ``# BEGIN INSTRUCTOR`` and ``# END INSTRUCTOR``
in a module of ``helpers/``: worked solutions, hidden grading cases, wrong-implementation catalogues) that occurs
nowhere else in the package (a *secret line*; short lines, comments, imports and ``def`` lines aside), and the files
only the instructor edition has (``TEACHING.md``, ``solutions/``). The student wheel and the student copy of the
notebooks are searched for every secret line (notebooks by their cells' lines); the instructor wheel must hold them
all. The wheels are built (no isolation, no network) once for the module: the instructor edition first, then the
student edition in the same source folder, so a leftover of the first build would show in the second.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from test_packaging import _build, _source_copy

from helpers.infrastructure.editions import (
    BEGIN_INSTRUCTOR, END_INSTRUCTOR, edition_files, installed_edition, requested_edition, strip_instructor,
)
from helpers.pipeline.notebooks import copy_notebooks

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "helpers"
INSTRUCTOR_ONLY = ("helpers/pipeline/student_notebooks/TEACHING.md", "helpers/pipeline/student_notebooks/solutions/")


# ----------------------------------------------------------------------------------- what counts as an answer


def _significant(line: str) -> bool:
    """A line that can give an answer away: not a comment, an import or a signature (the notebook's template has
    the same ``def`` line), and not too short to be specific."""
    line = line.strip()
    return len(line) >= 8 and not line.startswith(("#", "import ", "from ", "def "))


def instructor_blocks(package: Path = PACKAGE) -> dict[str, list[str]]:
    """``path:line`` of each instructor block's first line -> the block's lines (stripped of indentation)."""
    blocks: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        current = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip() == BEGIN_INSTRUCTOR:
                current = blocks.setdefault(f"{path.relative_to(package.parent).as_posix()}:{number}", [])
            elif line.strip() == END_INSTRUCTOR:
                current = None
            elif current is not None:
                current.append(line.strip())
    return blocks


def secret_lines(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Each instructor block -> its significant lines that occur nowhere in the package outside the blocks."""
    outside = {line.strip() for path in package.rglob("*.py")
               for line in strip_instructor(path.read_text(encoding="utf-8"), str(path)).splitlines()}
    return {block: {line for line in lines if _significant(line) and line not in outside}
            for block, lines in instructor_blocks(package).items()}


def text_lines(name: str, data: bytes) -> set[str]:
    """The stripped lines of a file's text: a notebook's cell sources, any other file decoded as UTF-8 (none for a
    binary file)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return set()
    if name.endswith(".ipynb"):
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return {line.strip() for line in text.splitlines()}


def leaks(files: dict[str, bytes], secrets: dict[str, set[str]]) -> list[str]:
    """``file: block: line`` for every secret line found in one of ``files`` (name -> contents)."""
    found = []
    for name, data in sorted(files.items()):
        lines = text_lines(name, data)
        found += [f"{name}: {block}: {line}" for block, secret in secrets.items() for line in sorted(secret & lines)]
    return found


def _wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


# ----------------------------------------------------------------------------------- the stripping


FIXTURE = textwrap.dedent('''\
    """A module with an instructor part."""
    SOLUTION = None
    # BEGIN INSTRUCTOR


    def solution(x):
        return x * 42  # the answer

    SOLUTION = solution
        # END INSTRUCTOR

    def check(fn):
        return fn(1) == 42
''')


def test_the_blocks_go_and_the_rest_stays_as_it_was():
    stripped = strip_instructor(FIXTURE)
    assert stripped == '"""A module with an instructor part."""\nSOLUTION = None\n\ndef check(fn):\n    return fn(1) == 42\n'
    namespace: dict = {}
    exec(compile(stripped, "<student>", "exec"), namespace)
    assert namespace["SOLUTION"] is None and "solution" not in namespace
    assert strip_instructor("no markers\n") == "no markers\n"


@pytest.mark.parametrize("source, message", [
    (f"{BEGIN_INSTRUCTOR}\nx = 1\n", "line 1: # BEGIN INSTRUCTOR without # END INSTRUCTOR"),
    (f"x = 1\n{END_INSTRUCTOR}\n", "line 2: # END INSTRUCTOR without # BEGIN INSTRUCTOR"),
    (f"{BEGIN_INSTRUCTOR}\n{BEGIN_INSTRUCTOR}\n{END_INSTRUCTOR}\n", "line 2: # BEGIN INSTRUCTOR inside the block"),
])
def test_unbalanced_markers_are_one_line_errors(source, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        strip_instructor(source, "mod.py")
    assert str(error.value).startswith("mod.py, line ") and "\n" not in str(error.value)


def test_the_edition_is_chosen_by_one_variable_and_validated():
    assert requested_edition({}) == requested_edition({"KDLS_EDITION": " "}) == "student"  # safe by default
    assert requested_edition({"KDLS_EDITION": "Instructor"}) == "instructor"
    with pytest.raises(ValueError, match="KDLS_EDITION must be one of student, instructor, got 'teacher'"):
        requested_edition({"KDLS_EDITION": "teacher"})
    assert installed_edition() == "instructor"  # a checkout is the whole source


def test_the_exercises_strip_their_blocks_as_the_build_does():
    """One stripping: where the exercises package offers its own ``strip_instructor``, it gives the build's result on
    every module of the kit."""
    from helpers.teaching import exercises

    theirs = getattr(exercises, "strip_instructor", strip_instructor)
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if BEGIN_INSTRUCTOR in text:
            assert theirs(text) == strip_instructor(text), path


def test_the_search_can_find_every_block():
    """Every instructor block has lines found nowhere else (else the searches below could not see it), and the
    worked solution and the hidden cases of every exercise lie inside one."""
    from helpers.teaching.exercises import EXERCISES

    secrets = secret_lines()
    assert secrets and all(secrets.values()), [block for block, lines in secrets.items() if not lines]
    inside = {line for lines in instructor_blocks().values() for line in lines}
    for name, exercise in EXERCISES.items():
        assert exercise.instructor is not None, f"{name}: the checkout has no instructor part"
        for part in (exercise.instructor.solution, exercise.instructor.hidden):
            lines = {line.strip() for line in inspect.getsource(part).splitlines() if _significant(line)}
            assert lines and lines <= inside, (name, part.__name__, sorted(lines - inside)[:3])


def test_the_student_copy_has_no_answer(tmp_path):
    written = copy_notebooks(tmp_path / "student")
    names = {path.relative_to(tmp_path / "student").as_posix() for path in written}
    assert names == {path.as_posix() for path in edition_files(ROOT / "notebooks", "student")}
    assert names and all(name.endswith(".ipynb") and "/" not in name for name in names)
    assert not leaks(_folder_files(tmp_path / "student"), secret_lines())
    teacher = copy_notebooks(tmp_path / "instructor", edition="instructor")
    assert {"TEACHING.md", "solutions/01_softmax_temperature_entropy.md"} <= {
        path.relative_to(tmp_path / "instructor").as_posix() for path in teacher}


# ----------------------------------------------------------------------------------- the wheels


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    """The instructor wheel, then the default (student) wheel, built one after the other in one source folder."""
    tmp = tmp_path_factory.mktemp("editions")
    source = _source_copy(tmp)
    instructor = _build(source, "build_wheel", tmp / "instructor", edition="instructor")
    student = _build(source, "build_wheel", tmp / "student")
    return {"instructor": instructor, "student": student}


@pytest.mark.slow
def test_the_student_wheel_carries_no_answer(wheels):
    files = _wheel_files(wheels["student"])
    assert files["helpers/infrastructure/EDITION"].decode().strip() == "student"
    assert not [name for name in files if name.startswith(INSTRUCTOR_ONLY)]
    assert any(name.endswith(".ipynb") for name in files)
    # code and notebooks carry no instructor block; the package's description (README) shows the markers in its
    # worked example of adding an exercise, which is documentation, not an answer (the secret lines cover it)
    code = {name: data for name, data in files.items() if not name.endswith(".dist-info/METADATA")}
    assert not [name for name, data in code.items() if {BEGIN_INSTRUCTOR, END_INSTRUCTOR} & text_lines(name, data)]
    assert not leaks(files, secret_lines())


@pytest.mark.slow
def test_the_instructor_wheel_carries_every_answer(wheels):
    files = _wheel_files(wheels["instructor"])
    assert files["helpers/infrastructure/EDITION"].decode().strip() == "instructor"
    assert all(any(name.startswith(prefix) for name in files) for prefix in INSTRUCTOR_ONLY)
    secrets = secret_lines()
    found = {line for name, data in files.items() for line in text_lines(name, data)}
    missing = {block: sorted(lines - found)[:3] for block, lines in secrets.items() if lines - found}
    assert not missing, missing


PROBE = textwrap.dedent("""
    import contextlib, importlib, io, json, pkgutil
    import helpers
    from helpers.infrastructure.editions import installed_edition
    from helpers.teaching.exercises import EXERCISES, SOLUTIONS, show_solution
    for module in pkgutil.walk_packages(helpers.__path__, "helpers."):
        importlib.import_module(module.name)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        show_solution(next(iter(EXERCISES)))
    print(json.dumps({"file": helpers.__file__, "edition": installed_edition(), "solutions": len(SOLUTIONS),
                      "instructor": [name for name, e in EXERCISES.items() if e.instructor is not None],
                      "shown": printed.getvalue()}))
""")


@pytest.mark.slow
def test_the_installed_student_edition_runs_and_copies_no_answer(wheels, tmp_path):
    site = tmp_path / "site"
    with zipfile.ZipFile(wheels["student"]) as archive:
        archive.extractall(site)
    env = {key: value for key, value in os.environ.items() if not key.startswith("KDLS_")}
    env |= {"PYTHONPATH": str(site), "MPLBACKEND": "Agg"}
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(found["file"]).is_relative_to(site), found["file"]
    assert found["edition"] == "student" and found["solutions"] == 0 and found["instructor"] == []
    assert found["shown"].count("\n") == 1 and "student edition" in found["shown"], found["shown"]

    copy = [sys.executable, "-m", "helpers.pipeline.notebooks", "copy"]
    done = subprocess.run(copy + [str(work / "kdls")], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "student edition" in done.stdout, done.stderr[-3000:]
    copied = _folder_files(work / "kdls")
    assert copied and all(name.endswith(".ipynb") for name in copied)
    assert not leaks(copied, secret_lines())
    refused = subprocess.run(copy + ["--edition", "instructor", str(work / "all")], cwd=work, env=env,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and not (work / "all").exists()
    assert refused.stderr.count("\n") == 1 and "student edition" in refused.stderr, refused.stderr


@pytest.mark.slow
def test_a_student_module_that_would_not_compile_stops_the_build(tmp_path):
    source = _source_copy(tmp_path)
    (source / "helpers" / "maths" / "edition_probe.py").write_text(
        f"def answer():\n    {BEGIN_INSTRUCTOR}\n    return 42\n    {END_INSTRUCTOR}\n")
    with pytest.raises(AssertionError, match="the student edition of helpers/maths/edition_probe.py is broken"):
        _build(source, "build_wheel", tmp_path / "dist", edition="student")


def test_the_instructor_tools_refuse_the_student_edition_in_one_line(tmp_path, capsys):
    from helpers.infrastructure import editions
    from helpers.pipeline import assignment, grade

    assert editions.instructor_only("x") is None  # a checkout is the instructor edition
    package = tmp_path / "helpers"
    (package / "infrastructure").mkdir(parents=True)
    (package / editions.EDITION_FILE).write_text("student\n")
    line = editions.instructor_only("the grader", package)
    assert line is not None and "student edition" in line and "\n" not in line
    original = editions.installed_edition
    try:
        editions.installed_edition = lambda package_dir=None: "student"
        for main, argv in ((grade.main, ["x.ipynb"]), (assignment.main, ["--out", str(tmp_path / "a")])):
            with pytest.raises(SystemExit) as stop:
                main(argv)
            assert stop.value.code == 2 and "instructor edition" in capsys.readouterr().err
    finally:
        editions.installed_edition = original
    assert not (tmp_path / "a").exists()
