"""Executing the kit's notebooks headless (tests and ``make reproduce``).

Notebooks run with the working directory ``notebooks/``, matplotlib's headless inline backend
(figures are rendered with Agg and kept as ``image/png`` outputs) and the chosen preset in
``$KDLS_PRESET``; the executed copy (with outputs) is written wherever asked,
never over the committed, output-free original.
"""

from __future__ import annotations

import os
from unittest import mock
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from helpers.assets import REPO_ROOT
from helpers.progress import HEADLESS_ENV

__all__ = ["NOTEBOOK_DIR", "list_notebooks", "execute_notebook", "preset_environment", "temporary_environment"]

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
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


def execute_notebook(path: Path, preset: str = "smoke", output: Path | None = None, timeout: int = 900) -> float:
    """Run every cell of ``path`` in a fresh kernel; save the executed copy to ``output`` if given.

    Returns the wall time in seconds. A failing cell raises ``nbclient.exceptions.CellExecutionError``.
    """
    notebook = nbformat.read(path, as_version=4)
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
