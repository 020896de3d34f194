"""The build steps pyproject.toml cannot declare: the wheel's edition, and the notebooks it carries.

**Edition** (``helpers/infrastructure/editions.py``): ``KDLS_EDITION=student`` (the default) or ``instructor``, read
from the environment of the build, e.g. ``KDLS_EDITION=instructor python -m pip wheel --no-deps -w dist .`` (or
``make wheel-student`` / ``make wheel-instructor``). The student edition's modules lose every block between
``# BEGIN INSTRUCTOR`` and ``# END INSTRUCTOR`` (worked solutions, hidden grading cases, wrong-implementation
catalogues); each stripped module must still compile, or the build stops. The built package records its edition in
``helpers/infrastructure/EDITION``.

**Notebooks.** They live at the top of the repository (``notebooks/``), outside the package, and setuptools' package
data cannot reach outside a package folder. So ``build_py`` copies them into the built package as
``helpers/pipeline/student_notebooks/``: the numbered notebooks, and in the instructor edition ``TEACHING.md`` and
``solutions/*.md`` too. ``helpers.pipeline.notebooks.NOTEBOOK_DIR`` finds them in an installed kit and
``python -m helpers.pipeline.notebooks copy DIR`` writes them out.

An editable install (``pip install -e .``) reads the source in place, the instructor edition: it gets no copy, and
asking it for the student edition stops the build. Every build copies afresh (a leftover of an earlier build in
``build/`` never reaches the wheel). The source distribution carries ``notebooks/`` (MANIFEST.in) and the whole
source, so a wheel built from it is again the edition its build asks for. Everything else is in pyproject.toml.
"""

import importlib.util
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "notebooks"
TARGET = ("helpers", "pipeline", "student_notebooks")


def _editions():
    """``helpers/infrastructure/editions.py``, loaded by its path (the build cannot import the package)."""
    spec = importlib.util.spec_from_file_location("kdls_editions", ROOT / "helpers" / "infrastructure" / "editions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class build_py_with_editions(build_py):
    def run(self):
        editions = _editions()
        try:
            edition = editions.requested_edition()
        except ValueError as error:
            raise SystemExit(f"setup.py: {error}") from None
        if getattr(self, "editable_mode", False):
            if edition == "student" and os.environ.get(editions.EDITION_ENV, "").strip():
                raise SystemExit(f"setup.py: an editable install reads the source in place, which is the instructor "
                                 f"edition; unset {editions.EDITION_ENV}, or build a wheel for the student edition")
            super().run()
            return
        package = Path(self.build_lib, "helpers")
        shutil.rmtree(Path(self.build_lib, *TARGET), ignore_errors=True)  # never an earlier build's files
        (package / editions.EDITION_FILE).unlink(missing_ok=True)
        self.force = True  # copy every module afresh: an earlier build's stripped (or whole) copy is never kept
        super().run()
        if edition == "student":
            self._strip(editions, package)
        self._copy_notebooks(editions, edition)
        (package / editions.EDITION_FILE).write_text(edition + "\n", encoding="utf-8")

    def _strip(self, editions, package: Path) -> None:
        """Remove the instructor blocks from every built module; each must still compile."""
        for path in sorted(package.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if editions.BEGIN_INSTRUCTOR not in text and editions.END_INSTRUCTOR not in text:
                continue
            name = path.relative_to(self.build_lib).as_posix()
            try:
                stripped = editions.strip_instructor(text, name)
                compile(stripped, name, "exec")
            except (ValueError, SyntaxError) as error:
                raise SystemExit(f"setup.py: the student edition of {name} is broken: {error}") from None
            path.write_text(stripped, encoding="utf-8")

    def _copy_notebooks(self, editions, edition: str) -> None:
        files = editions.edition_files(NOTEBOOKS, edition)
        if not any(path.suffix == ".ipynb" for path in files):
            raise SystemExit(f"setup.py: no notebooks in {NOTEBOOKS}: the wheel would lack them")
        target = Path(self.build_lib, *TARGET)
        for name in files:
            destination = target / name
            self.mkpath(str(destination.parent))
            self.copy_file(str(NOTEBOOKS / name), str(destination), preserve_mode=False)


setup(cmdclass={"build_py": build_py_with_editions})
