"""`make venv`'s choice of torch build (tools/select_torch.py), without network: the pure decision and the pin."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("select_torch", ROOT / "tools" / "select_torch.py")
select_torch = importlib.util.module_from_spec(_spec)
sys.modules["select_torch"] = select_torch
_spec.loader.exec_module(select_torch)

PIN = "2.13.0"
CUDA_REQUIRES = ["filelock", "sympy>=1.13.3", "nvidia-cublas-cu12==12.8.4.1; platform_system == 'Linux'"]
CPU_REQUIRES = ["filelock", "sympy>=1.13.3"]


def decide(system="Linux", machine="x86_64", smi=False, proc=False, variant="auto", installed=None, offers=None):
    return select_torch.decide(system=system, machine=machine, nvidia_smi=smi, proc_driver_nvidia=proc,
                               variant=variant, pinned=PIN, installed=installed, index_offers=offers)


def test_linux_without_gpu_gets_pytorchs_cpu_index():
    decision = decide()
    assert decision.variant == "cpu" and decision.action == "install"
    assert decision.pip_args == ["--index-url", "https://download.pytorch.org/whl/cpu", "torch==2.13.0+cpu"]


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_linux_without_gpu_is_cpu_on_both_architectures(machine):
    assert decide(machine=machine).variant == "cpu"


@pytest.mark.parametrize("smi, proc", [(True, False), (False, True), (True, True)])
def test_linux_with_an_nvidia_gpu_gets_the_regular_wheel(smi, proc):
    decision = decide(smi=smi, proc=proc)
    assert decision.variant == "default" and decision.pip_args == ["torch==2.13.0"]


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
def test_other_systems_get_the_regular_wheel(system):
    decision = decide(system=system)
    assert decision.variant == "default" and decision.pip_args == ["torch==2.13.0"]


def test_override_cpu_everywhere():
    assert decide(system="Darwin", variant="cpu").variant == "cpu"
    assert decide(smi=True, variant="CPU").pip_args[-1] == "torch==2.13.0+cpu"


def test_override_default_on_linux_without_gpu():
    decision = decide(variant="default")
    assert decision.variant == "default" and decision.pip_args == ["torch==2.13.0"]


def test_empty_override_means_auto():
    assert decide(variant="").variant == "cpu" and decide(variant=None).variant == "cpu"


def test_unknown_override_is_refused():
    with pytest.raises(ValueError, match="TORCH_VARIANT"):
        decide(variant="rocm")


def test_cuda_override_outside_linux_is_refused():
    with pytest.raises(ValueError, match="CUDA"):
        decide(system="Windows", variant="cuda")


def test_configured_index_serving_a_cpu_build_is_used():
    """A mirror or local wheel that already serves 2.13.0+cpu: no PyTorch index needed (this kit's CI)."""
    decision = decide(offers=("2.13.0+cpu", CPU_REQUIRES))
    assert decision.action == "install" and decision.pip_args == ["torch==2.13.0+cpu"]


def test_configured_index_serving_the_cuda_build_is_not_used_for_cpu():
    assert decide(offers=("2.13.0", CUDA_REQUIRES)).pip_args[:2] == ["--index-url", select_torch.CPU_INDEX]


def test_configured_index_serving_another_version_is_not_used():
    assert decide(offers=("2.12.0+cpu", CPU_REQUIRES)).pip_args[:2] == ["--index-url", select_torch.CPU_INDEX]


def test_installed_cpu_build_of_the_pin_is_kept():
    decision = decide(installed=("2.13.0+cpu", CPU_REQUIRES))
    assert decision.action == "keep" and decision.pip_args == []


def test_installed_cuda_build_is_replaced_when_cpu_is_wanted():
    decision = decide(installed=("2.13.0", CUDA_REQUIRES))
    assert decision.action == "install" and decision.pip_args[-1] == "torch==2.13.0+cpu"


def test_installed_older_cpu_build_is_upgraded():
    assert decide(installed=("2.12.0+cpu", CPU_REQUIRES)).action == "install"


def test_default_keeps_any_installed_build_of_the_pin():
    assert decide(smi=True, installed=("2.13.0+cpu", CPU_REQUIRES)).action == "keep"
    assert decide(smi=True, installed=("2.13.0", CUDA_REQUIRES)).action == "keep"


def test_cuda_override_replaces_an_installed_cpu_build():
    decision = decide(variant="cuda", installed=("2.13.0+cpu", CPU_REQUIRES))
    assert decision.action == "install" and "--force-reinstall" in decision.pip_args
    assert decide(variant="cuda", installed=("2.13.0", CUDA_REQUIRES)).action == "keep"


@pytest.mark.parametrize("version, requires, system, cpu", [
    ("2.13.0+cpu", CPU_REQUIRES, "Linux", True),
    ("2.13.0+cu128", [], "Linux", False),
    ("2.13.0", CUDA_REQUIRES, "Linux", False),
    ("2.13.0", CPU_REQUIRES, "Darwin", True),
    ("2.13.0", CPU_REQUIRES, "Linux", True),  # e.g. a CPU wheel without a label: no CUDA libraries required
])
def test_is_cpu_build(version, requires, system, cpu):
    assert select_torch.is_cpu_build(version, requires, system) is cpu


def test_pin_is_read_from_requirements(tmp_path):
    assert select_torch.pinned_torch(ROOT / "requirements.txt") == PIN
    other = tmp_path / "requirements.txt"
    other.write_text("# a comment with torch==0.0\nnumpy==2\n  torch == 9.9.9  # pinned\n")
    assert select_torch.pinned_torch(other) == "9.9.9"


def test_command_line_dry_run_prints_the_decision():
    """The script on this interpreter (stdlib only, no pip run): TORCH_VARIANT=default keeps the installed torch."""
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "select_torch.py"), "--dry-run", "--variant",
                             "default", "--requirements", str(ROOT / "requirements.txt")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("torch (default -> default): "), result.stdout


def test_command_line_refuses_an_unknown_variant():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "select_torch.py"), "--variant", "tpu"],
                            capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "TORCH_VARIANT" in result.stderr
