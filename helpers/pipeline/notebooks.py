"""The kit's notebooks: where they are, their set-up cell, copying them out, executing them headless.

Notebooks run with the working directory ``notebooks/``, matplotlib's headless inline backend
(figures are rendered with Agg and kept as ``image/png`` outputs) and the chosen preset in
``$KDLS_PRESET``; the executed copy (with outputs) is written wherever asked,
never over the committed, output-free original.

Where the notebooks are (:data:`NOTEBOOK_DIR`): ``notebooks/`` in a checkout of the repository; in an
installed wheel, the copy the build put into the package (``helpers/pipeline/student_notebooks/``, see ``setup.py``).
``python -m helpers.pipeline.notebooks copy DIR`` writes the notebooks of the student edition into ``DIR`` (a
JupyterHub home, a course folder); ``--edition instructor`` adds ``TEACHING.md`` and ``solutions/`` (a checkout or the
instructor edition's wheel only: :mod:`helpers.infrastructure.editions`). It never overwrites a file unless ``--force``.

:func:`setup_cell_source` is every notebook's first code cell, generated from one source of truth: the
repository URL in ``pyproject.toml``'s ``[project.urls] Repository`` when it is set (an install line with
``git+URL``), else the wheel file and a local clone as the ways to install.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import os
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from unittest import mock

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from helpers import __version__
from helpers.infrastructure.editions import DEFAULT_EDITION, EDITIONS, edition_files, installed_edition
from helpers.infrastructure.progress import HEADLESS_ENV
from helpers.infrastructure.settings import PACKAGE_DIR, checkout_root

__all__ = ["NOTEBOOK_DIR", "PACKAGED_NOTEBOOKS", "list_notebooks", "execute_notebook", "preset_environment",
           "temporary_environment", "repository_url", "install_command", "setup_cell_source", "course_files",
           "copy_notebooks", "main"]

#: where a wheel carries the notebooks (written by setup.py's build step; absent in a checkout)
PACKAGED_NOTEBOOKS = PACKAGE_DIR / "pipeline" / "student_notebooks"


def _notebook_dir() -> Path:
    root = checkout_root()
    return root / "notebooks" if root is not None else PACKAGED_NOTEBOOKS


NOTEBOOK_DIR = _notebook_dir()
DISTRIBUTION = "kdls-kit"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def list_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def temporary_environment(**values: str):
    """Set environment variables for the duration of a ``with`` block (restored even on error)."""
    return mock.patch.dict(os.environ, values)


def preset_environment(preset: str):
    """Temporarily set ``KDLS_PRESET``, the inline matplotlib backend and ``KDLS_HEADLESS`` (progress as one
    summary line, not a widget frozen at 0 % in the saved copy), inherited by kernels."""
    return temporary_environment(KDLS_PRESET=preset, MPLBACKEND=INLINE_BACKEND, **{HEADLESS_ENV: "1"})


def execute_notebook(path: Path, preset: str = "smoke", output: Path | None = None, timeout: int = 900,
                     extra_cells: Sequence[str] = ()) -> float:
    """Run every cell of ``path`` in a fresh kernel, then each of ``extra_cells`` (code run after the notebook in the
    same kernel, e.g. its written solutions); save the executed copy to ``output`` if given.

    Returns the wall time in seconds. A failing cell raises ``nbclient.exceptions.CellExecutionError``.
    """
    notebook = nbformat.read(path, as_version=4)
    for source in extra_cells:
        cell = nbformat.v4.new_code_cell(source)
        if notebook.nbformat_minor < 5:
            cell.pop("id", None)
        notebook.cells.append(cell)
    config = Config()
    config.KernelManager.transport_encryption = "auto"  # encrypted where the kernel supports it (no plain-TCP warning)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", config=config,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    started = time.perf_counter()
    with preset_environment(preset):
        try:
            client.execute()
        finally:
            if output is not None:
                Path(output).parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, output)
    return time.perf_counter() - started


# ----------------------------------------------------------------------------------- the set-up cell


def repository_url() -> str | None:
    """``[project.urls] Repository`` (pyproject.toml in a checkout, the installed metadata elsewhere), or None."""
    root = checkout_root()
    if root is not None:
        import tomllib

        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
        return project.get("urls", {}).get("Repository") or None
    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip() == "Repository" and url.strip():
            return url.strip()
    return None


def wheel_name() -> str:
    """The file name of the kit's wheel (``python -m pip wheel --no-deps .`` in a clone writes it)."""
    return f"{DISTRIBUTION.replace('-', '_')}-{__version__}-py3-none-any.whl"


def install_command(url: str | None = None) -> str:
    """The one-line ``%pip install`` of the kit: from the repository URL if there is one, else the wheel file."""
    url = repository_url() if url is None else url
    if url:
        return f'%pip install "{DISTRIBUTION} @ git+{url}"'
    return f"%pip install {wheel_name()}"


def setup_cell_source(url: str | None = None) -> str:
    """The exact text of every notebook's first code cell: import the kit, or stop with one line saying how to
    install it (``url``: the repository URL; default: ``[project.urls] Repository``, if set)."""
    url = repository_url() if url is None else url
    command = install_command(url)
    if url:
        where = "(in a clone of the repository: pip install -e .)"
    else:
        where = "(the wheel file your teacher gave you; from a clone of the repository: pip install -e path/to/clone)"
    quoted = command.replace('"', '\\"')
    return (
        "# Set-up: the kit's helper package. In a hosted notebook, install it first (one line), then restart the kernel:\n"
        f"#   {command}\n"
        f"#   {where}\n"
        "try:\n"
        "    import helpers  # first: keeps the Hugging Face libraries offline (see README)\n"
        "except ModuleNotFoundError:\n"
        "    raise ModuleNotFoundError(\n"
        "        \"This notebook needs the kit's `helpers` package (distribution kdls-kit), which is not installed here. \"\n"
        f"        \"Install it in one line, then restart the kernel:  {quoted}  \"\n"
        f"        \"{where}\") from None"
    )


# ----------------------------------------------------------------------------------- copying them out


def course_files(source: Path | None = None, edition: str = DEFAULT_EDITION) -> list[Path]:
    """The files of ``edition`` a class needs, relative to the notebook folder: the numbered notebooks; the
    instructor edition adds ``TEACHING.md`` and the written answers in ``solutions/``."""
    source = NOTEBOOK_DIR if source is None else Path(source)
    return edition_files(source, edition)


def copy_notebooks(destination: Path, force: bool = False, source: Path | None = None,
                   edition: str = DEFAULT_EDITION) -> list[Path]:
    """Copy the course files of ``edition`` (:func:`course_files`; default: the student edition) into
    ``destination``; the paths written.

    Refuses (``FileExistsError``, nothing written) when any of them exists already, unless ``force``; refuses the
    instructor edition (``FileNotFoundError``) where this installation is the student edition."""
    if source is None and edition == "instructor" and installed_edition() != "instructor":
        raise FileNotFoundError("this installation of the kit is the student edition: it has no TEACHING.md or "
                                "solutions/ (the instructor edition: a clone of the repository, or the wheel that "
                                "`make wheel-instructor` builds)")
    source = NOTEBOOK_DIR if source is None else Path(source)
    files = course_files(source, edition)
    if not files:
        raise FileNotFoundError(f"no notebooks found in {source}: this installation of the kit lacks them "
                                "(reinstall it from the wheel, or use a clone of the repository)")
    destination = Path(destination).expanduser()
    if destination.exists() and not destination.is_dir():
        raise NotADirectoryError(f"{destination} is a file, not a folder")
    existing = [name for name in files if (destination / name).exists()]
    if existing and not force:
        shown = ", ".join(str(name) for name in existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise FileExistsError(f"{len(existing)} file(s) exist already in {destination} ({shown}); nothing was "
                              "written. Choose another folder, or add --force to overwrite them (a student's "
                              "edits in them would be lost).")
    written = []
    for name in files:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.notebooks",
                                     description="The kit's notebooks: copy them out, print the set-up cell.")
    commands = parser.add_subparsers(dest="command", required=True)
    copy = commands.add_parser("copy", help="write the notebooks into DIR (the student edition: no answers)")
    copy.add_argument("directory", type=Path, metavar="DIR")
    copy.add_argument("--force", action="store_true", help="overwrite files that exist already")
    copy.add_argument("--edition", choices=EDITIONS, default=DEFAULT_EDITION,
                      help=f"student: the notebooks only; instructor: with TEACHING.md and solutions/ "
                           f"(default: {DEFAULT_EDITION})")
    commands.add_parser("setup-cell", help="print every notebook's first code cell")
    args = parser.parse_args(argv)
    if args.command == "setup-cell":
        print(setup_cell_source())
        return 0
    try:
        written = copy_notebooks(args.directory, force=args.force, edition=args.edition)
    except (FileExistsError, FileNotFoundError, NotADirectoryError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} files of the {args.edition} edition into {args.directory} "
          f"(open {written[0].name} first)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
