"""The commands: one mechanism. Each is a module with a ``main``, started with ``python -m`` on its dotted name or
with the console script pyproject.toml's ``[project.scripts]`` names; README's commands table lists both spellings.
The previous release's short names (``helpers._DEPRECATED_COMMANDS``) still run, after a one-line notice."""

import importlib
import os
import re
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]


def _scripts() -> dict[str, str]:
    """pyproject.toml's console scripts: name -> ``module:function``."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def _readme_commands() -> dict[str, str]:
    """README's commands table: console script -> the ``python -m`` module it matches."""
    rows = re.findall(r"^\| `(kdls-[\w-]+)` \| `(helpers[\w.]*)` \|", (ROOT / "README.md").read_text(), re.M)
    return dict(rows)


def _command_main(module: str):
    """What ``python -m module`` runs: the module's ``main``, or its ``__main__``'s for a package."""
    loaded = importlib.import_module(module)
    if hasattr(loaded, "__path__"):
        loaded = importlib.import_module(f"{module}.__main__")
    return loaded.main


def test_every_script_is_in_the_readme_and_runs_the_main_its_python_m_spelling_runs():
    scripts, documented = _scripts(), _readme_commands()
    assert sorted(documented) == sorted(scripts), "README's commands table and [project.scripts] differ"
    for script, target in scripts.items():
        module, _, function = target.partition(":")
        assert function == "main", f"{script} should call its module's main, not {function}"
        entry = getattr(importlib.import_module(module), function)
        assert _command_main(documented[script]) is entry, (script, documented[script])


def test_a_deprecated_name_says_the_new_one_and_runs_it(capsys):
    scripts = _scripts()
    for old, new in helpers._DEPRECATED_COMMANDS.items():
        entry = helpers._deprecated_command(f"helpers.{old}")
        notice = capsys.readouterr().err
        assert notice.count("\n") == 1 and f"helpers.{old} is deprecated" in notice, notice
        script = re.search(r"`(kdls-[\w-]+)`", notice).group(1)
        assert f"`python -m {new}`" in notice and script in scripts, notice
        assert entry is _command_main(new) is getattr(importlib.import_module(scripts[script].partition(":")[0]), "main")


def _run(command: list[str]) -> tuple[list[str], subprocess.CompletedProcess]:
    return command, subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600,
                                   env={**os.environ, "PYTHONWARNINGS": "ignore"})


@pytest.mark.slow
def test_every_script_and_python_m_spelling_answers_help():
    """Each ``kdls-*`` script, each README ``python -m`` spelling and each deprecated one prints its usage (in
    parallel processes: each imports the kit, which is most of the time)."""
    bin_dir = Path(sys.executable).parent
    missing = [name for name in _scripts() if not (bin_dir / name).exists()]
    assert not missing, f"not installed beside {sys.executable}: {missing} (pip install -e . --no-deps, or make venv)"
    commands = [[str(bin_dir / name), "--help"] for name in _scripts()]
    commands += [[sys.executable, "-m", module, "--help"] for module in _readme_commands().values()]
    commands += [[sys.executable, "-m", f"helpers.{old}", "--help"] for old in helpers._DEPRECATED_COMMANDS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(_run, commands))
    failed = [(" ".join(command[-3:]), result.returncode, result.stderr[-2000:]) for command, result in results
              if result.returncode != 0 or "usage:" not in result.stdout]
    assert not failed, failed
    for command, result in results:
        if command[-2].startswith("helpers.") and command[-2].removeprefix("helpers.") in helpers._DEPRECATED_COMMANDS:
            new = helpers._DEPRECATED_COMMANDS[command[-2].removeprefix("helpers.")]
            notice = [line for line in result.stderr.splitlines() if line.startswith(f"note: {command[-2]} ")]
            assert len(notice) == 1 and f"python -m {new}" in notice[0], result.stderr
            assert f"usage: python -m {new}" in result.stdout, result.stdout[:300]
