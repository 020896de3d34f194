"""The package's shape: seven layer folders (pyproject.toml's [tool.importlinter] contracts, checked with
import-linter) and the notebooks' flat API (helpers/__init__.pyi). The commands: tests/test_commands.py."""

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
    """The layer folders, the package's ``__init__`` and its stub (the flat API), and one file per deprecated command
    name -- exactly those ``helpers._DEPRECATED_COMMANDS`` lists."""
    entries = sorted(p.name for p in (ROOT / "helpers").iterdir() if p.name != "__pycache__")
    aliases = [f"{name}.py" for name in helpers._DEPRECATED_COMMANDS]
    assert entries == sorted(["__init__.py", "__init__.pyi", *LAYERS, *aliases])
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


def _stub_names() -> dict[str, str]:
    """The flat API as helpers/__init__.pyi lists it: name -> its home module (``helpers.<...>``)."""
    homes: dict[str, str] = {}
    for node in ast.parse((ROOT / "helpers" / "__init__.pyi").read_text()).body:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 1 and node.module, ast.unparse(node)  # lazy_loader's form: from .a.b import c as c
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name}: re-export it as itself (`{alias.name} as {alias.name}`)"
                assert alias.name not in homes, f"{alias.name} is listed twice"
                homes[alias.name] = f"helpers.{node.module}"
    return homes


def _documented_text() -> str:
    """What students and teachers read and run: the notebooks, the written solutions, README and TEACHING.md."""
    parts = ["\n".join("".join(c["source"]) for c in json.loads(p.read_text())["cells"])
             for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    paths = [*sorted((ROOT / "notebooks" / "solutions").glob("*.md")), ROOT / "README.md", ROOT / "notebooks" / "TEACHING.md"]
    return "\n".join(parts + [p.read_text() for p in paths])


def test_the_flat_api_lends_each_name_from_its_one_home():
    import importlib

    homes = _stub_names()
    assert len(homes) > 50, "the stub lists too few names: is helpers/__init__.pyi complete?"
    for name, module in homes.items():
        home = importlib.import_module(module)
        assert name in home.__all__, f"{module} does not declare {name} in __all__"
        assert getattr(helpers, name) is getattr(home, name), name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        helpers.no_such_name  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'check_no_such_exercise'"):
        helpers.check_no_such_exercise  # noqa: B018


def test_the_flat_api_is_what_the_notebooks_and_documents_use():
    """A name no notebook, solution, README or TEACHING.md mentions does not belong in the flat API."""
    text = _documented_text()
    unused = [name for name in _stub_names() if not re.search(rf"\b{name}\b", text)]
    assert not unused, f"listed in helpers/__init__.pyi but used nowhere a student or teacher reads: {unused}"


def test_star_import_dir_and_all_agree_with_the_stub():
    from helpers.teaching import exercises

    checks = {name for name in exercises.__all__ if name.startswith("check_")}
    assert checks, "helpers.teaching.exercises lends no check_ function"
    assert helpers.__all__ == sorted(set(_stub_names()) | checks)
    namespace: dict = {}
    exec("from helpers import *", namespace)  # noqa: S102
    assert sorted(set(namespace) - {"__builtins__"}) == helpers.__all__
    assert dir(helpers) == helpers.__all__


def test_a_new_exercise_check_is_in_the_flat_api_without_a_stub_line(monkeypatch):
    """``check_<name>`` comes from :mod:`helpers.teaching.exercises`, which finds its exercise modules itself."""
    from helpers.teaching import exercises

    def check_throwaway(function):
        return function

    monkeypatch.setattr(exercises, "check_throwaway", check_throwaway, raising=False)
    monkeypatch.setattr(exercises, "__all__", [*exercises.__all__, "check_throwaway"])
    assert "check_throwaway" not in _stub_names()
    assert helpers.check_throwaway is check_throwaway
    assert "check_throwaway" in helpers.__all__ and "check_throwaway" in dir(helpers)
    namespace: dict = {}
    exec("from helpers import check_throwaway", namespace)  # noqa: S102
    assert namespace["check_throwaway"] is check_throwaway


def test_a_type_checker_sees_the_flat_apis_signatures(tmp_path):
    """mypy reads helpers/__init__.pyi: ``from helpers import run_grid`` has the real signature, so a wrong call is
    reported (a module ``__getattr__`` alone would give ``Any`` and no error). Only run_grid's home module is analysed
    (the others, and third-party packages, count as ``Any``), which keeps this quick."""
    import inspect

    home = _stub_names()["run_grid"]
    (tmp_path / "snippet.py").write_text("from helpers import run_grid\nreveal_type(run_grid)\n"
                                         "run_grid(no_such_argument=1)\n")
    (tmp_path / "mypy.ini").write_text(f"[mypy]\nfollow_imports = skip\nignore_missing_imports = True\n"
                                       f"[mypy-helpers]\nfollow_imports = normal\n[mypy-{home}]\nfollow_imports = silent\n")
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(tmp_path / "mypy.ini"), "--cache-dir",
                             str(tmp_path / "cache"), "--no-error-summary", str(tmp_path / "snippet.py")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "No module named mypy" not in result.stderr, "mypy is not installed: pip install -r requirements.txt"
    revealed = re.search(r'Revealed type is "(.*)"', result.stdout)
    assert revealed and revealed.group(1).startswith("def ("), result.stdout + result.stderr
    parameters = inspect.signature(helpers.run_grid).parameters
    assert all(f"{name}:" in revealed.group(1) for name in parameters), (revealed.group(1), list(parameters))
    assert 'Unexpected keyword argument "no_such_argument" for "run_grid"' in result.stdout, result.stdout


def test_notebooks_import_only_from_the_flat_api():
    """Students never learn the folder tree: a notebook's code imports names from ``helpers`` itself."""
    offending, lent = [], helpers.__all__
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            for match in re.finditer(r"^\s*from helpers import (\([^)]*\)|[^\n]+)", source, re.M):
                body = re.sub(r"#[^\n]*", "", match.group(1))
                names = [n.strip(" ()\n").split(" as ")[0] for n in body.split(",") if n.strip(" ()\n")]
                offending += [f"{path.name}: {n}" for n in names if n not in lent]
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
        lines += [(path.name, line) for line in re.findall(r"^(?:from|import) helpers\b(?:[^\n`\"(]*\([^)]*\)|[^\n`\"]*)", path.read_text(), re.M)]
    assert lines
    for name, line in lines:
        exec(line, {})  # noqa: S102 - an import statement taken from the docs
