"""Every notebook's first code cell works outside `make`: without the kit it says how to install it, in one line.

A reader on a hosted notebook service (or a plain Python without the kit) runs the first cell first. It must
either import ``helpers`` or stop with one clear message naming the distribution (``kdls-kit``) and the
one-line ``pip install``. The cell must start with exactly the set-up block below (the repository URL may be
filled in for the placeholder, the same in both places); the test also *runs* the cell in a Python that cannot
import ``helpers`` (``python -I -S``: no site-packages, no current folder on ``sys.path``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DISTRIBUTION = "kdls-kit"
URL_PLACEHOLDER = "<this repository's URL>"

SETUP_BLOCK = '''\
# Set-up: the kit's helper package. In a hosted notebook, install it first (one line), then restart the kernel:
#   %pip install "kdls-kit @ git+<this repository's URL>"
try:
    import helpers  # first: keeps the Hugging Face libraries offline (see README)
except ModuleNotFoundError:
    raise ModuleNotFoundError(
        "This notebook needs the kit's `helpers` package (distribution kdls-kit), which is not installed here. "
        "Install it in one line, then restart the kernel:  %pip install \\"kdls-kit @ git+<this repository's URL>\\"  "
        "(in a clone of the repository: pip install -e .)") from None
'''


def _setup_pattern() -> re.Pattern[str]:
    """The set-up block as a regex: the URL placeholder may be any URL, the same one in both places."""
    first, second, rest = re.escape(SETUP_BLOCK).split(re.escape(URL_PLACEHOLDER))
    url = r"(?P<url>" + re.escape(URL_PLACEHOLDER) + r"|[^\s\"\\]+)"  # the placeholder as it is, or a URL
    return re.compile(first + url + second + r"(?P=url)" + rest)


SETUP_PATTERN = _setup_pattern()


def first_code_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert cells, f"{path.name} has no code cell"
    return cells[0].source


def setup_problem(source: str) -> str | None:
    """Why ``source`` does not start with the set-up block (``None`` if it does)."""
    if SETUP_PATTERN.match(source.replace("\r\n", "\n")):
        return None
    lines = source.splitlines()
    expected = SETUP_BLOCK.splitlines()
    for number, (got, want) in enumerate(zip(lines, expected), start=1):
        if got != want and URL_PLACEHOLDER not in want:
            return f"line {number} is {got!r}, expected {want!r}"
    if len(lines) < len(expected):
        return f"the cell has {len(lines)} lines, the set-up block alone has {len(expected)}"
    return "the repository URL differs between the comment and the message (or is not a plain URL)"


def runnable(source: str) -> str:
    """The cell as plain Python: IPython's magic and shell lines (``%…``, ``!…``) become ``pass``."""
    return "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in source.splitlines()) + "\n"


def run_without_kit(source: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``source`` in an isolated Python that cannot import ``helpers`` (no site-packages, no cwd on the path)."""
    return subprocess.run([sys.executable, "-I", "-S", "-c", runnable(source)], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def assert_install_message(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0, "the first cell ran without the kit installed: it must stop with an install hint"
    lines = result.stderr.strip().splitlines()
    assert lines, "no error message"
    message = lines[-1]
    assert message.startswith("ModuleNotFoundError: "), result.stderr
    assert "pip install" in message and DISTRIBUTION in message, message
    assert "During handling of the above exception" not in result.stderr, "raise ... from None: one error, not two"


# ------------------------------------------------------------------------------------------ the notebooks

def test_notebooks_found():
    assert len(NOTEBOOKS) >= 11, [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_first_cell_starts_with_setup_block(path):
    problem = setup_problem(first_code_cell(path))
    assert problem is None, (f"{path.name}: the first code cell must start with the set-up block of "
                             f"tests/test_notebook_setup.py (SETUP_BLOCK): {problem}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_first_cell_without_the_kit_says_how_to_install(path, tmp_path):
    assert_install_message(run_without_kit(first_code_cell(path), tmp_path))


# ------------------------------------------------------------------------- the checker itself, on the block

def test_setup_block_passes_the_checks(tmp_path):
    assert setup_problem(SETUP_BLOCK + "\nimport torch\n") is None
    filled = SETUP_BLOCK.replace(URL_PLACEHOLDER, "https://example.org/kit.git")
    assert setup_problem(filled) is None
    assert_install_message(run_without_kit(SETUP_BLOCK, tmp_path))


def test_setup_block_imports_helpers_where_the_kit_is_installed():
    result = subprocess.run([sys.executable, "-c", SETUP_BLOCK + "print(helpers.__name__)"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "helpers", result.stderr


@pytest.mark.parametrize("source", [
    "import helpers  # first: keeps the Hugging Face libraries offline (see README)\n",  # the old first cell
    SETUP_BLOCK.replace("except ModuleNotFoundError:", "except ImportError:"),
    "import torch\n" + SETUP_BLOCK,
    SETUP_BLOCK.replace(URL_PLACEHOLDER, "https://example.org/a.git", 1).replace(URL_PLACEHOLDER, "https://x.org/b"),
])
def test_checker_rejects_other_first_cells(source):
    assert setup_problem(source) is not None


def test_old_first_cell_fails_without_the_kit(tmp_path):
    with pytest.raises(AssertionError):
        assert_install_message(run_without_kit("import helpers\n", tmp_path))
