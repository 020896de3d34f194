"""Tests of the paper-scale path (helpers.experiments.paper_scale, ``python -m helpers.experiments.paper_scale``): tasks, the generated
command line, results.csv rows checked against their saved logits, the teacher cache, notebook 10's
temporary workspace, and a 2-process (gloo) run."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import nbformat
import pandas as pd
import pytest
import torch
from paper_fixtures import cli, numpy_metrics, tiny  # noqa: F401  (tiny is a fixture)
from safetensors.torch import load_file
from transformers import BertForSequenceClassification, DataCollatorWithPadding

import helpers.maths.losses
from helpers.learning import cache
from helpers.infrastructure.assets import REPO_ROOT
from helpers.learning.data import load_task
from helpers.maths.losses import Objective
from helpers.learning.models import load_tokenizer
from helpers.experiments.paper_scale import glue_data as paper_data
from helpers.experiments.paper_scale.cli import build_parser, parse_config
from helpers.experiments.paper_scale.config import PaperScaleConfig, per_device_batch_size
from helpers.experiments.paper_scale.glue_data import glue_to_task, load_paper_task, tokenize_task_pairs
from helpers.experiments.paper_scale.demo import WORKSPACE_PREFIX, demo_workspace, make_tiny_offline_setup
from helpers.experiments.paper_scale.run import teacher_folder
from helpers.experiments.paper_scale.sources import check_model_source
from helpers.experiments.paper_scale.cli import main
from helpers.learning.results import RESULT_COLUMNS, read_results

METRICS = ["accuracy", "entropy", "max_prob", "nll", "ece"]
NOTEBOOK = REPO_ROOT / "notebooks" / "10_paper_scale.ipynb"


def _results(out: Path) -> pd.DataFrame:
    return read_results(out / "results.csv")


@pytest.fixture()
def alpha_checks(monkeypatch) -> list[float]:
    """Every call of ``helpers.maths.losses.validate_alpha`` (made by each ``Objective`` built) is recorded here."""
    calls: list[float] = []
    original = helpers.maths.losses.validate_alpha

    def counting(alpha):
        calls.append(alpha)
        return original(alpha)

    monkeypatch.setattr(helpers.maths.losses, "validate_alpha", counting)
    return calls


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

    monkeypatch.setattr(paper_data.datasets, "load_dataset", offline)
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


# ---- models, configuration and the command line ----------------------------------------------------------


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


def test_the_config_builds_and_validates_one_objective(alpha_checks):
    config = PaperScaleConfig(task="sst2", student="s", out="o", method="ls")
    assert alpha_checks == [0.1]  # once
    assert config.objective == Objective("ls", 0.1, 1.0)  # LS's default alpha
    assert config.alpha == 0.1 and config.out == Path("o")
    kd = PaperScaleConfig(task="sst2", student="s", out="o", method="kd", teacher="t", temperature=4)
    assert kd.objective == Objective("kd", 0.5, 4.0) and kd.uses_teacher
    assert not PaperScaleConfig(task="sst2", student="s", out="o").uses_teacher


def test_the_command_line_is_generated_from_the_config():
    """One option per config field, with the field's default and help: nothing is written twice."""
    parser = build_parser()
    actions = {action.dest: action for action in parser._actions if action.dest != "help"}
    fields = [f for f in dataclasses.fields(PaperScaleConfig) if f.init]
    assert set(actions) == {f.name for f in fields}
    for field in fields:
        action = actions[field.name]
        assert f"--{field.name.replace('_', '-')}" in action.option_strings
        assert action.help == field.metadata["help"]
        if field.default is dataclasses.MISSING:
            assert action.required, field.name
        else:
            assert action.default == field.default, field.name
    assert parse_config(["--task", "sst2", "--student", "s", "--out", "o"]) == PaperScaleConfig(task="sst2", student="s", out="o")
    flags = parse_config(["--task", "sst2", "--student", "s", "--out", "o", "--method", "kd", "--teacher", "t", "--bf16",
                          "--quiet", "--precompute-teacher-logits", "--train-subset", "5", "--alpha", "0.25"])
    assert flags.bf16 and flags.quiet and flags.precompute_teacher_logits
    assert (flags.train_subset, flags.alpha, flags.teacher, flags.out) == (5, 0.25, "t", Path("o"))
    assert "--teacher-epochs" in parser.format_help() and "(default: 3.0)" in parser.format_help()


@pytest.mark.parametrize(
    "extra,match",
    [
        (["--method", "kd"], "exactly one of --teacher"),
        (["--method", "xx"], "invalid choice"),
        (["--method", "ls", "--alpha", "1.5"], "alpha"),
        (["--method", "ls", "--alpha", "nan"], "alpha"),
        (["--method", "erm", "--alpha", "0.2"], "alpha must be 0"),
        (["--method", "kd", "--teacher", "x", "--temperature", "0"], "temperature"),
        (["--batch-size", "0"], "batch_size"),
        (["--batch-size", "6", "--grad-accum", "4"], "divisible"),
        (["--epochs", "-1"], "epochs"),
        (["--method", "ls", "--precompute-teacher-logits"], "precompute"),
        (["--no-such-option", "1"], "unrecognized arguments"),
    ],
)
def test_bad_command_lines_exit_with_a_clear_message(tiny, tmp_path, capsys, extra, match):
    with pytest.raises(SystemExit) as exit_info:
        main(cli(tiny, tmp_path / "out", *extra))
    assert exit_info.value.code == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.csv").exists()


def test_an_offline_hub_name_fails_fast(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SystemExit):
        main(cli(tiny, tmp_path / "out", "--method", "kd", "--teacher", "no-such-org/bert-huge"))
    assert "KDLS_ALLOW_HUB=1" in capsys.readouterr().err


def test_the_teacher_folder_changes_with_the_kits_cache_version_and_the_teachers_budget(tiny, tmp_path, monkeypatch):
    def config(**changes):
        values = dict(task=str(tiny.pair_csv), student=str(tiny.student), out=tmp_path, method="kd", teacher=str(tiny.teacher))
        return PaperScaleConfig(**(values | changes))

    folder = teacher_folder(config())
    assert folder.parent == tmp_path / "teachers" and folder.name.startswith("tiny_trec_pairs-tiny-teacher-")
    assert teacher_folder(config(seed=3, alpha=0.9)) == folder  # the student's settings do not matter
    assert teacher_folder(config(teacher_epochs=2)) != folder
    monkeypatch.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION + 1)
    assert teacher_folder(config()) != folder


@pytest.mark.parametrize("module", ["helpers.learning.hf_trainer", "helpers.maths.losses"])
def test_the_teacher_folder_changes_when_the_code_that_trains_it_changes(tiny, tmp_path, monkeypatch, module):
    """An edited Trainer or loss is a new teacher folder: a cached teacher of other code is never reused."""
    config = PaperScaleConfig(task=str(tiny.pair_csv), student=str(tiny.student), out=tmp_path, method="kd",
                              teacher=str(tiny.teacher))
    before = teacher_folder(config)
    original = cache._module_source
    monkeypatch.setattr(cache, "_module_source",
                        lambda name: original(name) + ("\n_EDITED = True\n" if name == module else ""))
    assert teacher_folder(config) != before


# ---- end to end (a few seconds each) -------------------------------------------------------------------------


def _teacher_test_metrics(teacher: Path, task_csv: Path, max_length: int) -> dict[str, float]:
    """The saved teacher's test-split metrics, recomputed outside the Trainer (one batch, numpy metrics)."""
    model = BertForSequenceClassification.from_pretrained(teacher).eval()
    test = tokenize_task_pairs(load_paper_task(task_csv), load_tokenizer(teacher), max_length)["test"]
    batch = DataCollatorWithPadding(load_tokenizer(teacher))([test[i] for i in range(len(test))])
    with torch.no_grad():
        logits = model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    return numpy_metrics(logits, batch["labels"])


@pytest.mark.slow
def test_the_command_line_trains_teacher_and_students_and_writes_results(tiny, tmp_path, alpha_checks):
    out = tmp_path / "out"
    assert main(cli(tiny, out, "--method", "kd", "--teacher", str(tiny.teacher), "--alpha", "0.5", "--temperature", "2")) == 0
    assert alpha_checks == [0.5]  # the run's objective is validated once, by the config
    frame = _results(out)
    assert list(frame.columns) == RESULT_COLUMNS
    assert frame[["tier", "role", "student", "teacher", "method", "seed"]].values.tolist() == [
        ["paper", "teacher", "tiny-teacher", "", "erm", 0], ["paper", "student", "tiny-student", "tiny-teacher (1 epoch)", "kd", 0]
    ]
    assert frame["task"].unique().tolist() == ["tiny_trec_pairs"]
    assert (frame.loc[1, "alpha"], frame.loc[1, "temperature"]) == (0.5, 2.0)
    assert (frame.loc[0, "alpha"], frame.loc[0, "temperature"]) == (0.0, "")

    # the student's row holds the metrics of its saved test logits, recomputed independently
    (run_folder,) = (out / "runs").iterdir()
    tensors = load_file(run_folder / "predictions.safetensors")
    task = load_paper_task(tiny.pair_csv)
    assert tensors["labels/test"].tolist() == task["test"]["label"]  # gathered in the split's order
    assert tensors["logits/test"].shape == (len(task["test"]), 2)
    expected = numpy_metrics(tensors["logits/test"], tensors["labels/test"])
    assert frame.loc[1, METRICS].to_dict() == pytest.approx(expected, abs=1e-5)
    record = json.loads((run_folder / "metrics.json").read_text())
    assert record["metrics"]["validation"] == pytest.approx(
        numpy_metrics(tensors["logits/validation"], tensors["labels/validation"]), abs=1e-5)
    assert record["config"]["objective"] == {"method": "kd", "alpha": 0.5, "temperature": 2.0}

    # the teacher: saved once, its record carries the kit's cache version, its row is its own test metrics
    (teacher,) = (out / "teachers").iterdir()
    assert json.loads((teacher / "teacher_run.json").read_text())["version"] == cache.CACHE_VERSION
    assert frame.loc[0, METRICS].to_dict() == pytest.approx(_teacher_test_metrics(teacher, tiny.pair_csv, 24), abs=1e-4)

    # a second run reuses the fine-tuned teacher (no new teacher row) and appends its own row
    assert main(cli(tiny, out, "--method", "kd", "--teacher", str(tiny.teacher), "--seed", "1")) == 0
    frame = _results(out)
    assert frame[["role", "method", "seed"]].values.tolist() == [["teacher", "erm", 0], ["student", "kd", 0], ["student", "kd", 1]]
    assert len(list((out / "teachers").iterdir())) == 1

    # the fine-tuned teacher as a checkpoint, its logits precomputed: the same student as with the live teacher
    assert main(cli(tiny, out, "--method", "kd", "--teacher-checkpoint", str(teacher), "--alpha", "0.5",
                    "--temperature", "2", "--precompute-teacher-logits")) == 0
    frame = _results(out)
    live, precomputed = frame.iloc[1], frame.iloc[-1]
    assert precomputed["teacher"] == teacher.name
    for name in METRICS:
        assert precomputed[name] == pytest.approx(live[name], abs=1e-5)


def test_single_sentence_csv_runs_too(tiny, tmp_path):
    out = tmp_path / "out"
    assert main(cli(tiny, out, "--method", "ls", "--alpha", "0.2", task=tiny.csv)) == 0
    frame = _results(out)
    assert frame[["tier", "task", "role", "method", "teacher"]].values.tolist() == [["paper", "tiny_trec", "student", "ls", ""]]
    assert frame.loc[0, "alpha"] == 0.2 and frame.loc[0, "temperature"] == ""
    (run_folder,) = (out / "runs").iterdir()
    tensors = load_file(run_folder / "predictions.safetensors")
    assert tensors["logits/test"].shape[1] == 6
    assert frame.loc[0, METRICS].to_dict() == pytest.approx(numpy_metrics(tensors["logits/test"], tensors["labels/test"]), abs=1e-5)


def test_a_checkpoint_with_the_wrong_number_of_labels_is_refused(tiny, tmp_path, capsys):
    checkpoint = tmp_path / "six-class-teacher"
    BertForSequenceClassification.from_pretrained(tiny.teacher, num_labels=6).save_pretrained(checkpoint)
    with pytest.raises(SystemExit):
        main(cli(tiny, tmp_path / "out", "--method", "kd", "--teacher-checkpoint", str(checkpoint)))  # 2-class task
    assert "has 6 labels but the task has 2" in capsys.readouterr().err


# ---- notebook 10's offline demo ---------------------------------------------------------------------------


def test_tiny_setup_files(tiny):
    frame = pd.read_csv(tiny.csv)
    assert list(frame.columns) == ["text", "label"] and frame["label"].value_counts().eq(10).all()
    pairs = pd.read_csv(tiny.pair_csv)
    assert list(pairs.columns) == ["text", "text_pair", "label"]
    assert set(pairs["label"]) == {"same", "different"}
    same = pd.read_csv(tiny.csv).set_index("text")["label"]
    assert ((same[pairs["text"]].to_numpy() == same[pairs["text_pair"]].to_numpy())
            == (pairs["label"] == "same").to_numpy()).all()  # the pair label is "same coarse class"
    with pytest.raises(ValueError, match="rows_per_class"):
        make_tiny_offline_setup(tiny.csv.parent / "x", rows_per_class=2)


def test_the_demo_workspace_removes_its_folder(tmp_path):
    workspace = demo_workspace(parent=tmp_path)
    assert workspace.folder.parent == tmp_path and workspace.tiny.pair_csv.is_file() and workspace.out.parent == workspace.folder
    workspace.cleanup()
    assert not workspace.folder.exists() and workspace.removed
    workspace.cleanup()  # twice is fine
    with demo_workspace(parent=tmp_path) as workspace:
        assert (workspace.tiny.student / "config.json").is_file()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_notebook_10s_workspace_is_gone_when_its_python_process_ends(tmp_path):
    """The notebook's own set-up cell, run in a fresh Python with its own temporary folder: nothing stays behind."""
    (setup,) = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells
                if cell.cell_type == "code" and "demo_workspace(" in cell.source]
    imports = "import helpers\nimport pandas as pd\nfrom helpers.experiments.paper_scale.demo import demo_workspace\n"  # as the notebook's
    code = imports + setup + "\nassert tiny.pair_csv.is_file() and (tiny.teacher / 'config.json').is_file()\nprint(workspace.folder)\n"
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = os.environ | {"TMPDIR": str(temporary), "PYTHONPATH": str(REPO_ROOT), "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=NOTEBOOK.parent, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = Path(done.stdout.strip().splitlines()[-1])
    assert folder.parent == temporary and folder.name.startswith(WORKSPACE_PREFIX)  # it was made in the temporary folder...
    assert not folder.exists() and list(temporary.iterdir()) == []  # ...and removed when the process ended


# ---- two processes --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_match_one_process(tiny, tmp_path):
    """``torchrun --nproc_per_node 2`` (gloo on CPU): same global batch, same sampler order, gathered eval."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun is not installed next to this Python")
    extra = ["--method", "kd", "--teacher", str(tiny.teacher), "--alpha", "0.5", "--temperature", "2"]
    assert main(cli(tiny, tmp_path / "one", *extra)) == 0
    env = os.environ | {"PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    command = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "helpers.experiments.paper_scale",
               *cli(tiny, tmp_path / "two", *extra)]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    one, two = _results(tmp_path / "one"), _results(tmp_path / "two")
    assert len(two) == len(one) == 2  # one row each for teacher and student: written by the main process only
    (record,) = (tmp_path / "two" / "runs").glob("*/metrics.json")
    assert json.loads(record.read_text())["processes"] == 2
    difference = (one[METRICS] - two[METRICS]).abs().max()
    print("max |1 process - 2 processes| per metric:", difference.to_dict())
    assert (difference < 1e-4).all(), difference.to_dict()
