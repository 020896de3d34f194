"""Choose which build of the pinned torch `make venv` installs, and install it (standard library only).

The rule (README, "Install"):

* ``TORCH_VARIANT=auto`` (the default): on Linux without an NVIDIA GPU, PyTorch's **CPU** build; everywhere
  else the regular wheel of the configured index (PyPI: the CUDA build on Linux, the CPU/MPS build on macOS
  and Windows). "NVIDIA GPU" means ``nvidia-smi`` is on the PATH or ``/proc/driver/nvidia`` exists.
* ``TORCH_VARIANT=cpu``: the CPU build on any system; ``default``: the configured index's regular wheel, or
  whatever build of the pinned version is installed already; ``cuda`` (Linux): PyPI's CUDA build, replacing an
  installed CPU build.

A CPU build is taken, in this order, from: the torch already installed (nothing to do when it is the pinned
version and the wanted kind); the configured package index, when it already serves a CPU build of the pinned
version (a mirror or a local wheel); else PyTorch's CPU index (:data:`CPU_INDEX`).

:func:`decide` is the pure decision (tested without network in ``tests/test_torch_selection.py``); the
command line gathers the facts, prints the decision and, with ``--install``, runs pip::

    python tools/select_torch.py --variant auto --requirements requirements.txt [--install | --dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
VARIANTS = ("auto", "cpu", "default", "cuda")


@dataclass(frozen=True)
class Decision:
    """What to do: ``action`` is ``"keep"`` (the installed torch fits) or ``"install"`` (run ``pip install *pip_args``)."""

    variant: str  # the effective variant: "cpu" or "default"
    action: str
    pip_args: list[str] = field(default_factory=list)
    reason: str = ""


def normalize_variant(value: str | None) -> str:
    """``TORCH_VARIANT``'s value, lower-cased; empty means ``auto``. Unknown values are refused."""
    variant = (value or "auto").strip().lower() or "auto"
    if variant not in VARIANTS:
        raise ValueError(f"TORCH_VARIANT must be one of {'|'.join(VARIANTS)}, got {value!r}")
    return variant


def has_nvidia_gpu(nvidia_smi: bool, proc_driver_nvidia: bool) -> bool:
    """An NVIDIA GPU (driver) is present: ``nvidia-smi`` is on the PATH or ``/proc/driver/nvidia`` exists."""
    return bool(nvidia_smi or proc_driver_nvidia)


def effective_variant(system: str, variant: str, nvidia_smi: bool, proc_driver_nvidia: bool) -> str:
    """``"cpu"``, ``"default"`` or ``"cuda"``: ``auto`` means CPU on Linux without an NVIDIA GPU, ``default`` elsewhere."""
    variant = normalize_variant(variant)
    if variant == "auto":
        return "cpu" if system == "Linux" and not has_nvidia_gpu(nvidia_smi, proc_driver_nvidia) else "default"
    if variant == "cuda" and system != "Linux":
        raise ValueError(f"TORCH_VARIANT=cuda: PyPI's torch for {system} is not a CUDA build; install PyTorch's CUDA "
                         "build of the pinned version first (pytorch.org's install selector), then run make with "
                         "TORCH_VARIANT=default, which keeps it")
    return variant


def is_cpu_build(version: str, requires: list[str] | tuple[str, ...], system: str) -> bool:
    """Whether a torch distribution is a CPU-only build.

    PyTorch's own indexes mark their builds with a local version label (``2.13.0+cpu``, ``2.13.0+cu128``);
    PyPI's Linux CUDA wheel has no label but depends on NVIDIA's ``nvidia-*`` CUDA libraries. PyPI's macOS
    and Windows wheels have neither: they are CPU builds. (``system`` is kept for the callers' symmetry.)
    """
    local = version.partition("+")[2].lower()
    if local:
        return local.startswith("cpu")
    if any(re.match(r"nvidia[-_]", requirement.strip().lower()) for requirement in requires):
        return False
    return True  # no CUDA libraries required: a CPU build


def base_version(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``."""
    return version.partition("+")[0]


def decide(*, system: str, machine: str, nvidia_smi: bool, proc_driver_nvidia: bool, variant: str | None,
           pinned: str, installed: tuple[str, list[str]] | None = None,
           index_offers: tuple[str, list[str]] | None = None) -> Decision:
    """The pip arguments that install the wanted build of ``torch==pinned``.

    ``installed``: ``(version, requires)`` of the torch in the target environment, or ``None``;
    ``index_offers``: ``(version, requires)`` of what the configured index would install for ``torch==pinned``
    (``None``: unknown, e.g. no network). ``machine`` (``x86_64``, ``aarch64``, ...) is reported only: PyTorch's
    CPU index serves both Linux architectures.

    * ``default`` keeps any installed build of the pinned version, else installs the index's regular wheel;
    * ``cuda`` (Linux) keeps an installed CUDA build, else installs PyPI's (CUDA) wheel, replacing a CPU build;
    * ``cpu`` keeps an installed CPU build, else installs the configured index's CPU build if it serves one,
      else PyTorch's CPU index's (``torch==X+cpu``: the local label makes pip replace an installed CUDA build).
    """
    wanted = effective_variant(system, normalize_variant(variant), nvidia_smi, proc_driver_nvidia)
    requirement = f"torch=={base_version(pinned)}"
    where = f"{system}/{machine}, NVIDIA GPU {'found' if has_nvidia_gpu(nvidia_smi, proc_driver_nvidia) else 'not found'}"
    if installed is not None and base_version(installed[0]) == base_version(pinned):
        cpu = is_cpu_build(installed[0], installed[1], system)
        if wanted == "default" or (wanted == "cpu") == cpu:
            kind = "CPU" if cpu else "CUDA" if system == "Linux" else "regular"
            return Decision(wanted, "keep", [], f"{where}: torch {installed[0]} ({kind} build) is installed already")
        if wanted == "cuda":
            return Decision(wanted, "install", ["--force-reinstall", requirement],
                            f"{where}: PyPI's CUDA build, replacing the installed CPU build {installed[0]}")
    if wanted in ("default", "cuda"):
        return Decision(wanted, "install", [requirement], f"{where}: the configured index's regular torch wheel")
    if index_offers is not None and base_version(index_offers[0]) == base_version(pinned) \
            and is_cpu_build(index_offers[0], index_offers[1], system):
        return Decision(wanted, "install", [f"torch=={index_offers[0]}"],
                        f"{where}: CPU build; the configured index already serves one (torch {index_offers[0]})")
    return Decision(wanted, "install", ["--index-url", CPU_INDEX, f"{requirement}+cpu"],
                    f"{where}: CPU build from PyTorch's CPU index")


# ---------------------------------------------------------------- facts about this machine (not pure)

def pinned_torch(requirements: Path) -> str:
    """The version in ``torch==X`` of a requirements file."""
    for line in Path(requirements).read_text().splitlines():
        match = re.match(r"\s*torch\s*==\s*([^\s;#]+)", line)
        if match:
            return match.group(1)
    raise SystemExit(f"{requirements} pins no torch==VERSION")


def installed_torch() -> tuple[str, list[str]] | None:
    """``(version, requires)`` of the torch installed for this interpreter, or ``None``."""
    from importlib import metadata

    try:
        return metadata.version("torch"), list(metadata.requires("torch") or [])
    except metadata.PackageNotFoundError:
        return None


def index_offer(pinned: str, python: str = sys.executable) -> tuple[str, list[str]] | None:
    """What ``pip install torch==pinned`` would take from the configured index (a dry run; ``None`` if unknown)."""
    command = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
               "--disable-pip-version-check", "--report", "-", f"torch=={pinned}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        report = json.loads(result.stdout)
        metadata = report["install"][0]["metadata"]
        return metadata["version"], list(metadata.get("requires_dist") or [])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default=os.environ.get("TORCH_VARIANT", "auto"),
                        help="auto (default) | cpu | default | cuda  (or the TORCH_VARIANT environment variable)")
    parser.add_argument("--requirements", type=Path, default=Path("requirements.txt"))
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--install", action="store_true", help="run pip install with the chosen arguments")
    what.add_argument("--dry-run", action="store_true", help="print the decision only (the default)")
    args = parser.parse_args(argv)

    pinned = pinned_torch(args.requirements)
    system, machine = platform.system(), platform.machine()
    nvidia_smi, proc = shutil.which("nvidia-smi") is not None, Path("/proc/driver/nvidia").exists()
    try:
        variant = normalize_variant(args.variant)
        wanted = effective_variant(system, variant, nvidia_smi, proc)
    except ValueError as error:
        parser.error(str(error))
    installed = installed_torch()
    offer = None
    needs_probe = wanted == "cpu" and not (installed and base_version(installed[0]) == base_version(pinned)
                                           and is_cpu_build(installed[0], installed[1], system))
    if needs_probe:
        offer = index_offer(pinned)
    decision = decide(system=system, machine=machine, nvidia_smi=nvidia_smi, proc_driver_nvidia=proc,
                      variant=variant, pinned=pinned, installed=installed, index_offers=offer)
    print(f"torch ({variant} -> {decision.variant}): {decision.reason}")
    if decision.action == "keep":
        return 0
    command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", *decision.pip_args]
    print(("running: " if args.install else "would run: ") + " ".join(command[1:]))
    if args.install:
        return subprocess.call(command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
