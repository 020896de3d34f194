"""The environment check of notebook 00: versions, pinned assets, widget front-end, compute.

Each check returns a :class:`Check` (name, ok, detail); :func:`environment_report` runs them all
and :func:`report_frame` turns them into a table. Nothing here raises on a failed check: a
failure is reported with what to do about it.

The widget check catches the classic front-end mismatch ("Error displaying widget: model not
found"): the Python package ``ipywidgets`` and the JupyterLab extension
``@jupyter-widgets/jupyterlab-manager`` (shipped by ``jupyterlab_widgets``) must be a matching
pair, and the extension must be where JupyterLab looks for it.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

__all__ = [
    "PACKAGES",
    "WIDGET_MANAGER_MAJOR",
    "Check",
    "package_versions",
    "check_packages",
    "check_assets",
    "find_widget_manager",
    "check_widgets",
    "check_compute",
    "environment_report",
    "report_frame",
    "format_report",
]

#: Packages whose versions the check reports (distribution names).
PACKAGES: tuple[str, ...] = ("torch", "transformers", "datasets", "numpy", "pandas", "matplotlib", "seaborn",
                             "ipywidgets", "jupyterlab_widgets", "ipykernel", "nbclient")
#: Reported when installed, never required: a hosted notebook service brings its own front end.
OPTIONAL_PACKAGES: tuple[str, ...] = ("jupyterlab",)

#: ipywidgets major version -> the major version of ``@jupyter-widgets/jupyterlab-manager`` it talks to.
WIDGET_MANAGER_MAJOR: dict[int, int] = {7: 3, 8: 5}

_MANAGER = ("@jupyter-widgets", "jupyterlab-manager")


@dataclass(frozen=True)
class Check:
    """One line of the environment report."""

    name: str
    ok: bool
    detail: str


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (``None`` if it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def check_packages(packages: tuple[str, ...] = PACKAGES) -> Check:
    """Python version and every package's version; fails if one is missing."""
    versions = package_versions(packages)
    missing = [name for name, version in versions.items() if version is None]
    optional = {name: version for name, version in package_versions(OPTIONAL_PACKAGES).items() if version}
    listed = ", ".join(f"{name} {version}" for name, version in {**versions, **optional}.items() if version)
    detail = f"Python {platform.python_version()}; {listed}"
    if missing:
        detail += f". MISSING: {', '.join(missing)} -- run `make venv` (pip install -r requirements.txt)"
    return Check("packages", not missing, detail)


def check_assets() -> Check:
    """Fetch (if needed) and sha256-verify every pinned asset with :func:`helpers.infrastructure.assets.verify_all`."""
    from helpers.infrastructure import assets

    try:
        paths = assets.verify_all()
    except (assets.AssetError, OSError) as error:
        return Check("assets", False, f"{error}  -- run `make assets`")
    return Check("assets", True, "verified: " + ", ".join(sorted(paths)) + f" (in {assets.cache_dir()})")


def find_widget_manager(search_path: list[str] | None = None) -> Path | None:
    """Folder of the ``@jupyter-widgets/jupyterlab-manager`` lab extension JupyterLab would load, if any."""
    if search_path is None:
        from jupyter_core.paths import jupyter_path

        search_path = jupyter_path("labextensions")
    for folder in search_path:
        candidate = Path(folder).joinpath(*_MANAGER)
        if (candidate / "package.json").is_file():
            return candidate
    return None


def check_widgets(search_path: list[str] | None = None) -> Check:
    """ipywidgets and its JupyterLab extension are installed and a matching pair.

    A widget can only render if the extension's major version is the one this ipywidgets
    speaks (:data:`WIDGET_MANAGER_MAJOR`); otherwise JupyterLab shows "Error displaying widget".
    """
    try:
        import ipywidgets
    except ImportError:
        return Check("widgets", False, "ipywidgets is not installed -- run `make venv`")
    folder = find_widget_manager(search_path)
    if folder is None:
        return Check("widgets", False, "the JupyterLab extension @jupyter-widgets/jupyterlab-manager was not found "
                                       "-- install jupyterlab_widgets in the environment that runs JupyterLab")
    manager = json.loads((folder / "package.json").read_text()).get("version", "0")
    python_major = int(ipywidgets.__version__.split(".")[0])
    manager_major = int(manager.split(".")[0])
    expected = WIDGET_MANAGER_MAJOR.get(python_major)
    detail = f"ipywidgets {ipywidgets.__version__} with jupyterlab-manager {manager}"
    if expected != manager_major:
        return Check("widgets", False, f"{detail}: mismatch (ipywidgets {python_major} needs jupyterlab-manager "
                                       f"{expected}.x) -- widgets would show 'Error displaying widget'; "
                                       "reinstall ipywidgets and jupyterlab_widgets together")
    return Check("widgets", True, f"{detail} (a matching pair)")


def check_compute() -> Check:
    """CPU/GPU and the training precision the kit will use (bf16 where the CPU supports it)."""
    import torch

    from helpers.infrastructure.precision import bf16_supported, resolve_precision

    device = f"CUDA: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU (the kit runs on CPU)"
    native = "native bf16" if bf16_supported() else "no native bf16"
    precision = f"{resolve_precision()} ({native}; set KDLS_PRECISION=fp32|bf16 to choose)"
    detail = f"{platform.machine()} with {torch.get_num_threads()} torch threads; {device}; training precision {precision}"
    return Check("compute", True, detail)


def environment_report(assets: bool = True) -> list[Check]:
    """All checks: packages, assets (unless ``assets=False``), widgets, compute, and the active preset."""
    from helpers.experiments.presets import get_preset

    checks = [check_packages()]
    if assets:
        checks.append(check_assets())
    checks += [check_widgets(), check_compute()]
    try:
        preset = get_preset()
        checks.append(Check("preset", True, f"{preset.name}: {preset.notes}"))
    except ValueError as error:
        checks.append(Check("preset", False, str(error)))
    return checks


def report_frame(checks: list[Check]) -> pd.DataFrame:
    """The checks as a table with columns ``check``, ``status`` ("ok" / "FAILED") and ``detail``."""
    return pd.DataFrame([{"check": c.name, "status": "ok" if c.ok else "FAILED", "detail": c.detail} for c in checks])


def format_report(checks: list[Check]) -> str:
    """The checks as aligned text lines: name, ok/FAILED, detail."""
    return "\n".join(f"{c.name:9s} {'ok' if c.ok else 'FAILED':6s} {c.detail}" for c in checks)


if __name__ == "__main__":  # python -m helpers.pipeline.environment
    report = environment_report()
    print(format_report(report))
    sys.exit(0 if all(c.ok for c in report) else 1)
