"""helpers.speed: the opt-in thread settings change how fast a step runs, never what it computes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import speed

ROOT = Path(__file__).resolve().parent.parent

# A few KD training steps of a tiny BERT (dropout on), the kit's step: autocast forward, Objective loss,
# backward, clipping at 1.0, fused AdamW; at 1 and 2 threads, in fp32 and bf16. Prints
# {"<threads> <precision>": [losses]} as JSON.
_TINY_STEPS = r"""
import json
import torch
from transformers import BertConfig, BertForSequenceClassification
from helpers.losses import Objective
from helpers.precision import autocast

def losses_of(threads, precision):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=256, max_position_embeddings=32, num_labels=3)
    model = BertForSequenceClassification(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=True)
    objective = Objective("kd", 0.5, 2.0)
    losses = []
    for step in range(4):
        ids = torch.randint(1, 100, (16, 12))
        mask = torch.ones_like(ids); mask[:, 9:] = 0
        labels, teacher = torch.randint(0, 3, (16,)), torch.randn(16, 3)
        with autocast(precision):
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
        loss = objective.loss(logits, labels, teacher)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step(); optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses

print(json.dumps({f"{t} {p}": losses_of(t, p) for t in (1, 2) for p in ("fp32", "bf16")}))
"""


def _tiny_losses(wait_policy: str) -> dict[str, list[float]]:
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    environ["OMP_WAIT_POLICY"] = wait_policy
    environ["PYTHONPATH"] = str(ROOT) + os.pathsep + environ.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", "import helpers\n" + _TINY_STEPS], cwd=ROOT, env=environ,
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def passive() -> dict[str, list[float]]:
    return _tiny_losses("PASSIVE")


@pytest.fixture(scope="module")
def active() -> dict[str, list[float]]:
    return _tiny_losses("ACTIVE")


def test_prefer_passive_openmp_sets_the_wait_policy_unless_the_user_did():
    environ: dict[str, str] = {}
    speed.prefer_passive_openmp(environ)
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE"}
    mine = {"OMP_WAIT_POLICY": "ACTIVE"}
    speed.prefer_passive_openmp(mine)
    assert mine == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_prefer_passive_openmp_says_whether_it_is_in_time():
    # here torch is imported already: too late for this process (the value only reaches children)
    assert speed.prefer_passive_openmp({}) is False
    # importing helpers.speed does not import torch, so a fresh process is in time
    code = ("import sys, helpers.speed as s; in_time = s.prefer_passive_openmp(); "
            "print(in_time, 'torch' in sys.modules)")
    environ = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["True", "False"]


@pytest.mark.slow
def test_passive_waiting_gives_the_same_losses_exactly(passive, active):
    # the wait policy only decides whether idle threads spin or sleep: same arithmetic, same bits
    assert passive == active


def test_thread_count_changes_no_fp32_loss_beyond_rounding(passive):
    # threads split rows of a GEMM and chunks of a reduction: only the order of float32 additions can differ
    assert passive["1 fp32"] == pytest.approx(passive["2 fp32"], rel=1e-5, abs=1e-6)


def test_thread_count_changes_no_bf16_loss_beyond_bf16_rounding(passive):
    # bf16 autocast rounds each GEMM output to 8 significant bits, so a different summation order can move a
    # value by one bf16 ulp (2**-8 relative); over 4 steps the loss stays within 1% (the losses are ~1 nat)
    assert passive["1 bf16"] == pytest.approx(passive["2 bf16"], rel=1e-2)


def test_pick_threads_sets_one_of_the_tried_counts_and_restores():
    before = torch.get_num_threads()
    choice = speed.pick_threads(max_threads=2, rounds=1, tokens=64, hidden=32)
    try:
        assert choice.previous == before
        assert choice.threads in (1, 2)
        assert torch.get_num_threads() == choice.threads
        assert set(choice.seconds) == {1, 2} and all(0 < s < 60 for s in choice.seconds.values())
    finally:
        speed.restore_threads(choice)
    assert torch.get_num_threads() == before


def test_pick_threads_prefers_more_threads_on_a_tie(monkeypatch):
    ticks = iter(range(10_000))
    monkeypatch.setattr(speed.time, "perf_counter", lambda: float(next(ticks)))  # every probe takes "1 s"
    before = torch.get_num_threads()
    choice = speed.pick_threads(max_threads=2, rounds=2, tokens=8, hidden=8)
    speed.restore_threads(choice)
    assert choice.threads == 2
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kwargs", [{"max_threads": 0}, {"rounds": 0}])
def test_pick_threads_rejects_bad_arguments(kwargs):
    before = torch.get_num_threads()
    with pytest.raises(ValueError):
        speed.pick_threads(**kwargs)
    assert torch.get_num_threads() == before
