"""The kit is a real package: every third-party import of helpers/ is a declared dependency, pins fit the ranges,
and the wheel ships the package's data files. Offline: the metadata and the wheel are built here, with no index."""

from __future__ import annotations

import ast
import email
import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "helpers"

# needed at run time though helpers/ never imports them by name
RUNTIME_WITHOUT_IMPORT = {
    "accelerate": "transformers.Trainer needs it",
    "tokenizers": "the fast tokenizer behind AutoTokenizer",
    "ipykernel": "the kernel helpers.pipeline.notebooks and the notebooks run in",
    "jupyter_client": "nbclient's kernel manager",
}
# needed by a call rather than an import: (text in a helpers/ module, the distribution it needs)
RUNTIME_BY_CALL = [(".to_markdown(", "tabulate")]  # pandas imports tabulate inside DataFrame.to_markdown
# pinned in requirements.txt, not a runtime dependency of the package (an extra's)
PINNED_EXTRAS = {"pytest", "hypothesis", "packaging", "setuptools", "jupyterlab", "nbgrader", "import-linter"}


def imported_modules(folder: Path = PACKAGE) -> dict[str, set[str]]:
    """Top-level module name -> the files of ``folder`` importing it (every import, lazy ones inside functions too)."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], set()).add(path.name)
    return found


def third_party_modules(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: files for name, files in modules.items()
            if name not in sys.stdlib_module_names and name not in ("__future__", PACKAGE.name)}


#: the files at the top of the repository that the build reads (the licences: pyproject.toml's license-files)
BUILD_FILES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "LICENSE-CONTENT")


def _source_copy(tmp_path: Path, extra_data: bool = False) -> Path:
    """What the build reads (:data:`BUILD_FILES`, helpers/, notebooks/) in a temporary folder (the build writes its
    own files there)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in BUILD_FILES:
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=ignore)
    shutil.copytree(ROOT / "notebooks", source / "notebooks", ignore=ignore)
    if extra_data:
        (source / PACKAGE.name / "infrastructure" / "packaging_probe.json").write_text('{"probe": true}\n')
    return source


def _build(source: Path, hook: str, out: Path, edition: str | None = None) -> Path:
    """Run one PEP 517 hook of setuptools (no isolation, no network) in a subprocess, for ``edition`` (``KDLS_EDITION``;
    None: unset, the build's default); the path it wrote."""
    out.mkdir()
    code = ("import sys, setuptools.build_meta as backend; "
            f"print(backend.{hook}(sys.argv[1]))")
    env = {key: value for key, value in os.environ.items() if key != "KDLS_EDITION"}
    if edition is not None:
        env["KDLS_EDITION"] = edition
    result = subprocess.run([sys.executable, "-c", code, str(out)], cwd=source, capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built_metadata(tmp_path_factory) -> email.message.Message:
    tmp = tmp_path_factory.mktemp("metadata")
    dist_info = _build(_source_copy(tmp), "prepare_metadata_for_build_wheel", tmp / "out")
    return email.message_from_string((dist_info / "METADATA").read_text())


def declared(message: email.message.Message, extra: str | None = None) -> dict[str, Requirement]:
    """The requirements of the built metadata: the runtime ones (``extra=None``) or one extra's."""
    result = {}
    for line in message.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        marker = str(requirement.marker) if requirement.marker else ""
        in_extra = f'extra == "{extra}"' in marker if extra else "extra ==" not in marker
        if in_extra:
            result[canonicalize_name(requirement.name)] = requirement
    return result


def pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{path.name}: {line!r} is not an exact pin"
            found[canonicalize_name(requirement.name)] = specifier.version
    return found


def test_every_third_party_import_is_declared(built_metadata):
    distributions = metadata.packages_distributions()
    runtime = declared(built_metadata)
    problems = []
    for module, files in sorted(third_party_modules(imported_modules()).items()):
        owners = distributions.get(module)
        if not owners:
            problems.append(f"{module} (imported by {', '.join(sorted(files))}) is not installed here")
        elif not any(canonicalize_name(owner) in runtime for owner in owners):
            problems.append(f"{module} (imported by {', '.join(sorted(files))}) comes from {owners}, "
                            "which pyproject.toml's dependencies do not declare")
    assert not problems, "\n".join(problems)


def test_runtime_needs_without_import_are_declared(built_metadata):
    runtime = declared(built_metadata)
    missing = {name: why for name, why in RUNTIME_WITHOUT_IMPORT.items() if canonicalize_name(name) not in runtime}
    assert not missing, missing


def test_runtime_needs_of_calls_are_declared(built_metadata):
    runtime = declared(built_metadata)
    for text, distribution in RUNTIME_BY_CALL:
        users = sorted(path.name for path in PACKAGE.glob("*.py") if text in path.read_text())
        if users:
            assert canonicalize_name(distribution) in runtime, \
                f"{', '.join(users)} call(s) {text!r}, which needs {distribution}: declare it in pyproject.toml"


def test_the_import_scan_sees_lazy_imports(tmp_path):
    (tmp_path / "a.py").write_text("import os\nfrom numpy import array\ndef f():\n    import seaborn as sns\n"
                                   "    from .b import c\n    from helpers import x\n")
    modules = third_party_modules(imported_modules(tmp_path))
    assert set(modules) == {"numpy", "seaborn"}


def test_every_dependency_has_a_range_and_the_pins_fit(built_metadata):
    pinned = pins()
    for name, requirement in declared(built_metadata).items():
        assert requirement.specifier, f"{name}: no version range in pyproject.toml"
        assert name in pinned, f"{name} is a dependency but requirements.txt does not pin it"
        assert requirement.specifier.contains(pinned[name], prereleases=True), \
            f"requirements.txt pins {name}=={pinned[name]}, outside pyproject.toml's range {requirement.specifier}"


def test_requirements_pin_only_dependencies_and_test_tools(built_metadata):
    extras = {canonicalize_name(Requirement(line).name) for line in built_metadata.get_all("Requires-Dist") or []
              if Requirement(line).marker}  # every extra's packages (test tools, the grading extra, ...)
    known = set(declared(built_metadata)) | extras | {canonicalize_name(name) for name in PINNED_EXTRAS}
    stray = sorted(set(pins()) - known)
    assert not stray, f"requirements.txt pins packages the kit does not use: {stray}"


@pytest.mark.parametrize("extra, requirements", [
    ("test", "requirements.txt"), ("browser", "requirements-browser.txt"), ("book", "requirements-book.txt"),
    ("grading", "requirements-grading.txt")])
def test_extras_are_declared_and_pinned(built_metadata, extra, requirements):
    wanted = declared(built_metadata, extra)
    assert wanted, f"no extra {extra!r}"
    pinned = pins(ROOT / requirements) | pins()
    for name, requirement in wanted.items():
        assert name in pinned, f"extra {extra}: {name} is not pinned in {requirements}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (extra, name, pinned[name])


def test_browser_tools_are_not_in_the_base_requirements():
    assert "playwright" not in pins()
    assert "nbmake" not in pins() | pins(ROOT / "requirements-browser.txt")


def test_wheel_ships_the_package_data(tmp_path):
    """helpers/infrastructure/*.json (e.g. the asset manifest) is read at run time: it must be in the wheel."""
    source = _source_copy(tmp_path, extra_data=True)
    wheel = _build(source, "build_wheel", tmp_path / "dist")
    names = set(zipfile.ZipFile(wheel).namelist())
    data_files = sorted(path.relative_to(source).as_posix() for path in (source / PACKAGE.name).rglob("*.json"))
    assert "helpers/infrastructure/packaging_probe.json" in data_files
    assert set(data_files) <= names, sorted(set(data_files) - names)
    assert "helpers/__init__.py" in names
    assert json.loads(zipfile.ZipFile(wheel).read("helpers/infrastructure/packaging_probe.json")) == {"probe": True}


def test_grading_pins_agree():
    """nbgrader is pinned twice (requirements.txt, so `make test` runs the nbgrader test; the grading extra's file):
    the same version in both."""
    assert pins()["nbgrader"] == pins(ROOT / "requirements-grading.txt")["nbgrader"]


def test_the_licences_are_declared_and_shipped(built_metadata):
    """pyproject.toml's PEP 639 licence expression and licence files reach the metadata; both files exist, each
    naming what it covers."""
    assert built_metadata["License-Expression"] == "MIT AND CC-BY-4.0"
    assert sorted(built_metadata.get_all("License-File") or []) == ["LICENSE", "LICENSE-CONTENT"]
    code, content = (ROOT / "LICENSE").read_text(), (ROOT / "LICENSE-CONTENT").read_text()
    assert code.startswith("MIT License") and "LICENSE-CONTENT" in code
    assert "Attribution 4.0 International" in content and "creativecommons.org/licenses/by/4.0/legalcode" in content


def test_wheel_is_the_whole_kit(tmp_path):
    """The instructor edition's wheel: every package under helpers/ (subpackages too), the shipped results, the
    notebooks with TEACHING.md and solutions/, and the licences are in it; nothing of the checkout outside them
    (tests, data/cache) is. (The student edition: tests/test_editions.py.)"""
    from helpers.pipeline.notebooks import course_files
    from helpers.learning.shipped import SHIPPED_DIR

    source = _source_copy(tmp_path)
    wheel = _build(source, "build_wheel", tmp_path / "dist", edition="instructor")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {path.relative_to(source).as_posix() for path in (source / PACKAGE.name).rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert "helpers/experiments/paper_scale/__init__.py" in names
    shipped = {f"helpers/{path.relative_to(PACKAGE).as_posix()}" for path in SHIPPED_DIR.rglob("*") if path.is_file()}
    assert SHIPPED_DIR.parent == PACKAGE / "learning" and shipped and shipped <= names, sorted(shipped - names)
    notebooks = {f"helpers/pipeline/student_notebooks/{name.as_posix()}"
                 for name in course_files(ROOT / "notebooks", edition="instructor")}
    assert "helpers/pipeline/student_notebooks/TEACHING.md" in notebooks and len(notebooks) >= 20
    assert notebooks <= names, sorted(notebooks - names)
    strays = sorted(name for name in names if not name.startswith(("helpers/", "kdls_kit-")))
    assert not strays, strays
    assert {"kdls_kit-0.1.0.dist-info/licenses/LICENSE", "kdls_kit-0.1.0.dist-info/licenses/LICENSE-CONTENT"} <= names
    assert zipfile.ZipFile(wheel).read("helpers/infrastructure/EDITION").decode().strip() == "instructor"
