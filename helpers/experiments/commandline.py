"""What the kit's command lines share: checks of the folders they read and write, and one-line file-system errors.

Every check reports through ``parser.error`` (one line on stderr, exit status 2) before anything is computed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["FILE_SUFFIXES", "folder_problem", "check_environment", "check_out", "filesystem_error"]

FILE_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".xlsx", ".md", ".html", ".pdf", ".png")


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a folder: it or a folder above it is a file or a broken link; else None."""
    for folder in (path, *path.parents):
        if folder.is_symlink() and not folder.exists():
            try:
                folder.resolve(strict=True)
            except RuntimeError:
                return f"{folder} is a symbolic link loop"
            except OSError:
                pass
            return f"{folder} is a broken symbolic link"
        if folder.exists():
            if folder.is_dir():
                return None
            return "it is a file" if folder == path else f"{folder} is a file, not a folder"
    return None


def check_environment(parser: argparse.ArgumentParser) -> None:
    """``KDLS_DATA_DIR`` and ``KDLS_COMPUTED_DIR``, when set, name folders (never empty: not the current folder)."""
    for variable in ("KDLS_DATA_DIR", "KDLS_COMPUTED_DIR"):
        if variable not in os.environ:
            continue
        value = os.environ[variable].strip()
        if not value:
            parser.error(f"{variable} is set but empty: unset it (the default folder) or name a folder")
        problem = folder_problem(Path(value).expanduser())
        if problem:
            parser.error(f"{variable}={value} cannot be a folder: {problem}")


def check_out(parser: argparse.ArgumentParser, out: Path, what: str = "results.csv is") -> None:
    """``--out`` is a folder (created here) this process can write into; a file-like name is refused."""
    problem = folder_problem(out)
    if problem:
        parser.error(f"--out {out} cannot be a folder: {problem}")
    if out.suffix.lower() in FILE_SUFFIXES and not out.is_dir():
        parser.error(f"--out {out} looks like a file name: give the folder {what} written into")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        parser.error(f"--out {out} is not writable: {error.strerror or error}")


def filesystem_error(parser: argparse.ArgumentParser, error: OSError, fallback: Path) -> int:
    """One line naming the path and the reason (no traceback); exit status 2."""
    where = error.filename or fallback
    print(f"{parser.prog}: error: cannot write {where}: {error.strerror or error}", file=sys.stderr, flush=True)
    return 2
