"""The kit's two editions, made from one source: what a student installs and what an instructor keeps.

* The **student edition** has the notebooks (blanks and self-checks) and the package without anything that gives an
  answer away: every block of a module between a line ``# BEGIN INSTRUCTOR`` and the next line ``# END INSTRUCTOR``
  (worked solutions, hidden grading cases, catalogues of wrong implementations) is removed, and the notebook folder's
  ``TEACHING.md`` and ``solutions/`` are left out.
* The **instructor edition** is everything: the source as it is in the repository.

A checkout of the repository (``make``, ``pip install -e .``) is the instructor edition. A wheel is the edition its
build chose: ``KDLS_EDITION=student|instructor`` (``setup.py``'s build step; unset: **student**, so that a wheel
handed to a class never carries the answers by accident). The built package records its edition in the file
``helpers/infrastructure/EDITION`` (:func:`installed_edition` reads it). ``python -m helpers.pipeline.notebooks copy``
writes one edition's notebook files (:func:`edition_files`).

Standard library only: ``setup.py`` loads this file by its path, before any of the kit's dependencies exist.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["EDITIONS", "DEFAULT_EDITION", "EDITION_ENV", "EDITION_FILE", "BEGIN_INSTRUCTOR", "END_INSTRUCTOR",
           "NOTEBOOK_PATTERNS", "INSTRUCTOR_PATTERNS", "requested_edition", "strip_instructor", "edition_files",
           "installed_edition", "instructor_only"]

EDITIONS = ("student", "instructor")
DEFAULT_EDITION = "student"  # what a wheel is unless its build asks for the instructor edition
EDITION_ENV = "KDLS_EDITION"
#: the file a built package records its edition in (relative to the ``helpers`` package); absent in a checkout
EDITION_FILE = Path("infrastructure") / "EDITION"
BEGIN_INSTRUCTOR, END_INSTRUCTOR = "# BEGIN INSTRUCTOR", "# END INSTRUCTOR"
#: the notebook folder's files every edition has, and those only the instructor edition has (glob patterns)
NOTEBOOK_PATTERNS = ("[0-9][0-9]_*.ipynb",)
INSTRUCTOR_PATTERNS = ("TEACHING.md", "solutions/*.md")


def requested_edition(environ: Mapping[str, str] | None = None) -> str:
    """The edition a build makes: ``$KDLS_EDITION`` (unset or empty: :data:`DEFAULT_EDITION`), validated."""
    env = os.environ if environ is None else environ
    value = env.get(EDITION_ENV, "").strip().lower() or DEFAULT_EDITION
    if value not in EDITIONS:
        raise ValueError(f"{EDITION_ENV} must be one of {', '.join(EDITIONS)}, got {env[EDITION_ENV]!r}")
    return value


def strip_instructor(source: str, name: str = "<source>") -> str:
    """``source`` without its instructor blocks: every line from a ``# BEGIN INSTRUCTOR`` line to the next
    ``# END INSTRUCTOR`` line, both included (a marker is a line holding only the marker, indented or not).
    A nested or unbalanced marker is a ``ValueError`` naming ``name`` and the line."""
    kept, inside = [], 0
    for number, line in enumerate(source.splitlines(keepends=True), 1):
        marker = line.strip()
        if marker == BEGIN_INSTRUCTOR:
            if inside:
                raise ValueError(f"{name}, line {number}: {BEGIN_INSTRUCTOR} inside the block opened on line {inside}")
            inside = number
        elif marker == END_INSTRUCTOR:
            if not inside:
                raise ValueError(f"{name}, line {number}: {END_INSTRUCTOR} without {BEGIN_INSTRUCTOR}")
            inside = 0
        elif not inside:
            kept.append(line)
    if inside:
        raise ValueError(f"{name}, line {inside}: {BEGIN_INSTRUCTOR} without {END_INSTRUCTOR}")
    return "".join(kept)


def edition_files(folder: Path, edition: str) -> list[Path]:
    """The notebook folder's files of ``edition``, relative to ``folder``, in order: the numbered notebooks, then (the
    instructor edition) ``TEACHING.md`` and ``solutions/*.md`` where they exist."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {', '.join(EDITIONS)}, got {edition!r}")
    patterns = NOTEBOOK_PATTERNS + (INSTRUCTOR_PATTERNS if edition == "instructor" else ())
    return [path.relative_to(folder) for pattern in patterns for path in sorted(Path(folder).glob(pattern))
            if path.is_file()]


def installed_edition(package_dir: Path | None = None) -> str:
    """The edition of the kit at ``package_dir`` (default: this one): what its build recorded in
    :data:`EDITION_FILE`, or ``instructor`` where there is no record (a checkout: the whole source)."""
    package = Path(__file__).resolve().parents[1] if package_dir is None else Path(package_dir)
    record = package / EDITION_FILE
    if not record.is_file():
        return "instructor"
    edition = record.read_text(encoding="utf-8").strip()
    if edition not in EDITIONS:
        raise ValueError(f"{record} names no edition ({edition!r}): reinstall the kit")
    return edition


def instructor_only(tool: str, package_dir: Path | None = None) -> str | None:
    """None in the instructor edition; else the one line an instructor tool (``tool``) prints before it stops:
    the student edition carries no solutions and no grading cases."""
    if installed_edition(package_dir) == "instructor":
        return None
    return (f"{tool} needs the instructor edition (this is the student edition: no solutions, no grading cases); "
            "build it with `make wheel-instructor` or run it in a clone")
