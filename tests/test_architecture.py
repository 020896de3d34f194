"""The package's layering (pyproject.toml's [tool.importlinter] contracts), checked with import-linter."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(folder: Path, config: Path) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS.name} is not installed beside {Path(sys.executable).name}: "
                    "pip install -r requirements.txt (import-linter)")
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(config)], cwd=folder,
                          env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(folder)},
                          capture_output=True, text=True, timeout=300)


def test_the_layers_and_the_teaching_ui_contract_are_kept():
    result = _lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "2 kept" in result.stdout


@pytest.mark.parametrize("module, line, contract", [
    ("losses.py", "import helpers.training\n", "helpers is layered"),  # maths importing a higher layer
    ("cache.py", "from helpers import experiments\n", "helpers is layered"),
    ("widgets.py", "import helpers.notebooks\n", "the teaching UI never imports the pipeline"),
])
def test_an_upward_import_breaks_the_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "helpers", tmp_path / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "helpers" / module
    target.write_text(target.read_text() + "\n" + line)
    result = _lint(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    broken = [text for text in result.stdout.split("\n\n") if "BROKEN" in text]
    assert any(contract in text for text in broken), result.stdout


def test_paper_scale_is_only_the_entry_point():
    import helpers.paper_scale as paper_scale
    from helpers.paper.cli import main

    assert paper_scale.__all__ == ["main"] and paper_scale.main is main
