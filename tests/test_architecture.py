"""The package's shape: seven layer folders (pyproject.toml's [tool.importlinter] contracts, checked with
import-linter), the notebooks' flat API, and the documented ``python -m`` commands."""

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = ["pipeline", "teaching", "experiments", "reporting", "learning", "infrastructure", "maths"]


def _lint(folder: Path, config: Path) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS.name} is not installed beside {Path(sys.executable).name}: "
                    "pip install -r requirements.txt (import-linter)")
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(config)], cwd=folder,
                          env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(folder)},
                          capture_output=True, text=True, timeout=300)


def _contract_count(config: Path) -> int:
    return config.read_text().count("[[tool.importlinter.contracts]]")


def test_every_contract_is_kept():
    result = _lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{_contract_count(ROOT / 'pyproject.toml')} kept, 0 broken" in result.stdout, result.stdout


def test_the_top_of_the_package_is_its_layers():
    entries = sorted(p.name for p in (ROOT / "helpers").iterdir() if p.name != "__pycache__")
    assert entries == sorted(["__init__.py", *LAYERS])
    text = (ROOT / "pyproject.toml").read_text()
    assert f"layers = {json.dumps(LAYERS)}" in text


@pytest.mark.parametrize("module, line, contract", [
    ("maths/losses.py", "import helpers.learning.finetune\n", "helpers is layered"),  # maths importing a higher layer
    ("learning/cache.py", "from helpers.experiments import grid\n", "helpers is layered"),
    ("teaching/widgets.py", "import helpers.pipeline.notebooks\n", "the teaching UI never imports the pipeline"),
    ("maths/losses.py", "from helpers.maths import metrics\n", "maths:"),  # inside a layer, upwards
    ("learning/data.py", "from helpers.learning import results\n", "learning:"),
])
def test_an_upward_import_breaks_a_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "helpers", tmp_path / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "helpers" / module
    target.write_text(target.read_text() + "\n" + line)
    result = _lint(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    broken = [text for text in result.stdout.split("\n\n") if "BROKEN" in text]
    assert any(contract in text for text in broken), result.stdout


def _declared_all(module: str) -> list[str]:
    path = ROOT / "helpers" / module.replace(".", "/")
    tree = ast.parse((path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return [element.value for element in node.value.elts]
    raise AssertionError(f"helpers.{module} has no __all__")


def test_the_flat_api_lends_each_name_from_its_one_home():
    names = [name for module_names in helpers.API.values() for name in module_names]
    assert len(names) == len(set(names)), "a name is lent twice"
    for module, module_names in helpers.API.items():
        assert set(module_names) <= set(_declared_all(module)), module
    assert helpers.entropy is __import__("helpers.maths.metrics", fromlist=["entropy"]).entropy
    assert "entropy" in dir(helpers)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        helpers.no_such_name  # noqa: B018


def test_notebooks_import_only_from_the_flat_api():
    """Students never learn the folder tree: a notebook's code imports names from ``helpers`` itself."""
    offending = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for match in re.finditer(r"^\s*from helpers import ([^\n]+)", source, re.M):
                names = [n.strip(" ()").split(" as ")[0] for n in match.group(1).split(",") if n.strip(" ()")]
                offending += [f"{path.name}: {n}" for n in names if n and n not in helpers._HOME and n != "paper_scale"]
            offending += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"^\s*from helpers\.[\w.]+ import", source, re.M)]
    assert not offending, offending


def test_no_notebook_imports_a_name_its_students_must_write():
    """``from helpers import softmax_with_temperature`` in notebook 01 would hand the exercise's answer to the
    student's namespace (the grader would then find the kit's function)."""
    from helpers.pipeline.grade import exercises

    for exercise in exercises():
        path = ROOT / "notebooks" / f"{exercise.notebook}.ipynb"
        source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        for match in re.finditer(r"^\s*from helpers import ([^\n]+(?:\n\s+[^\n]+)*)", source, re.M):
            names = [n.strip(" ()\n").split(" as ")[-1] for n in match.group(1).split(",")]
            assert exercise.function not in names, (path.name, exercise.function)


def test_the_written_solutions_and_the_readme_import_what_exists():
    """Code a student copies from ``solutions/*.md`` or the README imports names the flat API really lends."""
    lines = []
    for path in [*sorted((ROOT / "notebooks" / "solutions").glob("*.md")), ROOT / "README.md"]:
        lines += [(path.name, line) for line in re.findall(r"^(?:from|import) helpers\b[^\n`\"]*", path.read_text(), re.M)]
    assert lines
    for name, line in lines:
        exec(line, {})  # noqa: S102 - an import statement taken from the docs


@pytest.mark.parametrize("command, module", [
    ("paper_scale", "helpers.experiments.paper_scale.cli"), ("shipped", "helpers.pipeline.shipped"),
    ("grade", "helpers.pipeline.grade"), ("notebooks", "helpers.pipeline.notebooks"),
    ("assets", "helpers.infrastructure.assets"),
])
def test_a_documented_command_forwards_to_its_module(command, module):
    import importlib

    entry = importlib.import_module(f"helpers.{command}")
    assert entry.__all__ == ["main"] and entry.main is importlib.import_module(module).main


@pytest.mark.slow
@pytest.mark.parametrize("command", ["experiments", "paper_scale", "shipped", "grade", "notebooks"])
def test_the_documented_commands_still_run(command):
    result = subprocess.run([sys.executable, "-m", f"helpers.{command}", "--help"], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
