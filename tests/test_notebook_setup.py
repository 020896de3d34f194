"""Every notebook's first code cell works outside `make`: without the kit it says how to install it, in one line.

A reader on a hosted notebook service (or a plain Python without the kit) runs the first cell first. It must either
import ``helpers`` or stop with one clear message naming the distribution (``kdls-kit``) and the one-line install.
The cell is generated, exactly, by ``helpers.pipeline.notebooks.setup_cell_source()``: from ``[project.urls] Repository``
in pyproject.toml when it is set (``%pip install "kdls-kit @ git+URL"``), else the wheel file and a local clone. No
placeholder (``<this repository's URL>``) is left anywhere. The test also *runs* the cell in a Python that cannot
import ``helpers`` (``python -I -S``: no site-packages, no current folder on ``sys.path``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.pipeline.notebooks import install_command, repository_url, setup_cell_source, wheel_name

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DISTRIBUTION = "kdls-kit"
# an unfilled placeholder such as <this repository's URL> or <your repository URL>
PLACEHOLDER = re.compile(r"<[^<>\n]*\b(URL|url|repository)\b[^<>\n]*>")


def first_code_cell(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert cells, f"{path.name} has no code cell"
    return cells[0].source


def runnable(source: str) -> str:
    """The cell as plain Python: IPython's magic and shell lines (``%…``, ``!…``) become ``pass``."""
    return "\n".join(re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in source.splitlines()) + "\n"


def run_without_kit(source: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``source`` in an isolated Python that cannot import ``helpers`` (no site-packages, no cwd on the path)."""
    return subprocess.run([sys.executable, "-I", "-S", "-c", runnable(source)], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def assert_install_message(result: subprocess.CompletedProcess[str], command: str) -> None:
    assert result.returncode != 0, "the first cell ran without the kit installed: it must stop with an install hint"
    lines = result.stderr.strip().splitlines()
    assert lines, "no error message"
    message = lines[-1]
    assert message.startswith("ModuleNotFoundError: "), result.stderr
    assert command in message and DISTRIBUTION in message, message
    assert "During handling of the above exception" not in result.stderr, "raise ... from None: one error, not two"


# ------------------------------------------------------------------------------------------ the notebooks

def test_notebooks_found():
    assert len(NOTEBOOKS) >= 11, [path.name for path in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_first_code_cell_is_the_setup_cell(path):
    assert first_code_cell(path) == setup_cell_source(), (
        f"{path.name}: the first code cell must be exactly helpers.pipeline.notebooks.setup_cell_source() "
        "(print it with `python -m helpers.pipeline.notebooks setup-cell`)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_no_placeholder_is_left_in_the_notebooks(path):
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        found = PLACEHOLDER.search(cell.source)
        assert found is None, f"{path.name}, cell {number}: placeholder {found.group(0)!r}"


def test_no_placeholder_is_left_in_the_readmes_and_the_readme_says_how_to_install():
    for path in (ROOT / "README.md", ROOT / "notebooks" / "TEACHING.md"):
        found = PLACEHOLDER.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name}: placeholder {found.group(0)!r}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert install_command().lstrip("%") in readme, f"README must say how to install: {install_command()}"


def test_first_cell_without_the_kit_says_how_to_install(tmp_path):
    assert_install_message(run_without_kit(first_code_cell(NOTEBOOKS[0]), tmp_path), install_command())


# ------------------------------------------------------------------------- the generated cell itself

def test_without_a_repository_url_the_cell_names_the_wheel_and_a_clone(tmp_path):
    source = setup_cell_source(url="")
    assert f"%pip install {wheel_name()}" in source and "pip install -e path/to/clone" in source
    assert "git+" not in source and not PLACEHOLDER.search(source)
    assert_install_message(run_without_kit(source, tmp_path), f"%pip install {wheel_name()}")


def test_with_a_repository_url_the_cell_installs_from_it(tmp_path):
    url = "https://example.org/kdls-kit.git"
    source = setup_cell_source(url=url)
    command = f'%pip install "kdls-kit @ git+{url}"'
    assert source.count(f"git+{url}") == 2 and f"#   {command}" in source
    assert_install_message(run_without_kit(source, tmp_path), command)


def test_the_url_comes_from_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert repository_url() == (project.get("urls", {}).get("Repository") or None)


def test_setup_cell_imports_helpers_where_the_kit_is_installed():
    result = subprocess.run([sys.executable, "-c", setup_cell_source() + "\nprint(helpers.__name__)"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "helpers", result.stderr


def test_the_old_first_cell_fails_the_check(tmp_path):
    with pytest.raises(AssertionError):
        assert_install_message(run_without_kit("import helpers\n", tmp_path), install_command())
