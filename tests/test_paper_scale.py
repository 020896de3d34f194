"""Tests of helpers.paper_scale: tasks, the command line, results.csv, and a 2-process (gloo) run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pandas as pd
import pytest
from safetensors.torch import load_file
from transformers import BertForSequenceClassification

from helpers import paper_scale
from helpers.assets import REPO_ROOT
from helpers.data import load_task
from helpers.experiments import RESULT_COLUMNS
from helpers.paper_scale import (
    append_results,
    check_model_source,
    glue_to_task,
    load_paper_task,
    main,
    make_tiny_offline_setup,
    per_device_batch_size,
)

METRICS = ["accuracy", "entropy", "max_prob", "nll", "ece"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny random BERTs without dropout (runs on 1 and 2 processes then take identical steps) and the CSVs."""
    return make_tiny_offline_setup(tmp_path_factory.mktemp("tiny"), rows_per_class=10, dropout=0.0)


def _cli(tiny, out: Path, *extra: str, task: Path | None = None) -> list[str]:
    return [
        "--task", str(task or tiny.pair_csv), "--student", str(tiny.student), "--out", str(out),
        "--epochs", "1", "--teacher-epochs", "1", "--batch-size", "8", "--max-length", "24", "--lr", "1e-3",
        "--train-subset", "32", "--quiet", *extra,
    ]


def _results(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "results.csv", keep_default_na=False)


# ---- tasks -----------------------------------------------------------------------------------------------


def _fake_glue(first: str, second: str | None, test_split: str, rows: int = 60) -> datasets.DatasetDict:
    def split(n, offset):
        columns = {first: [f"{first} {offset + i}" for i in range(n)], "label": [i % 3 for i in range(n)], "idx": list(range(n))}
        if second:
            columns[second] = [f"{second} {offset + i}" for i in range(n)]
        features = {name: datasets.Value("string") for name in columns if name not in ("label", "idx")}
        features |= {"label": datasets.ClassLabel(names=["a", "b", "c"]), "idx": datasets.Value("int32")}
        return datasets.Dataset.from_dict(columns, features=datasets.Features(features))

    return datasets.DatasetDict({"train": split(rows, 0), test_split: split(15, 1000), "test": split(9, 2000)})


def test_glue_single_sentences_become_text_label_idx():
    task = glue_to_task(_fake_glue("sentence", None, "validation"), "sst2")
    assert set(task) == {"train", "validation", "test"}
    for split in task.values():
        assert split.column_names == ["text", "label", "idx"]
        assert split["idx"] == list(range(len(split)))
    assert len(task["train"]) + len(task["validation"]) == 60
    assert len(task["validation"]) == 6  # 10% of train
    assert set(task["train"]["text"]).isdisjoint(task["validation"]["text"])
    assert task["test"]["text"][0] == "sentence 1000"  # GLUE's validation split, not its (unlabelled) test split


def test_glue_mnli_pairs_use_validation_matched_as_test():
    task = glue_to_task(_fake_glue("premise", "hypothesis", "validation_matched"), "mnli")
    assert task["train"].column_names == ["text", "text_pair", "label", "idx"]
    assert len(task["test"]) == 15
    row = task["test"][3]
    assert row["text"].split()[1] == row["text_pair"].split()[1]  # pairs stay together
    with pytest.raises(ValueError, match="GLUE task"):
        glue_to_task(_fake_glue("premise", "hypothesis", "validation_matched"), "cola")
    with pytest.raises(ValueError, match="column"):
        glue_to_task(_fake_glue("sentence", None, "validation_matched"), "mnli")


def test_glue_offline_fails_fast_with_a_clear_message(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'glue' on the Hub (OfflineModeIsEnabled)")

    monkeypatch.setattr(paper_scale.datasets, "load_dataset", offline)
    with pytest.raises(ValueError, match="KDLS_ALLOW_HUB=1"):
        load_paper_task("qnli")


def test_a_pair_csv_is_split_like_a_single_text_csv(tiny, tmp_path):
    pairs = load_paper_task(tiny.pair_csv)
    frame = pd.read_csv(tiny.pair_csv)
    single = tmp_path / "single.csv"
    frame[["text", "label"]].to_csv(single, index=False)
    reference = load_task(single)
    original = set(zip(frame["text"], frame["text_pair"], frame["label"]))
    for name in ("train", "validation", "test"):
        split = pairs[name]
        assert split.column_names == ["text", "text_pair", "label", "idx"]
        assert split["text"] == reference[name]["text"]  # the same stratified split
        assert split["label"] == reference[name]["label"]
        names = split.features["label"].names
        assert {(t, p, names[y]) for t, p, y in zip(split["text"], split["text_pair"], split["label"])} <= original


def test_unknown_tasks_and_empty_texts_are_refused(tiny, tmp_path):
    with pytest.raises(ValueError, match="unknown task"):
        load_paper_task("cola")
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(tiny.pair_csv)
    frame.loc[3, "text_pair"] = " "
    frame.to_csv(bad, index=False)
    with pytest.raises(ValueError, match="empty text_pair"):
        load_paper_task(bad)


# ---- models and arguments ----------------------------------------------------------------------------


def test_model_sources_are_checked_before_any_work(tiny, tmp_path, monkeypatch):
    check_model_source(str(tiny.student), "student")  # a local folder is fine
    with pytest.raises(ValueError, match="no config.json"):
        check_model_source(str(tmp_path), "student")
    with pytest.raises(ValueError, match="no such folder"):
        check_model_source(str(tmp_path / "missing"), "teacher")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match=r"teacher='no-such-org/no-such-model'.*offline.*KDLS_ALLOW_HUB=1"):
        check_model_source("no-such-org/no-such-model", "teacher")


def test_the_global_batch_is_split_over_processes_and_accumulation():
    assert per_device_batch_size(32, 1, 1) == 32
    assert per_device_batch_size(32, 2, 4) == 4
    with pytest.raises(ValueError, match="batch_size=30"):
        per_device_batch_size(30, 1, 4)


@pytest.mark.parametrize(
    "extra,match",
    [
        (["--method", "kd"], "exactly one of --teacher"),
        (["--method", "ls", "--alpha", "1.5"], "alpha"),
        (["--method", "erm", "--alpha", "0.2"], "alpha must be 0"),
        (["--method", "kd", "--teacher", "x", "--temperature", "0"], "temperature"),
        (["--batch-size", "0"], "batch_size"),
        (["--batch-size", "6", "--grad-accum", "4"], "divisible"),
        (["--epochs", "-1"], "epochs"),
        (["--method", "ls", "--precompute-teacher-logits"], "precompute"),
    ],
)
def test_bad_command_lines_exit_with_a_clear_message(tiny, tmp_path, capsys, extra, match):
    with pytest.raises(SystemExit) as exit_info:
        main(_cli(tiny, tmp_path / "out", *extra))
    assert exit_info.value.code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.csv").exists()


def test_an_offline_hub_name_fails_fast(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SystemExit):
        main(_cli(tiny, tmp_path / "out", "--method", "kd", "--teacher", "no-such-org/bert-huge"))
    assert "KDLS_ALLOW_HUB=1" in capsys.readouterr().err


# ---- results.csv --------------------------------------------------------------------------------------


def test_append_results_keeps_the_schema_and_refuses_foreign_files(tmp_path):
    row = dict.fromkeys(RESULT_COLUMNS, 0) | {"task": "t", "method": "erm", "teacher": "", "temperature": ""}
    append_results([row], tmp_path)
    append_results([row | {"method": "ls"}], tmp_path)
    frame = _results(tmp_path)
    assert list(frame.columns) == RESULT_COLUMNS
    assert frame["method"].tolist() == ["erm", "ls"]
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="schema"):
        append_results([row], tmp_path)


# ---- end to end (a few seconds each) -------------------------------------------------------------------------


def test_the_command_line_trains_teacher_and_students_and_writes_results(tiny, tmp_path):
    out = tmp_path / "out"
    assert main(_cli(tiny, out, "--method", "kd", "--teacher", str(tiny.teacher), "--alpha", "0.5", "--temperature", "2")) == 0
    frame = _results(out)
    assert list(frame.columns) == RESULT_COLUMNS
    assert frame[["student", "teacher", "method"]].values.tolist() == [
        ["tiny-teacher", "", "erm"], ["tiny-student", "tiny-teacher", "kd"]
    ]
    assert frame["task"].unique().tolist() == ["tiny_trec_pairs"]
    assert float(frame.loc[1, "temperature"]) == 2.0 and float(frame.loc[1, "alpha"]) == 0.5
    for name in METRICS:
        assert frame[name].between(0, 10).all()
    assert frame["accuracy"].between(0, 1).all()
    teachers = list((out / "teachers").iterdir())
    assert len(teachers) == 1 and (teachers[0] / "config.json").is_file()
    (run_folder,) = (out / "runs").iterdir()
    tensors = load_file(run_folder / "predictions.safetensors")
    assert tensors["logits/test"].shape == (len(tensors["labels/test"]), 2)

    # a second run reuses the fine-tuned teacher (no new teacher row) and appends its own row
    assert main(_cli(tiny, out, "--method", "kd", "--teacher", str(tiny.teacher), "--seed", "1")) == 0
    frame = _results(out)
    assert frame[["student", "method", "seed"]].values.tolist() == [
        ["tiny-teacher", "erm", 0], ["tiny-student", "kd", 0], ["tiny-student", "kd", 1]
    ]
    assert len(list((out / "teachers").iterdir())) == 1

    # the fine-tuned teacher as a checkpoint, its logits precomputed: the same student as with the live teacher
    checkpoint = teachers[0]
    assert main(_cli(tiny, out, "--method", "kd", "--teacher-checkpoint", str(checkpoint), "--alpha", "0.5",
                     "--temperature", "2", "--precompute-teacher-logits")) == 0
    frame = _results(out)
    live, precomputed = frame.iloc[1], frame.iloc[-1]
    assert precomputed["teacher"] == checkpoint.name
    for name in METRICS:
        assert precomputed[name] == pytest.approx(live[name], abs=1e-5)


def test_single_sentence_csv_runs_too(tiny, tmp_path):
    out = tmp_path / "out"
    assert main(_cli(tiny, out, "--method", "ls", "--alpha", "0.2", task=tiny.csv)) == 0
    frame = _results(out)
    assert frame[["task", "method", "teacher"]].values.tolist() == [["tiny_trec", "ls", ""]]
    assert float(frame.loc[0, "alpha"]) == 0.2 and frame.loc[0, "temperature"] == ""


def test_a_checkpoint_with_the_wrong_number_of_labels_is_refused(tiny, tmp_path, capsys):
    checkpoint = tmp_path / "six-class-teacher"
    BertForSequenceClassification.from_pretrained(tiny.teacher, num_labels=6).save_pretrained(checkpoint)
    with pytest.raises(SystemExit):
        main(_cli(tiny, tmp_path / "out", "--method", "kd", "--teacher-checkpoint", str(checkpoint)))  # 2-class task
    assert "has 6 labels but the task has 2" in capsys.readouterr().err


def test_tiny_setup_files(tiny):
    frame = pd.read_csv(tiny.csv)
    assert list(frame.columns) == ["text", "label"] and frame["label"].value_counts().eq(10).all()
    pairs = pd.read_csv(tiny.pair_csv)
    assert list(pairs.columns) == ["text", "text_pair", "label"]
    assert set(pairs["label"]) == {"same", "different"}
    with pytest.raises(ValueError, match="rows_per_class"):
        make_tiny_offline_setup(tiny.csv.parent / "x", rows_per_class=2)


# ---- two processes --------------------------------------------------------------------------------------


def test_two_processes_match_one_process(tiny, tmp_path):
    """``torchrun --nproc_per_node 2`` (gloo on CPU): same global batch, same sampler order, gathered eval."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun is not installed next to this Python")
    extra = ["--method", "kd", "--teacher", str(tiny.teacher), "--alpha", "0.5", "--temperature", "2"]
    assert main(_cli(tiny, tmp_path / "one", *extra)) == 0
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    command = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "helpers.paper_scale",
               *_cli(tiny, tmp_path / "two", *extra)]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    one, two = _results(tmp_path / "one"), _results(tmp_path / "two")
    assert len(two) == len(one) == 2  # one row each for teacher and student: written by the main process only
    (record,) = (tmp_path / "two" / "runs").glob("*/metrics.json")
    assert json.loads(record.read_text())["processes"] == 2
    difference = (one[METRICS] - two[METRICS]).abs().max()
    print("max |1 process - 2 processes| per metric:", difference.to_dict())
    assert (difference < 1e-4).all(), difference.to_dict()
