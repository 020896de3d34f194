"""bench/training_throughput.py: argument handling, FLOP counting and the summary table (no timing)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from helpers.infrastructure import flops

BENCH = Path(__file__).resolve().parent.parent / "bench" / "training_throughput.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("training_throughput", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(params=["bf16", "fp32"])
def natural(request, bench, monkeypatch):
    """Pretend this machine's natural precision is bf16 or fp32."""
    monkeypatch.setattr(bench, "natural_precision", lambda: request.param)
    return request.param


def test_default_is_the_natural_precision(bench, natural):
    assert bench.parse_args([]).precisions == [natural]
    assert bench.parse_args(["--precision", "auto"]).precisions == [natural]


def test_both_measures_fp32_and_bf16_with_the_natural_one_last(bench, natural):
    precisions = bench.parse_args(["--precision", "both"]).precisions
    assert sorted(precisions) == ["bf16", "fp32"]
    assert precisions[-1] == natural  # the script's last line is the natural precision's speedup


def test_native_adds_fp32_only_where_bf16_is_natural(bench, natural):
    assert bench.parse_args(["--precision", "native"]).precisions == (["fp32", "bf16"] if natural == "bf16" else ["fp32"])


def test_two_values_are_measured_in_the_given_order_once_each(bench, natural):
    assert bench.parse_args(["--precision", "bf16", "fp32"]).precisions == ["bf16", "fp32"]
    assert bench.parse_args(["--precision", "fp32", "fp32", "auto"]).precisions == list(dict.fromkeys(["fp32", natural]))


def test_repeats_steps_and_threads(bench, natural):
    args = bench.parse_args(["--repeats", "3", "--steps", "7", "--threads", "1"])
    assert (args.repeats, args.steps, args.threads) == (3, 7, 1)
    assert bench.parse_args([]).steps == bench.STEPS


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--steps", "0"], ["--threads", "0"], ["--precision", "fp16"],
                                  ["--precision"]])
def test_bad_arguments_are_refused(bench, argv):
    with pytest.raises(SystemExit) as error:
        bench.parse_args(argv)
    assert error.value.code == 2


def test_precisions_to_measure_refuses_unknown_values(bench):
    with pytest.raises(ValueError, match="precision must be one of"):
        bench.precisions_to_measure(["fp16"])


def test_flops_per_example_follow_helpers_flops(bench):
    counted = bench.flops_per_example(n_student=3_000_000, n_teacher=10_000_000, tokens=13.5)
    assert counted["kit"] == flops.training_flops(3_000_000, 13.5) == 6 * 3_000_000 * 13.5
    assert counted["trainer"] == counted["kit"] + flops.forward_flops(10_000_000, 13.5)
    assert counted["trainer"] == counted["kit"] + 2 * 10_000_000 * 13.5


def test_mfu_is_achieved_over_peak(bench):
    assert bench.mfu(100.0, 3e8, 1.2e11) == pytest.approx(0.25)


def test_table_has_one_row_per_precision_and_the_ratio(bench):
    fp32 = bench.Measurement("fp32", {"kit": [100.0, 120.0], "trainer": [40.0, 30.0]}, peak=2e11)
    bf16 = bench.Measurement("bf16", {"kit": [200.0], "trainer": [50.0]}, peak=4e11)
    table = bench.format_table([fp32, bf16], {"kit": 3e8, "trainer": 6e8}).splitlines()
    assert [cell.strip() for cell in table[0].split("|")] == [
        "precision", "kit ex/s", "Trainer ex/s", "ratio", "kit MFU", "Trainer MFU", "peak GFLOP/s"]
    assert len(table) == 4
    assert [cell.strip() for cell in table[2].split("|")] == ["fp32", "120.0", "40.0", "3.00", "18.0%", "12.0%", "200.0"]
    assert [cell.strip() for cell in table[3].split("|")] == ["bf16", "200.0", "50.0", "4.00", "15.0%", "7.5%", "400.0"]
