"""The training loop: determinism, the teacher's cached logits, the results cache."""

import pytest
import torch

from helpers.learning import cache
from helpers.infrastructure import precision
from helpers.learning import finetune as training
from helpers.learning.data import padding_collator
from helpers.learning.finetune import (
    TrainConfig,
    padded_batch,
    padded_columns,
    predict_logits,
    prepare_data,
    run,
    store,
    teacher_logits,
    train,
)

TINY = dict(task="trec", train_subset=96, eval_subset=48, max_length=24, batch_size=16, epochs=1, learning_rate=5e-4)


@pytest.fixture()
def isolated_runs(tmp_path, monkeypatch):
    """A private results cache for one test (assets stay in the shared cache)."""
    monkeypatch.setattr(cache, "runs_dir", lambda: tmp_path)
    return tmp_path


def test_same_seed_gives_identical_metrics_and_logits():
    config = TrainConfig(student="L1", **TINY)
    first, second = train(config, progress=False), train(config, progress=False)
    assert first.metrics == second.metrics
    assert torch.equal(first.test_logits, second.test_logits)


def test_other_seed_gives_other_logits():
    config = TrainConfig(student="L1", **TINY)
    assert not torch.equal(train(config, progress=False).test_logits,
                           train(config.replace(seed=1), progress=False).test_logits)


def test_cached_teacher_logits_equal_fresh_eval_forward_even_when_shuffled(isolated_runs):
    teacher = TrainConfig(student="L1", precision="fp32", **TINY)
    record, model = train(teacher, progress=False, return_model=True)
    store(record)
    cached = teacher_logits(teacher, progress=False)
    data, tokenizer, _ = prepare_data(teacher)
    shuffled = data["train"].shuffle(seed=123).select(range(40))
    model.train()  # predict_logits must switch to eval mode itself (dropout off)
    fresh = predict_logits(model, shuffled, tokenizer, batch_size=7, precision="fp32")
    assert model.training, "predict_logits restores the model's mode"
    torch.testing.assert_close(cached[torch.tensor(shuffled["idx"])], fresh, atol=1e-4, rtol=1e-4)


def test_kd_leaves_teacher_weights_and_logits_unchanged(isolated_runs):
    teacher = TrainConfig(student="L1", **TINY)
    record, model = train(teacher, progress=False, return_model=True)
    store(record)
    before_weights = {k: v.clone() for k, v in model.state_dict().items()}
    before_logits = teacher_logits(teacher, progress=False).clone()
    student = TrainConfig(student="L1", method="kd", alpha=0.7, temperature=2.0, teacher=teacher, seed=1, **TINY)
    kd_record = run(student, progress=False)
    assert kd_record.config.teacher == teacher
    assert all(torch.equal(before_weights[k], v) for k, v in model.state_dict().items())
    torch.testing.assert_close(teacher_logits(teacher, progress=False), before_logits, equal_nan=True)


@pytest.mark.slow
def test_kd_student_moves_towards_its_teacher_more_than_an_erm_student_does(isolated_runs):
    """With alpha=1 the only signal is the teacher: the KD student's predictions on held-out data (validation) end
    closer to the teacher's (KL(teacher || student), nats) than those of the ERM student of the same seed."""
    teacher = TrainConfig(student="L1", **{**TINY, "epochs": 2})
    teacher_log_p = torch.log_softmax(run(teacher, progress=False).logits["validation"], dim=1)
    erm = TrainConfig(student="L1", seed=3, **{**TINY, "epochs": 2})
    kd = erm.replace(method="kd", alpha=1.0, temperature=1.0, teacher=teacher)

    def kl_to_teacher(config):
        log_p = torch.log_softmax(run(config, progress=False).logits["validation"], dim=1)
        return float((teacher_log_p.exp() * (teacher_log_p - log_p)).sum(1).mean())

    assert kl_to_teacher(kd) < 0.5 * kl_to_teacher(erm)


@pytest.mark.slow
def test_ls_is_not_cross_entropy_and_the_teacher_logit_scale_is_used(isolated_runs):
    """Mutant-killers: an LS run must differ from (and be less confident than) ERM of the same seed; a KD
    student of a flattened teacher (logits x0.25) must end less confident than one of a sharpened teacher (x4)."""
    erm = TrainConfig(student="L1", precision="fp32", **{**TINY, "epochs": 4, "learning_rate": 3e-3})  # 24 steps: past uniform
    ls = erm.replace(method="ls", alpha=0.5)
    erm_record, ls_record = run(erm, progress=False), run(ls, progress=False)
    assert ls_record.metrics["entropy"] > erm_record.metrics["entropy"] + 0.01
    kd = erm.replace(method="kd", alpha=1.0, temperature=1.0, teacher=erm)
    flat, sharp = (run(kd.replace(teacher_logit_scale=scale), progress=False) for scale in (0.25, 4.0))
    assert flat.metrics["entropy"] > sharp.metrics["entropy"] + 0.01


def test_run_skips_finished_configs(isolated_runs, monkeypatch):
    config = TrainConfig(student="L1", **TINY)
    first = run(config, progress=False)
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("a cached run was retrained"))
    second = run(config, progress=False)
    assert second.metrics == pytest.approx(first.metrics)
    torch.testing.assert_close(second.test_logits, first.test_logits)
    assert second.config == config


def test_config_key_covers_every_field_and_the_teacher():
    base = TrainConfig(student="L1", **TINY)
    keys = {base.key(), base.replace(seed=1).key(), base.replace(alpha=0.1, method="ls").key(),
            base.replace(max_length=25).key(), base.replace(precision="fp32").key() if precision.bf16_supported() else "fp32"}
    assert len(keys) == 5
    kd = base.replace(method="kd", alpha=0.5, teacher=base)
    assert kd.key() != kd.replace(teacher=base.replace(epochs=2)).key()
    assert TrainConfig.from_dict(kd.to_dict()).key() == kd.key()


@pytest.mark.parametrize(
    "changes, match",
    [
        (dict(method="sgd"), "method"),
        (dict(method="ls", alpha=1.5), "alpha"),
        (dict(method="kd", alpha=0.5), "teacher"),
        (dict(method="erm", alpha=0.2), "alpha"),
        (dict(method="kd", alpha=0.5, temperature=0.0, teacher=TrainConfig()), "temperature"),
        (dict(epochs=0), "epochs"),
        (dict(precision="fp16"), "precision"),
        (dict(method="kd", alpha=0.5, teacher=TrainConfig(task="rotten_tomatoes")), "task"),
        (dict(epochs=float("inf")), "epochs"),
        (dict(batch_size=2.5), "batch_size"),
        (dict(train_subset=0), "train_subset"),
        (dict(train_subset=-5), "train_subset"),
        (dict(eval_subset=0), "eval_subset"),
        (dict(seed=-1), "seed"),
        (dict(student="L7"), "L7"),
        (dict(student="L0"), "L0"),
        (dict(method="ls", alpha="0.5"), "alpha"),
        (dict(method="ls", alpha=True), "alpha"),
        (dict(method="kd", alpha=0.5, temperature=1e30, teacher=TrainConfig()), "temperature"),
    ],
)
def test_bad_configs_raise_value_error(changes, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**changes)


def test_precision_switch(monkeypatch):
    monkeypatch.delenv("KDLS_PRECISION", raising=False)
    assert precision.resolve_precision("fp32") == "fp32"
    assert precision.resolve_precision("auto") == ("bf16" if precision.bf16_supported() else "fp32")
    monkeypatch.setenv("KDLS_PRECISION", "fp32")
    assert precision.resolve_precision() == "fp32" and precision.resolve_precision("bf16") == "bf16"
    base = TrainConfig(student="L1", **TINY)
    fp32_key = base.key()
    monkeypatch.setenv("KDLS_PRECISION", "bf16")
    assert base.key() != fp32_key  # the resolved precision is part of the run's identity
    monkeypatch.setenv("KDLS_PRECISION", "fast")
    with pytest.raises(ValueError, match="KDLS_PRECISION"):
        precision.resolve_precision()


def test_an_edited_csv_is_a_new_run(tmp_path):
    path = tmp_path / "task.csv"
    rows = [f"question number {i} about {'people' if i % 2 else 'places'},{'a' if i % 2 else 'b'}" for i in range(40)]
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    config = TrainConfig(task=str(path), student="L1", **{k: v for k, v in TINY.items() if k != "task"})
    before = config.key()
    path.write_text("text,label\n" + "\n".join(r.replace(",a", ",c") for r in rows) + "\n")  # same path, new labels
    assert config.key() != before


@pytest.mark.parametrize("method", ["erm", "kd"])
@pytest.mark.slow
def test_trimming_unused_embeddings_trains_the_same_model(isolated_runs, method):
    """Only the rows of tokens in the data ever get gradients; the rest only decay (AdamW)."""
    teacher = TrainConfig(student="L1", precision="fp32", **TINY)
    store(train(teacher, progress=False))
    config = teacher if method == "erm" else TrainConfig(student="L1", method="kd", alpha=0.5, temperature=2.0,
                                                         teacher=teacher, precision="fp32", seed=1, **TINY)
    config = config.replace(weight_decay=0.5)  # large, so that a wrong decay of the dropped rows would show
    trimmed, trimmed_model = train(config, progress=False, return_model=True)
    full, full_model = train(config, progress=False, return_model=True, trim_unused_embeddings=False)
    assert type(trimmed_model.get_input_embeddings()) is torch.nn.Embedding
    torch.testing.assert_close(trimmed.test_logits, full.test_logits, atol=1e-5, rtol=1e-5)
    assert trimmed.metrics == pytest.approx(full.metrics, abs=1e-5)
    for (name, a), (_, b) in zip(trimmed_model.state_dict().items(), full_model.state_dict().items()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)


def test_padded_batches_equal_the_dynamic_padding_collator():
    data, tokenizer, _ = prepare_data(TrainConfig(student="L1", **TINY))
    split = data["validation"]
    columns = padded_columns(split, tokenizer.pad_token_id)
    assert columns["input_ids"].shape == (len(split), max(split["length"]))
    rows = [5, 0, 17, 3, 40]
    batch = padded_batch(columns, rows)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    expected = padding_collator(tokenizer)([{k: split[i][k] for k in names + ["label"]} for i in rows])
    for name in names:
        assert torch.equal(batch[name], expected[name]), name
    assert torch.equal(batch["label"], expected["labels"])
    assert batch["idx"].tolist() == [split[i]["idx"] for i in rows]
    assert padded_columns(split.select([]), tokenizer.pad_token_id)["input_ids"].shape == (0, 0)


def test_a_record_stored_under_another_runs_key_is_refused_and_retrained(isolated_runs, monkeypatch, capsys):
    erm = TrainConfig(student="L1", **TINY)
    ls = erm.replace(method="ls", alpha=0.1)
    run(erm, progress=False)
    run(ls, progress=False)
    erm_file, ls_file = cache.run_path(erm.key()), cache.run_path(ls.key())
    erm_file.write_bytes(ls_file.read_bytes())  # a valid record, but of another run
    capsys.readouterr()
    trained = []
    real_train = training.train
    monkeypatch.setattr(training, "train", lambda config, **kw: trained.append(config) or real_train(config, **kw))
    again = run(erm, progress=False)
    assert trained == [erm] and again.config == erm
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(erm_file) in lines[0] and "retrained" in lines[0]
    assert training._record_from_cache(cache.load_run(erm.key())).config == erm  # the right record is back
    assert run(ls, progress=False).config == ls


def test_the_training_plan_counts_a_record_under_another_runs_key_as_missing(isolated_runs, capsys):
    """Notebook 05's plan of what a grid will train reads the cache through the same stored-config check as ``run``."""
    from helpers.learning.finetune import cached_run
    from helpers.reporting.overview import training_plan

    erm = TrainConfig(student="L1", **TINY)
    ls = erm.replace(method="ls", alpha=0.1)
    run(erm, progress=False)
    run(ls, progress=False)
    assert training_plan([erm, ls])["missing"] == []
    cache.run_path(erm.key()).write_bytes(cache.run_path(ls.key()).read_bytes())  # a valid record, but of another run
    capsys.readouterr()
    assert cached_run(erm) is None and cached_run(ls).config == ls
    assert training_plan([erm, ls])["missing"] == [erm]
    assert str(cache.run_path(erm.key())) in capsys.readouterr().err


def test_training_and_storing_happen_under_the_runs_lock(isolated_runs, monkeypatch):
    from filelock import FileLock, Timeout

    config = TrainConfig(student="L1", **TINY)
    seen = []

    def fake_train(config, **kwargs):
        with pytest.raises(Timeout):  # another process (another lock handle) cannot take it now
            FileLock(isolated_runs / f".{config.key()}.lock", timeout=0).acquire()
        seen.append(config)
        return real_train(config, **kwargs)

    real_train = training.train
    monkeypatch.setattr(training, "train", fake_train)
    run(config, progress=False)
    assert seen == [config]
    FileLock(isolated_runs / f".{config.key()}.lock", timeout=0).acquire()  # released afterwards


def test_a_second_process_waiting_on_the_lock_reads_the_cache_instead_of_training(isolated_runs, monkeypatch):
    config = TrainConfig(student="L1", **TINY)
    record = train(config, progress=False)
    real_lock = cache.run_lock

    def lock_that_finds_the_other_process_finished(key, timeout=-1):
        store(record)  # what the other process did while this one waited
        return real_lock(key, timeout)

    monkeypatch.setattr(cache, "run_lock", lock_that_finds_the_other_process_finished)
    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("trained although the run was stored meanwhile"))
    assert run(config, progress=False).config == config
