"""helpers.infrastructure.flops: the counting convention, the JSON-lines tally file and its per-kind sums."""

import json

import pytest
import torch

from helpers.infrastructure import flops


def test_counts_follow_the_6nt_and_2nt_convention():
    assert flops.training_flops(1000, 7) == 42_000.0
    assert flops.forward_flops(1000, 7) == 14_000.0


def test_embedding_tables_are_not_counted():
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = torch.nn.Module()
            self.embeddings.word = torch.nn.Embedding(100, 4)  # 400, not counted
            self.layer = torch.nn.Linear(4, 3)  # 12 + 3

    assert flops.non_embedding_parameters(Tiny()) == 15


def test_record_appends_one_json_line_per_piece_and_read_tally_sums_per_kind(tmp_path, monkeypatch):
    target = tmp_path / "tally.jsonl"
    monkeypatch.setenv(flops.FLOPS_ENV, str(target))
    flops.record("finetune", 6e9, 2.0)
    flops.record("features", 1e9, 0.5)
    flops.record("finetune", 3e9, 1.0)
    lines = target.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"kind": "finetune", "flops": 6e9, "seconds": 2.0},
        {"kind": "features", "flops": 1e9, "seconds": 0.5},
        {"kind": "finetune", "flops": 3e9, "seconds": 1.0},
    ]
    target.write_text(target.read_text() + "\n")  # a blank line is skipped
    assert flops.read_tally(target) == {"finetune": (9e9, 3.0), "features": (1e9, 0.5)}


def test_nothing_is_written_without_the_variable_and_a_missing_file_sums_to_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(flops.FLOPS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    flops.record("finetune", 1.0, 1.0)
    assert list(tmp_path.iterdir()) == []
    assert flops.read_tally(tmp_path / "absent.jsonl") == {}


def test_the_unused_in_process_tally_is_gone():
    for name in ("tally", "reset_tally", "_TALLY"):
        assert not hasattr(flops, name)
    with pytest.raises(json.JSONDecodeError):
        bad = __import__("pathlib").Path(__file__).with_name("conftest.py")
        flops.read_tally(bad)  # not a tally file: an error, not a silent zero
