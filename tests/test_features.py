"""The frozen-feature tier: feature extraction, the head config, the head training loop."""

import contextlib

import pandas as pd
import pytest
import torch

from helpers.learning import features, frozen_features
from helpers.maths.losses import cross_entropy_loss, distillation_loss, label_smoothing_loss
from helpers.learning.results import RESULT_COLUMNS
from helpers.learning.frozen_features import encode_features, toy_feature_set
from helpers.learning.features import (
    HeadConfig,
    VirtualTeacher,
    build_head,
    head_inputs,
    head_teacher_logits,
    penultimate,
    run_head,
    run_heads,
    train_head,
    virtual_teacher_logits,
)
from helpers.maths.metrics import entropy, summarize

TOY = toy_feature_set(num_classes=3, per_class=60, dim=16, seed=0)
FAST = dict(hidden=16, epochs=15, batch_size=32, learning_rate=5e-3)


def test_toy_feature_set_shapes():
    assert TOY.sizes() == {"train": 180, "validation": 90, "test": 90}
    assert TOY.layer("test", 6).shape == (90, 16) and TOY.num_classes == 3 and TOY.num_layers == 7
    with pytest.raises(ValueError, match="layer"):
        TOY.layer("test", 7)
    with pytest.raises(ValueError, match="split"):
        TOY.layer("dev", 1)


def test_virtual_teacher_puts_a_on_the_label_and_shares_the_rest():
    probs = virtual_teacher_logits(torch.tensor([0, 2]), 4, a=0.9).softmax(-1)
    expected = torch.tensor([[0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3], [0.1 / 3, 0.1 / 3, 0.9, 0.1 / 3]])
    torch.testing.assert_close(probs, expected)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="a must be"):
            VirtualTeacher(bad)
    with pytest.raises(ValueError, match="labels must lie"):
        virtual_teacher_logits(torch.tensor([4]), 4)


@pytest.mark.parametrize("changes, message", [
    (dict(layer=7), "layer"), (dict(hidden=-1), "hidden"), (dict(method="mixup"), "method"),
    (dict(alpha=0.1), "alpha must be 0"), (dict(method="kd"), "needs a teacher"),
    (dict(teacher=VirtualTeacher()), "only used with method='kd'"), (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"), (dict(learning_rate=-1.0), "learning_rate"),
    (dict(method="kd", teacher="L6"), "HeadConfig or a VirtualTeacher"), (dict(train_subset=0), "train_subset"),
    (dict(method="ls", alpha=1.5), "alpha"),
])
def test_head_config_rejects_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        HeadConfig(**changes)


def test_labels_name_the_teacher_and_how_it_differs():
    teacher = HeadConfig(layer=6, epochs=40)
    student = HeadConfig(layer=2, epochs=3)
    assert student.replace(method="kd", alpha=0.5, teacher=teacher).teacher_label() == "L6 (40 epochs)"
    assert student.replace(method="kd", alpha=0.5, teacher=teacher.replace(method="ls", alpha=0.3),
                           teacher_logit_scale=2.0).teacher_label() == "L6 (LS α=0.3, 40 epochs, logits ×2)"
    assert student.replace(method="kd", alpha=0.5, teacher=student).teacher_label() == "L2 (3 epochs)"
    assert student.replace(method="kd", alpha=0.5, teacher=VirtualTeacher(0.99)).teacher_label() == "virtual (a=0.99)"
    assert student.label() == "L2 ERM"
    assert student.replace(method="kd", alpha=0.5, temperature=4, teacher=teacher).label() == "L2 KD α=0.5 τ=4 ← L6 (40 epochs)"


def test_a_head_is_seeded():
    a, b, c = (build_head(HeadConfig(seed=s, hidden=8), 16, 3) for s in (0, 0, 1))
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)
    assert len(build_head(HeadConfig(hidden=0), 16, 3)) == 1


def test_head_inputs_are_standardised_on_the_training_split():
    inputs = head_inputs(HeadConfig(layer=3, train_subset=50), TOY)
    assert inputs["train"].shape == (50, 16)
    torch.testing.assert_close(inputs["train"].mean(0), torch.zeros(16), atol=1e-5, rtol=0)
    torch.testing.assert_close(inputs["train"].std(0), torch.ones(16), atol=1e-5, rtol=0)
    raw = TOY.layer("train", 3)[:50]
    torch.testing.assert_close(inputs["test"], (TOY.layer("test", 3) - raw.mean(0)) / raw.std(0))


def test_erm_head_learns_the_toy_task_and_is_reproducible():
    config = HeadConfig(layer=6, **FAST)
    record = train_head(config, TOY)
    assert record.metrics["accuracy"] > 0.8
    again = train_head(config, TOY)
    torch.testing.assert_close(record.logits["test"], again.logits["test"])
    other = train_head(config.replace(seed=1), TOY)
    assert not torch.allclose(record.logits["test"], other.logits["test"])
    row = record.row()
    assert list(row) == RESULT_COLUMNS and row["student"] == "L6" and row["teacher"] == "" and row["temperature"] == ""
    assert row["tier"] == "features" and row["role"] == "student"


def test_label_smoothing_raises_entropy_and_the_loss_is_the_kits():
    erm = train_head(HeadConfig(layer=6, **FAST), TOY)
    ls = train_head(HeadConfig(layer=6, method="ls", alpha=0.3, **FAST), TOY)
    assert ls.metrics["entropy"] > erm.metrics["entropy"] + 0.1


@pytest.mark.parametrize("method, alpha, scale", [("erm", 0.0, 1.0), ("ls", 0.3, 1.0), ("kd", 0.7, 1.0), ("kd", 0.7, 3.0)])
def test_one_training_step_is_one_adamw_step_on_the_kits_loss(method, alpha, scale):
    """Full batch, one epoch = one step: the trained head equals a hand-made AdamW step on helpers.maths.losses'
    loss (so neither a wrong loss branch nor a dropped teacher-logit scale can pass)."""
    teacher = VirtualTeacher(0.9) if method == "kd" else None
    config = HeadConfig(layer=1, hidden=8, method=method, alpha=alpha, temperature=3.0, teacher=teacher,
                        teacher_logit_scale=scale, epochs=1, batch_size=None)
    _, trained = train_head(config, TOY, return_model=True)
    x, y = head_inputs(config, TOY)["train"], TOY.labels["train"]
    head = build_head(config, x.shape[1], TOY.num_classes)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    logits = head(x)
    if method == "erm":
        loss = cross_entropy_loss(logits, y)
    elif method == "ls":
        loss = label_smoothing_loss(logits, y, alpha)
    else:
        loss = distillation_loss(logits, virtual_teacher_logits(y, TOY.num_classes, 0.9) * scale, y, alpha, 3.0)
    loss.backward()
    optimizer.step()
    for (name, got), expected in zip(trained.named_parameters(), head.parameters()):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6, msg=name)


def test_kd_from_a_soft_virtual_teacher_raises_entropy_and_a_scaled_teacher_sharpens_it():
    base = HeadConfig(layer=6, **FAST)
    erm = train_head(base, TOY).metrics["entropy"]
    soft = train_head(base.replace(method="kd", alpha=0.9, teacher=VirtualTeacher(0.6)), TOY).metrics["entropy"]
    assert soft > erm + 0.1
    teacher = HeadConfig(layer=6, **FAST)
    logits = head_teacher_logits(base.replace(method="kd", alpha=0.5, teacher=teacher, teacher_logit_scale=0.5), TOY)
    torch.testing.assert_close(logits, run_head(teacher, TOY).logits["train"] * 0.5)
    assert entropy(logits).mean() > entropy(logits * 4).mean()


def test_run_head_trains_each_config_once(monkeypatch):
    features.clear_head_cache()
    config = HeadConfig(layer=2, hidden=4, epochs=1)
    first = run_head(config, TOY)
    monkeypatch.setattr(features, "_train_stack", lambda *a, **k: pytest.fail("retrained a cached head"))
    assert run_head(config, TOY) is first
    assert run_heads([config, config], TOY) == [first, first]
    assert features.clear_head_cache() >= 1


@contextlib.contextmanager
def torch_threads(count: int):
    """torch's intra-op threads set to ``count`` inside the block (restored after)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _alone(config: HeadConfig, data) -> dict[str, torch.Tensor]:
    """Logits per split of one head trained the plain way: its module, AdamW, the kit's loss, shuffled minibatches."""
    x = head_inputs(config, data)
    y = data.labels["train"][: config.train_subset]
    soft = head_teacher_logits(config, data) if config.method == "kd" else None
    head = build_head(config, x["train"].shape[1], data.num_classes)
    optimizer = torch.optim.AdamW(head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    n = x["train"].shape[0]
    batch = n if config.batch_size is None else min(config.batch_size, n)
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            loss = config.objective.loss(head(x["train"][rows]), y[rows], None if soft is None else soft[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        return {split: head(x[split]) for split in x}


@pytest.mark.parametrize("threads", [1, 2])
def test_heads_trained_together_end_as_each_alone(threads):
    """One stack mixes seeds, methods, α, τ, teachers (a head, a scaled head, a virtual one) and a batch size that
    does not divide the split; another width and another layer form stacks of their own. With two threads the first
    group is split into two stacks that train side by side."""
    teacher = HeadConfig(layer=6, hidden=8, epochs=4, batch_size=50)
    base = HeadConfig(layer=3, hidden=12, epochs=3, batch_size=50, learning_rate=3e-3)
    configs = [base, base.replace(seed=1), base.replace(method="ls", alpha=0.2, seed=2),
               base.replace(method="kd", alpha=0.5, temperature=4.0, teacher=teacher),
               base.replace(method="kd", alpha=0.5, temperature=4.0, teacher=teacher, seed=3),
               base.replace(method="kd", alpha=0.9, temperature=2.0, teacher=teacher, teacher_logit_scale=0.5),
               base.replace(method="kd", alpha=0.7, temperature=1.0, teacher=VirtualTeacher(0.8)),
               base.replace(hidden=0), base.replace(layer=5, seed=4)]
    with torch_threads(threads):
        records = features.train_heads(configs, TOY)
    assert [r.config for r in records] == configs
    for config, record in zip(configs, records):
        alone = _alone(config, TOY)
        for split, logits in alone.items():
            torch.testing.assert_close(record.logits[split], logits, rtol=0, atol=1e-5, msg=f"{config.label()} {split}")
        for name, value in summarize(alone["test"], TOY.labels["test"]).items():
            assert abs(record.metrics[name] - value) <= 1e-5, (config.label(), name)
    assert features.train_head(configs[3], TOY).metrics == pytest.approx(records[3].metrics, abs=1e-5)


def test_run_heads_trains_only_what_is_missing_and_keeps_one_record_per_head(monkeypatch):
    features.clear_head_cache()
    teacher = HeadConfig(layer=6, hidden=4, epochs=2)
    base = HeadConfig(layer=2, hidden=4, epochs=1)
    kd = [base.replace(method="kd", alpha=0.5, teacher=teacher, seed=s) for s in range(3)]
    cached = run_head(base, TOY)
    stacks = []
    real = features._train_stack
    monkeypatch.setattr(features, "_train_stack", lambda stack: stacks.append(stack.configs) or real(stack))
    with torch_threads(1):
        records = run_heads([base, *kd, kd[0]], TOY, progress=False)
    assert stacks == [[teacher], kd]  # the teacher first, then the missing students in one stack; base was cached
    assert records[0] is cached and records[1] is records[4] and [r.config for r in records[1:4]] == kd
    for config, record in zip(kd, records[1:4]):
        assert features._HEAD_CACHE[(TOY.key, config)] is record and run_head(config, TOY) is record
    features.clear_head_cache()


def test_penultimate_is_the_hidden_layer_and_logits_follow_from_it():
    config = HeadConfig(layer=6, hidden=8, epochs=2)
    record, head = train_head(config, TOY, return_model=True)
    x = head_inputs(config, TOY)["test"]
    hidden = penultimate(head, x)
    assert hidden.shape == (90, 8)
    torch.testing.assert_close(hidden @ head[-1].weight.T + head[-1].bias, record.logits["test"])
    linear = build_head(HeadConfig(hidden=0), 16, 3)
    torch.testing.assert_close(penultimate(linear, x), x)


def test_train_head_rejects_non_feature_sets():
    with pytest.raises(ValueError, match="FeatureSet"):
        train_head(HeadConfig(), {"train": torch.zeros(3, 7, 4)})


def test_encode_features_mean_pools_every_layer_and_caches_them(tmp_path, monkeypatch):
    rows = [(f"{word} sentence number {i} about {word}s", word) for i in range(10) for word in ("cat", "dog")]
    path = tmp_path / "pets.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    monkeypatch.setattr(frozen_features, "features_dir", lambda: tmp_path)
    data = encode_features(str(path), max_length=16, precision="fp32", progress=False)
    assert data.task == "pets" and data.label_names == ("cat", "dog")
    assert data.features["train"].shape == (len(data.labels["train"]), 7, 384)

    # independent check: a plain forward pass of the encoder, masked mean of the last layer
    from helpers.learning.data import load_task
    from helpers.learning.models import build_model, load_tokenizer

    encoder = build_model("L6", num_labels=2).base_model.eval()
    tokenizer = load_tokenizer()
    text = load_task(str(path))["test"]["text"][0]
    batch = tokenizer([text], truncation=True, max_length=16, return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(**batch, output_hidden_states=True).hidden_states
    for layer in (0, 2, 6):
        expected = hidden[layer][0].mean(0)
        torch.testing.assert_close(data.features["test"][0, layer], expected, atol=2e-2, rtol=1e-2)  # stored as float16

    monkeypatch.setattr(frozen_features, "build_model", lambda *a, **k: pytest.fail("cached features were recomputed"))
    monkeypatch.setattr(frozen_features, "load_task", lambda *a, **k: pytest.fail("cached features loaded the texts"))
    again = encode_features(str(path), max_length=16, precision="fp32", progress=False)
    assert again.key == data.key and torch.equal(again.features["test"], data.features["test"])
    assert again.label_names == ("cat", "dog") and torch.equal(again.labels["test"], data.labels["test"])


def test_encode_features_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_length"):
        encode_features("trec", max_length=1)
    with pytest.raises(ValueError, match="unknown task"):
        encode_features("no_such_task")


def test_the_in_memory_head_cache_is_bounded_and_drops_the_least_recently_used(monkeypatch):
    assert features.HEAD_CACHE_SIZE == 512
    features.clear_head_cache()
    monkeypatch.setattr(features, "HEAD_CACHE_SIZE", 3)
    configs = [HeadConfig(layer=2, hidden=0, epochs=1, seed=seed) for seed in range(5)]
    first = run_head(configs[0], TOY)
    for config in configs[1:3]:
        run_head(config, TOY)
    assert run_head(configs[0], TOY) is first  # used again: now the most recent
    for config in configs[3:]:
        run_head(config, TOY)
    assert len(features._HEAD_CACHE) == 3
    assert (TOY.key, configs[0]) in features._HEAD_CACHE and (TOY.key, configs[1]) not in features._HEAD_CACHE
    features.clear_head_cache()


def _pets_csv(folder):
    rows = [(f"{word} sentence number {i} about {word}s", word) for i in range(10) for word in ("cat", "dog")]
    path = folder / "pets.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


def test_a_feature_record_of_other_settings_is_refused_and_encoded_again(tmp_path, monkeypatch, capsys):
    path = _pets_csv(tmp_path)
    monkeypatch.setattr(frozen_features, "features_dir", lambda: tmp_path)
    short = encode_features(str(path), max_length=8, precision="fp32", progress=False)
    long = encode_features(str(path), max_length=16, precision="fp32", progress=False)
    short_file, long_file = tmp_path / f"{short.key}.safetensors", tmp_path / f"{long.key}.safetensors"
    short_file.write_bytes(long_file.read_bytes())  # a valid record, but of other settings
    capsys.readouterr()
    again = encode_features(str(path), max_length=8, precision="fp32", progress=False)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(short_file) in lines[0]
    torch.testing.assert_close(again.features["test"], short.features["test"])


def test_encoding_and_storing_features_happen_under_a_lock(tmp_path, monkeypatch):
    from filelock import FileLock, Timeout

    path = _pets_csv(tmp_path)
    monkeypatch.setattr(frozen_features, "features_dir", lambda: tmp_path)
    real_encode, held = frozen_features._encode, []

    def encode(*args, **kwargs):
        (lock,) = tmp_path.glob(".*.lock")
        with pytest.raises(Timeout):
            FileLock(lock, timeout=0).acquire()
        held.append(lock)
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(frozen_features, "_encode", encode)
    encode_features(str(path), max_length=8, precision="fp32", progress=False)
    assert len(held) == 1
