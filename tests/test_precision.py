"""helpers.infrastructure.precision: KDLS_PRECISION and a config's own precision decide; bad values are refused clearly."""

import warnings

import pytest
import torch

from helpers.infrastructure import precision


@pytest.fixture()
def machine(monkeypatch):
    """Pretend the CPU has (or lacks) native bf16."""
    def set_native(native: bool):
        monkeypatch.setattr(precision, "bf16_supported", lambda: native)
    return set_native


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("env, expected_auto", [(None, None), ("", None), ("auto", None), (" FP32 ", "fp32"),
                                                 ("bf16", "bf16")])
def test_auto_follows_the_environment_then_the_machine(monkeypatch, machine, native, env, expected_auto):
    machine(native)
    if env is None:
        monkeypatch.delenv(precision.PRECISION_ENV, raising=False)
    else:
        monkeypatch.setenv(precision.PRECISION_ENV, env)
    natural = "bf16" if native else "fp32"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert precision.resolve_precision("auto") == (expected_auto or natural)
        assert precision.resolve_precision() == (expected_auto or natural)
    assert precision.resolve_precision("fp32") == "fp32"  # an explicit choice beats the environment


@pytest.mark.parametrize("value", ["fp16", "BF-16", "1"])
def test_a_bad_environment_value_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv(precision.PRECISION_ENV, value)
    with pytest.raises(ValueError, match=f"KDLS_PRECISION must be one of auto, bf16, fp32, got '{value}'"):
        precision.resolve_precision()
    assert precision.resolve_precision("fp32") == "fp32"  # not read when the choice is explicit


@pytest.mark.parametrize("value", ["fp16", "", None, "FP32"])
def test_a_bad_argument_is_a_clear_error(value):
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve_precision(value)


def test_emulated_bf16_warns_once_per_process(monkeypatch, machine):
    machine(False)
    monkeypatch.setattr(precision, "_WARNED", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            assert precision.resolve_precision("bf16") == "bf16"
    assert len(caught) == 1 and "emulated" in str(caught[0].message)


def test_autocast_is_bf16_only_when_resolved_to_bf16(monkeypatch, machine):
    machine(True)
    monkeypatch.delenv(precision.PRECISION_ENV, raising=False)
    with precision.autocast("bf16"):
        assert torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    with precision.autocast("fp32"):
        assert not torch.is_autocast_enabled("cpu")
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
