"""The installed wheel is the whole kit (its student edition, the default build), and it runs outside the checkout.

Builds the wheel (offline, no build isolation, ``KDLS_EDITION`` unset: the student edition), installs it into a fresh
virtual environment (``--without-pip``; a ``.pth`` file lends it this environment's dependencies, so nothing is
downloaded), then, from a temporary folder outside the checkout: imports every module of ``helpers``, loads the shipped
results, copies the notebooks out with ``python -m helpers.pipeline.notebooks copy DIR`` (the notebooks only: no
``TEACHING.md``, no ``solutions/``) and executes notebooks 01 and 06 there on the smoke preset (the download cache
is the checkout's ``data/cache``, computed runs go to a temporary folder). Nothing may be written into the installed
package. That the student edition holds no answer: tests/test_editions.py. Measured on a 2-core CPU shared with other work: 01 in 7 s, 06 (it trains) in 75 s, the whole test in 2 min
(06 took up to 4.5 min under heavy load); ``KDLS_WHEEL_NOTEBOOKS=01`` executes 01 only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
from test_packaging import _source_copy

from helpers.infrastructure.assets import cache_dir

pytestmark = pytest.mark.slow

NOTEBOOKS = tuple(os.environ.get("KDLS_WHEEL_NOTEBOOKS", "01,06").split(","))


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _files(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with the wheel installed, its site-packages, a work folder outside the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    env = {key: value for key, value in os.environ.items() if key != "KDLS_EDITION"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "-q", "-w", str(dist), "."], cwd=_source_copy(tmp), env=env)
    (wheel,) = dist.glob("kdls_kit-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp).stdout.strip())
    # borrow this environment's dependencies (not its site dir: its .pth files, e.g. the editable kit, stay inert)
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", "-q", str(wheel)], cwd=tmp)
    work = tmp / "work"
    work.mkdir()
    return python, site, work


def _environment(work: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KDLS_") and key != "PYTHONPATH"}
    # the checkout's download cache (no download), a private folder for computed runs
    return env | {"KDLS_DATA_DIR": str(cache_dir()), "KDLS_COMPUTED_DIR": str(work / "computed"),
                  "KDLS_PRESET": "smoke", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}


def test_the_installed_wheel_runs_the_kit_outside_the_checkout(installed):
    python, site, work = installed
    env = _environment(work)
    before = _files(site)

    # every module imports, from the installed package; shipped results and notebooks come with it
    probe = textwrap.dedent("""
        import importlib, json, pkgutil, sys
        import helpers
        from helpers.pipeline.notebooks import NOTEBOOK_DIR, PACKAGED_NOTEBOOKS
        from helpers.infrastructure.settings import current_settings
        from helpers.learning.shipped import load_shipped
        names = [m.name for m in pkgutil.walk_packages(helpers.__path__, "helpers.")]
        for name in names:
            importlib.import_module(name)
        print(json.dumps({"file": helpers.__file__, "modules": names, "shipped": load_shipped() is not None,
                          "notebooks": str(NOTEBOOK_DIR), "packaged": str(PACKAGED_NOTEBOOKS),
                          "in_checkout": current_settings().in_checkout}))
    """)
    found = json.loads(_run([str(python), "-c", probe], cwd=work, env=env).stdout.strip().splitlines()[-1])
    assert Path(found["file"]).is_relative_to(site), found["file"]
    assert {"helpers.experiments.paper_scale.cli", "helpers.infrastructure.settings", "helpers.pipeline.grade", "helpers.pipeline.shipped"} <= set(found["modules"])
    assert found["shipped"] and not found["in_checkout"] and found["notebooks"] == found["packaged"]

    # the notebooks come out with one command, without the answers; a second one refuses to overwrite, --force does
    course = work / "kdls"
    copy = [str(python), "-m", "helpers.pipeline.notebooks", "copy", str(course)]
    done = _run(copy, cwd=work, env=env)
    assert "wrote" in done.stdout and "student edition" in done.stdout
    names = _files(course)
    assert {"01_softmax_temperature_entropy.ipynb", "06_erm_ls_kd.ipynb"} <= names
    assert not {"TEACHING.md", "solutions"} & names
    refused = _run(copy, cwd=work, env=env, check=False)
    assert refused.returncode == 1 and "--force" in refused.stderr and "nothing was written" in refused.stderr
    _run(copy + ["--force"], cwd=work, env=env)

    # the copied notebooks execute headless, in kernels that run the installed kit
    execute = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        import nbformat
        from helpers.pipeline.notebooks import execute_notebook
        course, out = Path(sys.argv[1]), Path(sys.argv[2])
        probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "import helpers, sys; print(helpers.__file__); print(sys.executable)")])
        nbformat.write(probe, course / "probe.ipynb")
        execute_notebook(course / "probe.ipynb", output=out / "probe.ipynb", timeout=120)
        print("kernel:", nbformat.read(out / "probe.ipynb", as_version=4).cells[0].outputs[0]["text"].replace(chr(10), " "))
        for number in sys.argv[3:]:
            (path,) = course.glob(number + "_*.ipynb")
            started = time.perf_counter()
            execute_notebook(path, preset="smoke", output=out / path.name, timeout=900)
            print(f"executed {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    """)
    out = work / "executed"
    done = _run([str(python), "-c", execute, str(course), str(out), *NOTEBOOKS], cwd=work, env=env, timeout=1800)
    print(done.stdout)
    kernel = next(line for line in done.stdout.splitlines() if line.startswith("kernel:"))
    assert str(site) in kernel and str(python.parent) in kernel, kernel
    assert done.stdout.count("executed ") == len(NOTEBOOKS)

    after = _files(site)
    assert after == before, f"written into the installed package: {sorted(after - before)[:10]}"
