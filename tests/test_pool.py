"""Pooled class runs: shares of a grid, hand-ins, the pool command and the class result the notebooks show."""

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pandas as pd
import pytest
import torch

from helpers.experiments import cli, handin as handin_module, pool
from helpers.experiments.grid import feature_grid, main_grid, teacher_configs
from helpers.experiments.handin import HandInError, read_handin, write_handin
from helpers.experiments.pooled import (class_beside, class_comparison, class_inheritance, class_summary,
                                        expectations_from_rows, load_class)
from helpers.experiments.presets import FeatureTier, get_preset
from helpers.experiments.shares import Share, class_seeds, share_preset
from helpers.experiments.sweeps import finetune_inheritance_frame, kd_expectations
from helpers.learning import cache
from helpers.learning.frozen_features import toy_feature_set
from helpers.learning.features import run_head
from helpers.learning.finetune import RunRecord
from helpers.learning.results import IDENTITY_COLUMNS, RESULT_COLUMNS, read_results, results_frame, write_results
from helpers.maths.metrics import summarize
from helpers.reporting.findings import statistics_primer
from helpers.reporting.verdicts import main_table, verdict_table

ROOT = Path(__file__).resolve().parents[1]
CLASS_SIZE = 30
pytestmark = pytest.mark.usefixtures("single_torch_thread")  # tiny tensors: one thread (see conftest.py)


# ----------------------------------------------------------------------------- shares


@pytest.mark.parametrize("text, message", [("0/3", "K must lie in 1..3"), ("4/3", "K must lie in 1..3"),
                                           ("x", "K/N with whole numbers"), ("3/0", "at least one share"),
                                           ("1/2/3", "K/N with whole numbers"), ("-1/3", "K/N with whole numbers")])
def test_a_bad_share_is_refused_in_one_line(text, message):
    with pytest.raises(ValueError, match=message) as error:
        Share.parse(text)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7])
def test_the_shares_split_the_class_seeds_exactly_once(count):
    everyone = class_seeds((0, 1, 2, 3, 4), count)
    parts = [Share(k, count).seeds(everyone) for k in range(1, count + 1)]
    assert sorted(seed for part in parts for seed in part) == sorted(everyone) and all(parts)
    assert class_seeds((0, 1), 30) == tuple(range(30))  # a class wider than the preset widens it
    assert class_seeds((3, 7), 4, given=False) == (3, 7, 0, 1)


def test_more_shares_than_given_seeds_is_refused():
    with pytest.raises(ValueError, match=r"30 shares but only 5 seeds .*--seeds 0-29"):
        share_preset(get_preset("smoke").replace(seeds=(0, 1, 2, 3, 4)), "2/30", seeds_given=True)


# ----------------------------------------------------------------------------- records without training


def fake_record(config) -> RunRecord:
    """A real ``RunRecord`` of ``config`` with logits drawn from a generator seeded by the run (no training)."""
    generator = torch.Generator().manual_seed(zlib.crc32(f"{config.label()}|{config.seed}".encode()))
    sharpness = {"erm": 2.0, "ls": 0.8, "kd": 2.5}[config.method] + float(torch.rand(1, generator=generator))
    logits, labels, indices = {}, {}, {}
    for split, size in (("train", 36), ("validation", 18), ("test", 18)):
        labels[split] = torch.arange(size) % 6
        logits[split] = sharpness * torch.randn(size, 6, generator=generator) + 2.0 * torch.nn.functional.one_hot(labels[split], 6)
        indices[split] = torch.arange(size)
    return RunRecord(config=config, metrics=summarize(logits["test"], labels["test"]),
                     validation_metrics=summarize(logits["validation"], labels["validation"]),
                     timings={"train_seconds": 0.0}, logits=logits, labels=labels, indices=indices,
                     info={"precision": "fp32"})


def _hand_in(folder: Path, share: str | None, seeds=None) -> list[RunRecord]:
    preset = get_preset("smoke") if seeds is None else get_preset("smoke").replace(seeds=seeds)
    preset = share_preset(preset, share)
    records = [fake_record(config) for config in main_grid("trec", preset)]
    write_handin(records, folder, teachers=teacher_configs("trec", preset), preset=preset, share=share)
    return records


def _sorted(frame: pd.DataFrame, columns=IDENTITY_COLUMNS) -> pd.DataFrame:
    keyed = frame.assign(**{f"_{c}": frame[c].astype(str) for c in columns})
    return keyed.sort_values([f"_{c}" for c in columns]).drop(columns=[f"_{c}" for c in columns]).reset_index(drop=True)


@pytest.fixture(scope="module")
def simulated_class(tmp_path_factory, single_torch_thread):
    """30 shares of the smoke grid widened to 30 seeds; some handed in twice, one from other code, one edited, one
    empty; pooled with the command line. Also the one-process run of the same seeds, for comparison."""
    root = tmp_path_factory.mktemp("class")
    submissions = []
    for k in range(1, CLASS_SIZE + 1):
        _hand_in(root / f"share{k}", f"{k}/{CLASS_SIZE}")
        submissions.append(root / f"share{k}")
    shutil.copytree(root / "share3", root / "share3_again")  # the same hand-in twice, from two folders
    submissions += [root / "share3_again", root / "share5" / "handin.json"]  # and one named twice
    original = cache.code_fingerprint
    try:  # one student ran another version of the kit
        cache.code_fingerprint = lambda *names: "0" * 20
        _hand_in(root / "other_code", f"7/{CLASS_SIZE}")
    finally:
        cache.code_fingerprint = original
    submissions.append(root / "other_code")
    edited = json.loads((root / "share9" / "handin.json").read_text())
    edited["runs"][-1]["row"]["entropy"] += 0.1
    (root / "edited").mkdir()
    (root / "edited" / "handin.json").write_text(json.dumps(edited))
    (root / "empty").mkdir()
    (root / "empty" / "handin.json").write_text("")
    submissions += [root / "edited", root / "empty"]

    whole = get_preset("smoke").replace(seeds=tuple(range(CLASS_SIZE)))
    records = [fake_record(config) for config in main_grid("trec", whole)]
    one = read_results(write_results(results_frame(records, teachers=teacher_configs("trec", whole)), root / "one"))
    return root, submissions, records, one


def test_a_class_of_thirty_pools_to_the_one_process_table(simulated_class, capsys):
    root, submissions, records, one = simulated_class
    out = root / "pooled"
    code = pool.main([*map(str, submissions), "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 2  # two submissions refused; the rest is pooled and written
    refused = [line for line in printed.err.splitlines() if "refused" in line]
    assert len(refused) == 2 and "edited" in refused[0] and "checksum" in refused[0] and "is empty" in refused[1]
    klass = load_class(out)
    assert klass.seeds == list(range(CLASS_SIZE))
    pooled = klass.results[RESULT_COLUMNS]
    pd.testing.assert_frame_equal(_sorted(pooled), _sorted(one[RESULT_COLUMNS]))
    students = one[one["role"] == "student"].reset_index(drop=True)
    table, verdicts, _ = class_summary(klass, "finetune")
    pd.testing.assert_frame_equal(table, main_table(students))
    pd.testing.assert_frame_equal(verdicts, verdict_table(students, kd_expectations(records)))
    assert (verdicts["n"] == CLASS_SIZE).all()
    provenance = json.loads((out / "pool.json").read_text())
    per_share = len(read_handin(root / "share3").runs)  # two whole hand-ins again, and the 4 teachers in every share
    assert provenance["duplicates"] == 2 * per_share + 4 * (CLASS_SIZE - 1) and provenance["disagreeing_duplicates"] == 0
    assert [g["differs_in"] for g in provenance["set_aside"]] == [["code"]]
    aside = Path(provenance["set_aside"][0]["folder"])
    assert read_results(aside / "results.csv")["seed"].max() == 6 and "set aside (other code)" in printed.out
    assert {p.name for p in (out / "figures").iterdir()} == {"differences_finetune.png", "inheritance_trec_tau1.png",
                                                             "inheritance_trec_tau4.png"}
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {"results.csv", "expectations.csv", "inheritance.csv", "verdicts.md",
                                               "pool.json", "figures", "set_aside"}
    assert "n = 30 students each" in (out / "verdicts.md").read_text()


def test_pooled_expectations_and_inheritance_equal_the_records(simulated_class):
    root, _, records, one = simulated_class
    klass = load_class(root / "pooled") if (root / "pooled").is_dir() else None
    if klass is None:
        pool.main([str(root / f"share{k}") for k in range(1, CLASS_SIZE + 1)] + ["--out", str(root / "pooled")])
        klass = load_class(root / "pooled")
    keys = ["tier", "task", "student", "teacher"]
    pd.testing.assert_frame_equal(_sorted(klass.expectations, keys), _sorted(kd_expectations(records), keys),
                                  check_dtype=False)  # read back from expectations.csv
    assert {(task, tau) for task, tau, _, _ in klass.inheritance_cases()} == {("trec", 1.0), ("trec", 4.0)}
    for tau in (1.0, 4.0):
        mine = klass.inheritance[klass.inheritance["inheritance_temperature"] == tau]
        theirs = finetune_inheritance_frame(records, temperature=tau)
        columns = [c for c in theirs.columns if c != "train_seconds"]
        pd.testing.assert_frame_equal(_sorted(mine[columns], ["point", "seed"]), _sorted(theirs[columns], ["point", "seed"]),
                                      check_dtype=False)


def test_feature_tier_hand_ins_pool_their_expectations(tmp_path):
    data = toy_feature_set(per_class=12, dim=8)
    tier = FeatureTier(hidden=8, teacher_epochs=3, student_epochs=1, student_layers=(1, 2), seeds=(0, 1, 2),
                       kd_temperatures=(1.0, 4.0))
    preset = get_preset("smoke").replace(features=tier)
    grid = feature_grid(preset)
    records = [run_head(config, data) for config in grid]
    halves = [[r for r in records if r.config.seed in part or r.config == grid[0]] for part in ((0,), (1, 2))]
    for number, half in enumerate(halves):  # two hand-ins: each has the ERM baseline of its own seeds only
        write_handin(half, tmp_path / f"part{number}", teachers=(grid[0],), preset=preset)
    handins = [read_handin(tmp_path / f"part{number}") for number in (0, 1)]
    results = pd.DataFrame([{**run["row"], "validation_entropy": run["validation_entropy"]}
                            for run in {run["key"]: run for handin in handins for run in handin.runs}.values()])
    shares = pd.concat([handin.expectations for handin in handins], ignore_index=True)
    keys = ["tier", "task", "student", "teacher"]
    pd.testing.assert_frame_equal(_sorted(expectations_from_rows(results.sort_values("seed", kind="stable"), shares), keys),
                                  _sorted(kd_expectations(records), keys))


# ----------------------------------------------------------------------------- the hand-in file


def test_a_hand_in_refuses_damage_and_edits(tmp_path):
    _hand_in(tmp_path / "a", "1/2")
    path = tmp_path / "a" / "handin.json"
    assert read_handin(tmp_path / "a").shares == ["1/2"] and read_handin(path).seeds == [0]
    text = path.read_text()
    cases = {"truncated": text[: len(text) // 2], "edited": text.replace('"seed": 0', '"seed": 7', 1),
             "foreign": json.dumps({"format": "something else"}), "future": None}
    future = json.loads(text)
    future["version"] = 99
    cases["future"] = json.dumps(future)
    reasons = {}
    for name, content in cases.items():
        (tmp_path / name).write_text(content)
        with pytest.raises(HandInError) as error:
            read_handin(tmp_path / name)
        reasons[name] = str(error.value)
    assert "not JSON" in reasons["truncated"] and "checksum" in reasons["edited"]
    assert "not a hand-in" in reasons["foreign"] and "version 99" in reasons["future"]
    with pytest.raises(HandInError, match="does not exist"):
        read_handin(tmp_path / "missing")
    (tmp_path / "no_handin").mkdir()
    with pytest.raises(HandInError, match="has no handin.json"):
        read_handin(tmp_path / "no_handin")


def test_two_commands_into_one_folder_add_up_and_other_code_replaces(tmp_path, monkeypatch, capsys):
    _hand_in(tmp_path, "1/2")
    _hand_in(tmp_path, "2/2")
    merged = read_handin(tmp_path)
    assert merged.shares == ["1/2", "2/2"] and merged.seeds == [0, 1]
    assert len(merged.runs) == len({run["key"] for run in merged.runs}) == len(main_grid("trec", get_preset("smoke")))
    monkeypatch.setattr(cache, "code_fingerprint", lambda *names: "1" * 20)
    _hand_in(tmp_path, "1/2")
    assert read_handin(tmp_path).seeds == [0] and "another code" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the command lines


@pytest.fixture()
def no_training(monkeypatch, tmp_path):
    calls = []

    def fake_run_grid(configs, progress=True):
        calls.append(list(configs))
        return [fake_record(config) for config in configs]

    monkeypatch.setattr(cli, "run_grid", fake_run_grid)
    monkeypatch.setenv("KDLS_COMPUTED_DIR", str(tmp_path / "computed"))
    return calls


@pytest.mark.parametrize("arguments, message", [
    (["--share", "0/3"], "K must lie in 1..3"), (["--share", "4/3"], "K must lie in 1..3"),
    (["--share", "x"], "K/N with whole numbers"), (["--share", "2/3", "--seeds", "0,1"], "3 shares but only 2 seeds"),
])
def test_bad_shares_stop_the_command_before_training(no_training, tmp_path, capsys, arguments, message):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--preset", "smoke", "--out", str(tmp_path / "out"), "--quiet", *arguments])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert stop.value.code == 2 and no_training == [] and message in error, error


def test_a_share_trains_its_seeds_with_the_teachers_and_hands_in(no_training, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["--preset", "smoke", "--share", "2/3", "--out", str(out), "--quiet"]) == 0
    grid = no_training[0]
    teachers = teacher_configs("trec", get_preset("smoke"))
    assert grid[: len(teachers)] == teachers and {c.seed for c in grid[len(teachers):]} == {1}
    assert "share 2/3 of the class: seed 1 of the class's 3 (0–2)" in capsys.readouterr().err
    handin = read_handin(out)
    assert handin.shares == ["2/3"] and handin.seeds == [1] and len(handin.runs) == len(grid)
    assert handin.commands == ["python -m helpers.experiments --task trec --out " + str(out)
                               + " --preset smoke --share 2/3"]
    assert len(read_results(out / "results.csv")) == len(grid)


def test_the_pool_refuses_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        pool.main(["--out", str(tmp_path / "class")])
    assert stop.value.code == 2
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "handin.json").write_text("")
    assert pool.main([str(tmp_path / "empty"), "--out", str(tmp_path / "class")]) == 2
    assert "no submission holds any run" in capsys.readouterr().err
    (tmp_path / "file.csv").write_text("x")
    with pytest.raises(SystemExit):
        pool.main([str(tmp_path / "empty"), "--out", str(tmp_path / "file.csv")])


# ----------------------------------------------------------------------------- the notebooks' view


def test_the_notebooks_show_the_class_beside_the_students_run(simulated_class, close_figures):
    root, _, records, one = simulated_class
    if not (root / "pooled").is_dir():
        pool.main([str(root / f"share{k}") for k in range(1, CLASS_SIZE + 1)] + ["--out", str(root / "pooled")])
    assert load_class(None) is None and load_class("") is None
    with pytest.raises(ValueError, match="holds no class result"):
        load_class(root / "share1")
    klass = load_class(root / "pooled" / "results.csv")
    mine = one[(one["role"] == "student") & one["seed"].isin([0, 1])]
    my_verdicts = verdict_table(mine)
    fig = class_beside(my_verdicts, klass, label="your run (share 1/15)")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("your run (share 1/15)") and titles[1].startswith("class (30 seeds)")
    table = class_comparison(my_verdicts, klass)
    assert len(table) == len(my_verdicts) and table["class: Δ entropy"].str.endswith("(n=30)").all()
    assert table["yours: Δ entropy"].str.endswith("(n=2)").all()
    fig, text = class_inheritance(klass, "trec", 4.0)
    assert fig is not None and "class result" in text and "30 seeds" in fig.axes[0].get_title()
    assert klass.caption().startswith("32 hand-ins, 30 seeds, 244 runs, preset `smoke`")
    assert "there is no interval" in statistics_primer(n=1)  # notebook 06's primer for a share of one seed


# ----------------------------------------------------------------------------- a real class of two


def _run(arguments: list[str], computed: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "KDLS_COMPUTED_DIR": str(computed), "KDLS_PRECISION": "fp32"}
    done = subprocess.run([sys.executable, "-m", *arguments], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.slow  # trains the smoke grid three times in subprocesses
def test_two_real_shares_pool_to_the_one_process_run(tmp_path):
    common = ["--preset", "smoke", "--temperature", "4", "--quiet"]
    for k in (1, 2):  # each share on its own machine: its own cache, its own teachers
        _run(["helpers.experiments", *common, "--share", f"{k}/2", "--out", str(tmp_path / f"share{k}")],
             tmp_path / f"computed{k}")
    _run(["helpers.experiments.pool", str(tmp_path / "share1"), str(tmp_path / "share2"), "--out",
          str(tmp_path / "class")], tmp_path / "computed1")
    _run(["helpers.experiments", *common, "--out", str(tmp_path / "one")], tmp_path / "computed1")
    provenance = json.loads((tmp_path / "class" / "pool.json").read_text())
    assert not provenance["set_aside"], f"a share was set aside (was the kit's code edited during the test?): {provenance}"
    pooled, one = read_results(tmp_path / "class" / "results.csv"), read_results(tmp_path / "one" / "results.csv")
    columns = [c for c in RESULT_COLUMNS if c != "train_seconds"]
    assert set(pooled["seed"]) == {0, 1}
    pd.testing.assert_frame_equal(_sorted(pooled[columns]), _sorted(one[columns]))


def test_notebook_06_hands_in_both_tiers_of_its_share(tmp_path, monkeypatch):
    from helpers.experiments.handin import hand_in

    data = toy_feature_set(per_class=12, dim=8)
    preset = share_preset(get_preset("smoke").replace(features=FeatureTier(hidden=8, teacher_epochs=2, student_epochs=1,
                                                                            student_layers=(1,), seeds=(0, 1))), "2/2")
    fine_tuned = [fake_record(config) for config in main_grid("trec", preset)]
    heads = [run_head(config, data) for config in feature_grid(preset)]
    assert hand_in(fine_tuned + heads, preset, None) is None
    monkeypatch.chdir(tmp_path)
    path = hand_in(fine_tuned + heads, preset, "2/2")
    assert path == Path("share_2_of_2") / "handin.json"
    handin = read_handin(path)
    rows = pd.DataFrame([run["row"] for run in handin.runs])
    teachers = rows[rows["role"] == "teacher"]
    assert handin.shares == ["2/2"] and handin.seeds == [1] and set(rows["tier"]) == {"finetune", "features"}
    assert len(teachers) == len(teacher_configs("trec", preset)) + 1 and "L6" in set(teachers["student"])
