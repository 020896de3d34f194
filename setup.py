"""The one build step pyproject.toml cannot declare: the wheel carries the student notebooks.

The notebooks live at the top of the repository (``notebooks/``), outside the package, and setuptools' package
data cannot reach outside a package folder. So ``build_py`` copies them into the built package as
``helpers/pipeline/student_notebooks/`` (the numbered notebooks, ``TEACHING.md``, ``solutions/*.md``), where
``helpers.pipeline.notebooks.NOTEBOOK_DIR`` finds them in an installed kit and ``python -m helpers.notebooks copy DIR``
writes them out. An editable install (``pip install -e .``) reads ``notebooks/`` in place and gets no copy. The
source distribution carries ``notebooks/`` (MANIFEST.in), so a wheel built from it has them too. Everything else
is in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "notebooks"
PATTERNS = ("[0-9][0-9]_*.ipynb", "TEACHING.md", "solutions/*.md")  # helpers.pipeline.notebooks.course_files
TARGET = ("helpers", "pipeline", "student_notebooks")


class build_py_with_notebooks(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        files = [path for pattern in PATTERNS for path in sorted(NOTEBOOKS.glob(pattern))]
        if not any(path.suffix == ".ipynb" for path in files):
            raise SystemExit(f"setup.py: no notebooks in {NOTEBOOKS}: the wheel would lack them")
        target = Path(self.build_lib, *TARGET)
        for path in files:
            destination = target / path.relative_to(NOTEBOOKS)
            self.mkpath(str(destination.parent))
            self.copy_file(str(path), str(destination), preserve_mode=False)


setup(cmdclass={"build_py": build_py_with_notebooks})
