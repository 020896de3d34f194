"""The kit's settings: one frozen object, read from the environment in one place.

Every knob the kit reads from the environment is listed here, once:

======================  =====================  ==========================================================================
setting                 variable               meaning (default)
======================  =====================  ==========================================================================
``preset``              ``KDLS_PRESET``        training budget: ``smoke``, ``classroom`` or ``full`` (``classroom``)
``precision``           ``KDLS_PRECISION``     ``auto``, ``fp32`` or ``bf16`` (``auto``: bf16 where the CPU has it natively)
``data_dir``            ``KDLS_DATA_DIR``      downloads, extracted assets and run caches (``data/cache`` in a checkout,
                                               else the per-user cache folder, e.g. ``~/.cache/kdls-kit`` on Linux)
``computed_dir``        ``KDLS_COMPUTED_DIR``  where computed runs are cached (unset: ``data_dir``, or the per-user
                                               cache folder when ``data_dir`` is read-only, e.g. a hub's shared copy)
``allow_hub``           ``KDLS_ALLOW_HUB``     ``1``: allow Hugging Face hub downloads (offline otherwise)
``record_dir``          ``KDLS_RECORD_DIR``    where notebooks record their result frames (unset: not recorded)
``flops_file``          ``KDLS_FLOPS_FILE``    a JSON-lines file tallying model FLOPs (unset: not written)
``headless``            ``KDLS_HEADLESS``      ``1``: progress as one summary line (executed copies), not a live bar
======================  =====================  ==========================================================================

:func:`current_settings` reads the environment **each time it is called** (cheap), so a test's
``monkeypatch.setenv`` or a notebook's ``%env`` takes effect at once; ``SETTINGS`` is the value
read once, the first time it is used. An unset or empty variable means the default, except
``KDLS_DATA_DIR``: set but empty, or naming a file, is an error (never the current folder).

**A checkout** is the repository itself (``pyproject.toml`` and ``notebooks/`` beside the package),
e.g. ``make`` or ``pip install -e .``; an installed wheel is not one, so its data go to the per-user
cache folder (``platformdirs.user_cache_dir("kdls-kit")``), never inside the installed package.

**A read-only data folder** (:func:`read_only_folder`: not writable by this user, or with no write permission
bit for anyone) is only read: one copy of the assets prepared once and shared by a class on a hub. Computed runs
then go to the per-user cache folder (:func:`user_cache_folder`) unless ``KDLS_COMPUTED_DIR`` says otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "SettingsError", "VARIABLES", "PACKAGE_DIR", "checkout_root", "current_settings", "setting",
           "requested_precision", "user_cache_folder", "read_only_folder", "SETTINGS"]

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the helpers package
PRESETS = ("smoke", "classroom", "full")
PRECISIONS = ("auto", "bf16", "fp32")
APP_NAME = "kdls-kit"

#: setting name -> the environment variable it is read from (the table above)
VARIABLES: dict[str, str] = {
    "preset": "KDLS_PRESET",
    "precision": "KDLS_PRECISION",
    "data_dir": "KDLS_DATA_DIR",
    "computed_dir": "KDLS_COMPUTED_DIR",
    "allow_hub": "KDLS_ALLOW_HUB",
    "record_dir": "KDLS_RECORD_DIR",
    "flops_file": "KDLS_FLOPS_FILE",
    "headless": "KDLS_HEADLESS",
}


class SettingsError(ValueError):
    """An environment variable of the kit has a value the kit cannot use."""


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The repository folder when the package runs from a checkout (``pyproject.toml`` and ``notebooks/`` next to
    the package), else ``None`` (an installed wheel)."""
    root = package_dir.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def user_cache_folder() -> Path:
    """This user's cache folder for the kit (``~/.cache/kdls-kit`` on Linux, following ``XDG_CACHE_HOME``)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME))


def default_data_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """``data/cache`` in a checkout, else the per-user cache folder."""
    root = checkout_root(package_dir)
    if root is not None:
        return root / "data" / "cache"
    return user_cache_folder()


def read_only_folder(path: Path) -> bool:
    """Whether the kit only reads ``path`` (an existing folder): this user may not write there, or its mode has no
    write bit at all (``chmod a-w``), which counts even for root, who may write anywhere."""
    mode = path.stat().st_mode
    return not os.access(path, os.W_OK) or not mode & 0o222


@dataclass(frozen=True)
class Settings:
    """Every environment knob of the kit, validated (see the module's table)."""

    preset: str = "classroom"
    precision: str = "auto"
    data_dir: Path = Path("data/cache")
    computed_dir: Path | None = None
    allow_hub: bool = False
    record_dir: Path | None = None
    flops_file: Path | None = None
    headless: bool = False
    in_checkout: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, package_dir: Path = PACKAGE_DIR) -> Settings:
        env = os.environ if environ is None else environ
        values = {name: read(env, package_dir) for name, read in _READERS.items()}
        return cls(**values, in_checkout=checkout_root(package_dir) is not None)

    def table(self) -> str:
        """The settings as a Markdown table (setting, variable, value)."""
        rows = ["| setting | variable | value |", "|---|---|---|"]
        rows += [f"| {name} | `{variable}` | {getattr(self, name)} |" for name, variable in VARIABLES.items()]
        return "\n".join(rows)


def _text(env: Mapping[str, str], name: str) -> str:
    return env.get(VARIABLES[name], "").strip()


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    value = _text(env, name)
    return Path(value).expanduser() if value else None


def _preset(env: Mapping[str, str]) -> str:
    preset = env.get(VARIABLES["preset"], "").strip() or "classroom"
    if preset not in PRESETS:
        raise SettingsError(f"KDLS_PRESET must be one of {', '.join(PRESETS)}, got {env['KDLS_PRESET']!r}")
    return preset


def _precision(env: Mapping[str, str]) -> str:
    precision = env.get(VARIABLES["precision"], "").strip().lower() or "auto"
    if precision not in PRECISIONS:
        raise SettingsError(f"KDLS_PRECISION must be one of {', '.join(PRECISIONS)}, got {env['KDLS_PRECISION']!r}")
    return precision


def setting(name: str, environ: Mapping[str, str] | None = None):
    """One setting alone (validated as :class:`Settings` does), so that a bad value of another variable does not stop
    code that only needs this one."""
    if name not in _READERS:
        raise KeyError(f"no setting {name!r}: the settings are {', '.join(VARIABLES)}")
    return _READERS[name](os.environ if environ is None else environ, PACKAGE_DIR)


def requested_precision(environ: Mapping[str, str] | None = None) -> str:
    """``KDLS_PRECISION`` (``auto`` when unset or empty), validated on its own."""
    return setting("precision", environ)


def _flag(value: str) -> bool:
    return value.lower() not in ("", "0", "false", "no", "off")


def _data_dir(env: Mapping[str, str], package_dir: Path) -> Path:
    variable = VARIABLES["data_dir"]
    if variable not in env:
        return default_data_dir(package_dir)
    value = env[variable].strip()
    if not value:
        raise SettingsError(f"{variable} is set but empty: unset it (the default: {default_data_dir(package_dir)}) "
                            "or name a folder (the kit never caches into the current folder by accident)")
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{variable}={value!r} is a file, not a folder: name a folder for the kit's downloads "
                            "and caches")
    return path


#: setting name -> how it is read and validated from an environment (every field of :class:`Settings` but
#: ``in_checkout``); :meth:`Settings.from_environment` and :func:`setting` both read through it
_READERS = {
    "preset": lambda env, _: _preset(env),
    "precision": lambda env, _: _precision(env),
    "data_dir": _data_dir,
    "computed_dir": lambda env, _: _optional_path(env, "computed_dir"),
    "allow_hub": lambda env, _: _text(env, "allow_hub") == "1",
    "record_dir": lambda env, _: _optional_path(env, "record_dir"),
    "flops_file": lambda env, _: _optional_path(env, "flops_file"),
    "headless": lambda env, _: _flag(_text(env, "headless")),
}


def current_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings as the environment says now (re-read on every call)."""
    return Settings.from_environment(environ)


_FIRST: list[Settings] = []


def __getattr__(name: str):
    """``SETTINGS``: the settings read once, when first asked for (use :func:`current_settings` to follow changes).
    Read lazily, so that importing the kit never fails on a bad variable that no code path uses."""
    if name == "SETTINGS":
        if not _FIRST:
            _FIRST.append(current_settings())
        return _FIRST[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
