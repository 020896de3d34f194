"""Tests of helpers.learning.hf_trainer: the kit's losses inside transformers.Trainer (offline, CPU, tiny models)."""

from __future__ import annotations

import math

import datasets
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from paper_fixtures import numpy_metrics
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DataCollatorWithPadding,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    EvalPrediction,
    TrainingArguments,
)

from helpers.maths.losses import Objective, distillation_loss
from helpers.learning.models import load_tokenizer
from helpers.learning.hf_trainer import TEACHER_LOGITS_COLUMN, DistillationTrainer, compute_metrics, forward_argument_names

NUM_LABELS = 3


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer()


def _bert(tokenizer, seed: int, hidden: int = 32, layers: int = 1) -> BertForSequenceClassification:
    """A tiny random BERT classifier without dropout (so every forward pass is deterministic)."""
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=2 * hidden, max_position_embeddings=64, num_labels=NUM_LABELS,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)


def _distilbert(tokenizer, seed: int) -> DistilBertForSequenceClassification:
    config = DistilBertConfig(vocab_size=tokenizer.vocab_size, dim=32, n_layers=1, n_heads=2, hidden_dim=64,
                              max_position_embeddings=64, num_labels=NUM_LABELS, dropout=0.0, attention_dropout=0.0,
                              seq_classif_dropout=0.0)
    torch.manual_seed(seed)
    return DistilBertForSequenceClassification(config)


def _dataset(tokenizer, rows: int, pairs: bool = False) -> datasets.Dataset:
    words = ["what", "is", "the", "capital", "of", "france", "who", "wrote", "hamlet", "how", "many", "legs"]
    rng = np.random.default_rng(rows)
    texts = [" ".join(rng.choice(words, size=3 + i % 5)) for i in range(rows)]
    columns = {"text": texts, "label": [i % NUM_LABELS for i in range(rows)]}
    if pairs:
        columns["text_pair"] = texts[::-1]
    data = datasets.Dataset.from_dict(columns)

    def encode(batch):
        return tokenizer(batch["text"], batch["text_pair"] if pairs else None, truncation=True, max_length=24)

    return data.map(encode, batched=True, remove_columns=[c for c in data.column_names if c != "label"])


def _args(tmp_path, **changes) -> TrainingArguments:
    values = dict(
        output_dir=str(tmp_path / "trainer"), per_device_train_batch_size=4, per_device_eval_batch_size=8,
        max_steps=2, learning_rate=1e-3, report_to="none", save_strategy="no", use_cpu=True,
        disable_tqdm=True, dataloader_pin_memory=False, seed=0,
    )
    values.update(changes)
    return TrainingArguments(**values)


def _trainer(tokenizer, tmp_path, model, dataset, args=None, **kwargs) -> DistillationTrainer:
    return DistillationTrainer(model=model, args=args or _args(tmp_path), train_dataset=dataset,
                               data_collator=DataCollatorWithPadding(tokenizer), **kwargs)


def _batch(tokenizer, dataset, rows: int = 6) -> dict:
    return DataCollatorWithPadding(tokenizer)([dataset[i] for i in range(rows)])


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _max_difference(a: dict, b: dict) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


# ---- training with each method ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("method,alpha", [("erm", 0.0), ("ls", 0.2), ("kd", 0.5)])
@pytest.mark.parametrize("pairs", [False, True], ids=["single", "pairs"])
def test_a_few_steps_train_the_student_and_leave_the_teacher_alone(tokenizer, tmp_path, method, alpha, pairs):
    data = _dataset(tokenizer, 12, pairs=pairs)
    # unbalanced labels: a random student predicts (nearly) the same for every row, and with balanced labels its
    # cross-entropy would equal its cross-entropy to the uniform distribution, so that ERM and LS would agree
    data = data.remove_columns("label").add_column("label", [0] * 8 + [1, 2, 1, 2])
    student = _bert(tokenizer, seed=0)
    teacher = _bert(tokenizer, seed=1, hidden=48) if method == "kd" else None
    with torch.no_grad():  # confident models: a random head predicts almost uniformly, where ERM, LS and KD agree
        for model in filter(None, (student, teacher)):
            model.classifier.weight.mul_(50.0)
    before_student = _weights(student)
    before_teacher = None if teacher is None else _weights(teacher)
    with torch.no_grad():  # the loss of the first step: the initial student on all 12 rows (one batch)
        batch = _batch(tokenizer, data, rows=12)
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        logits = student(**inputs).logits
        first = _reference_loss(method, logits, batch["labels"],
                                None if teacher is None else teacher.eval()(**inputs).logits, alpha, 2.0).item()
    if method != "erm":  # the test can tell the method's loss from plain cross-entropy
        assert abs(first - F.cross_entropy(logits, batch["labels"]).item()) > 1e-2
    args = _args(tmp_path, per_device_train_batch_size=12, logging_steps=1)
    trainer = _trainer(tokenizer, tmp_path, student, data, args=args, method=method, alpha=alpha, temperature=2.0,
                       teacher_model=teacher)
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert trainer.state.global_step == 2 and len(losses) == 2
    assert losses[0] == pytest.approx(first, abs=2e-4)  # the Trainer logs its loss rounded to 4 digits
    assert _max_difference(before_student, _weights(student)) > 0
    if teacher is not None:
        assert _max_difference(before_teacher, _weights(teacher)) == 0.0
        assert not any(p.requires_grad for p in teacher.parameters())
        assert not teacher.training
        assert all(p.grad is None for p in teacher.parameters())


# ---- the loss is the kit's loss -----------------------------------------------------------


def _reference_loss(method: str, logits, labels, teacher_logits, alpha: float, tau: float) -> torch.Tensor:
    """Independent formulas: F.cross_entropy's own label smoothing; KD written out with log-softmaxes."""
    if method == "erm":
        return F.cross_entropy(logits, labels)
    if method == "ls":
        return F.cross_entropy(logits, labels, label_smoothing=alpha)
    log_p_s = F.log_softmax(logits / tau, dim=-1)
    log_p_t = F.log_softmax(teacher_logits / tau, dim=-1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=-1).mean()
    return (1 - alpha) * F.cross_entropy(logits, labels) + alpha * tau**2 * kl


@pytest.mark.parametrize("method,alpha", [("erm", 0.0), ("ls", 0.3), ("kd", 0.7)])
def test_compute_loss_equals_the_kits_loss_on_the_same_batch(tokenizer, tmp_path, method, alpha):
    data = _dataset(tokenizer, 8, pairs=True)
    student, teacher = _bert(tokenizer, 0), _bert(tokenizer, 1, hidden=48)
    trainer = _trainer(tokenizer, tmp_path, student, data, method=method, alpha=alpha, temperature=3.0,
                       teacher_model=teacher if method == "kd" else None)
    batch = _batch(tokenizer, data)
    student.eval()
    loss, outputs = trainer.compute_loss(student, batch, return_outputs=True)
    with torch.no_grad():
        logits = student(**{k: v for k, v in batch.items() if k != "labels"}).logits
        teacher_logits = teacher(**{k: v for k, v in batch.items() if k != "labels"}).logits
    expected = _reference_loss(method, logits, batch["labels"], teacher_logits, alpha, 3.0)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-6)
    assert torch.allclose(outputs.logits, logits, atol=1e-6)


def test_the_kd_loss_is_helpers_losses_distillation_loss(tokenizer, tmp_path):
    data = _dataset(tokenizer, 8, pairs=True)
    student, teacher = _bert(tokenizer, 0), _bert(tokenizer, 1, hidden=48)
    trainer = _trainer(tokenizer, tmp_path, student, data, method="kd", alpha=0.6, temperature=4.0, teacher_model=teacher)
    batch = _batch(tokenizer, data)
    student.eval()
    loss = trainer.compute_loss(student, batch)
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        expected = distillation_loss(student(**inputs).logits, teacher(**inputs).logits, batch["labels"], 0.6, 4.0)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert loss.item() != pytest.approx(F.cross_entropy(student(**inputs).logits, batch["labels"]).item(), rel=1e-3)


def _one_step_weights(tokenizer, tmp_path, data, teacher=None, lr: float = 0.5, **objective) -> dict[str, torch.Tensor]:
    """The student's weights after one plain-SGD step on all of ``data`` (one batch) with ``objective``."""
    student = _bert(tokenizer, 0)
    args = _args(tmp_path, per_device_train_batch_size=len(data), max_steps=1, optim="sgd", learning_rate=lr,
                 max_grad_norm=0.0, weight_decay=0.0, lr_scheduler_type="constant", warmup_steps=0)
    _trainer(tokenizer, tmp_path, student, data, args=args, teacher_model=teacher, **objective).train()
    return _weights(student)


def _manual_sgd_step(tokenizer, data, loss_of, lr: float = 0.5) -> dict[str, torch.Tensor]:
    """One SGD step by hand: ``loss_of(logits, labels)`` on all of ``data``, its gradient, ``w - lr * grad``."""
    student = _bert(tokenizer, 0)
    batch = _batch(tokenizer, data, rows=len(data))
    loss_of(student(**{k: v for k, v in batch.items() if k != "labels"}).logits, batch["labels"]).backward()
    with torch.no_grad():
        for parameter in student.parameters():
            if parameter.grad is not None:
                parameter -= lr * parameter.grad
    return _weights(student)


@pytest.mark.slow
def test_ls_in_the_trainer_smooths_the_labels(tokenizer, tmp_path):
    """One SGD step of the Trainer's LS equals one by hand with F.cross_entropy(label_smoothing=0.6), not plain CE's."""
    data = _dataset(tokenizer, 8)
    trained = _one_step_weights(tokenizer, tmp_path, data, method="ls", alpha=0.6)
    smoothed = _manual_sgd_step(tokenizer, data, lambda z, y: F.cross_entropy(z, y, label_smoothing=0.6))
    plain = _manual_sgd_step(tokenizer, data, F.cross_entropy)
    assert _max_difference(smoothed, plain) > 1e-3
    assert _max_difference(trained, smoothed) < 1e-5


@pytest.mark.slow
def test_kd_uses_the_teachers_logits(tokenizer, tmp_path):
    """KD with alpha=1 learns only from the teacher: two different teachers give two different students."""
    data = _dataset(tokenizer, 8)
    teachers = [_bert(tokenizer, 1, hidden=48), _bert(tokenizer, 2, hidden=48)]
    students = [_one_step_weights(tokenizer, tmp_path, data, teacher=t, method="kd", alpha=1.0, temperature=2.0)
                for t in teachers]
    assert _max_difference(*students) > 1e-3
    collate = DataCollatorWithPadding(tokenizer)
    batch = collate([data[i] for i in range(len(data))])
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        teacher_logits = teachers[0].eval()(**inputs).logits
    by_hand = _manual_sgd_step(tokenizer, data, lambda z, y: distillation_loss(z, teacher_logits, y, 1.0, 2.0))
    assert _max_difference(students[0], by_hand) < 1e-5


def test_one_objective_can_be_given_ready_made(tokenizer, tmp_path):
    data = _dataset(tokenizer, 8)
    objective = Objective("ls", 0.2)
    trainer = _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), data, objective=objective)
    assert trainer.objective is objective and (trainer.method, trainer.alpha) == ("ls", 0.2)
    assert _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), data).objective == Objective("erm", 0.0, 1.0)
    with pytest.raises(ValueError, match="not both"):
        _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), data, objective=objective, alpha=0.2)
    with pytest.raises(ValueError, match="Objective"):
        _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), data, objective=("ls", 0.2))


def test_batches_are_checked_once_not_at_every_step(tokenizer, tmp_path, monkeypatch):
    """``Objective.check_batch`` (it waits for the device) runs on the first batch only: 3 steps and a prediction."""
    calls = []
    original = Objective.check_batch
    monkeypatch.setattr(Objective, "check_batch", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    data = _dataset(tokenizer, 12)
    trainer = _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), data, args=_args(tmp_path, max_steps=3),
                       method="kd", alpha=0.5, teacher_model=_bert(tokenizer, 1, hidden=48))
    trainer.train()
    trainer.predict(data)
    assert calls == [1]


@pytest.mark.parametrize("bad,match", [("nan", "non-finite"), ("classes", "same shape")])
def test_bad_teacher_logits_are_caught_on_the_first_batch(tokenizer, tmp_path, bad, match):
    data = _dataset(tokenizer, 8)
    rows = [[0.0, float("nan"), 1.0]] * 8 if bad == "nan" else [[0.0, 1.0]] * 8
    with_column = data.add_column(TEACHER_LOGITS_COLUMN, rows)
    trainer = _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), with_column, args=_args(tmp_path, remove_unused_columns=False),
                       method="kd", alpha=0.5)
    with pytest.raises(ValueError, match=match):
        trainer.train()


def test_num_items_in_batch_is_accepted_and_turns_the_mean_into_a_share(tokenizer, tmp_path):
    data = _dataset(tokenizer, 8)
    student = _bert(tokenizer, 0)
    trainer = _trainer(tokenizer, tmp_path, student, data, method="ls", alpha=0.1)
    batch = _batch(tokenizer, data, rows=4)
    student.eval()
    mean = trainer.compute_loss(student, batch, num_items_in_batch=torch.tensor(12)).item()  # eval: plain mean
    student.train()
    share = trainer.compute_loss(student, batch, num_items_in_batch=torch.tensor(12)).item()
    assert share == pytest.approx(mean * 4 / 12, rel=1e-5)
    alone = trainer.compute_loss(student, batch, num_items_in_batch=4).item()
    assert alone == pytest.approx(mean, rel=1e-5)


def test_without_num_items_in_batch_the_loss_is_divided_by_the_accumulation_steps(tokenizer, tmp_path):
    data = _dataset(tokenizer, 8)
    student = _bert(tokenizer, 0)
    trainer = _trainer(tokenizer, tmp_path, student, data, args=_args(tmp_path, gradient_accumulation_steps=4), method="erm")
    batch = _batch(tokenizer, data, rows=4)
    student.eval()
    mean = trainer.compute_loss(student, batch).item()
    student.train()
    assert trainer.compute_loss(student, batch).item() == pytest.approx(mean / 4, rel=1e-5)


# ---- gradient accumulation ---------------------------------------------------------------------


def _one_sgd_step(tokenizer, tmp_path, rows: int, batch_size: int, accumulation: int, method: str):
    """Weights after one plain-SGD step (no clipping, no decay, constant lr): the step is lr x gradient."""
    data = _dataset(tokenizer, rows)
    student, teacher = _bert(tokenizer, 0), (_bert(tokenizer, 1, hidden=48) if method == "kd" else None)
    start = _weights(student)
    args = _args(tmp_path, per_device_train_batch_size=batch_size, gradient_accumulation_steps=accumulation,
                 max_steps=1, optim="sgd", learning_rate=0.5, max_grad_norm=0.0, weight_decay=0.0,
                 lr_scheduler_type="constant", warmup_steps=0)
    alpha = {"erm": 0.0, "ls": 0.2, "kd": 0.5}[method]
    trainer = _trainer(tokenizer, tmp_path, student, data, args=args, method=method, alpha=alpha, temperature=2.0,
                       teacher_model=teacher)
    trainer.train()
    return start, _weights(student)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["erm", "ls", "kd"])
def test_accumulating_two_batches_of_4_is_one_batch_of_8(tokenizer, tmp_path, method):
    start, big = _one_sgd_step(tokenizer, tmp_path, rows=8, batch_size=8, accumulation=1, method=method)
    _, accumulated = _one_sgd_step(tokenizer, tmp_path, rows=8, batch_size=4, accumulation=2, method=method)
    step = _max_difference(start, big)
    assert step > 1e-3  # a real step: a loss scaled by the wrong factor would be off by about this much
    assert _max_difference(big, accumulated) < 1e-5 * max(1.0, step) + 1e-6


@pytest.mark.slow
def test_a_ragged_accumulation_step_is_weighted_per_example(tokenizer, tmp_path):
    """6 examples as micro-batches of 4 + 2 equal one batch of 6 (a mean of means would weight them 1/2 + 1/2)."""
    start, big = _one_sgd_step(tokenizer, tmp_path, rows=6, batch_size=6, accumulation=1, method="erm")
    _, ragged = _one_sgd_step(tokenizer, tmp_path, rows=6, batch_size=4, accumulation=2, method="erm")
    assert _max_difference(start, big) > 1e-3
    assert _max_difference(big, ragged) < 1e-5


# ---- precomputed teacher logits ----------------------------------------------------------------


@pytest.mark.slow
def test_precomputed_teacher_logits_give_the_same_training_as_a_live_teacher(tokenizer, tmp_path):
    data = _dataset(tokenizer, 12, pairs=True)
    teacher = _bert(tokenizer, 1, hidden=48)
    teacher.eval()
    collate = DataCollatorWithPadding(tokenizer)
    with torch.no_grad():
        batch = collate([data[i] for i in range(len(data))])
        logits = teacher(**{k: v for k, v in batch.items() if k != "labels"}).logits
    with_column = data.add_column(TEACHER_LOGITS_COLUMN, logits.tolist())
    args = _args(tmp_path, max_steps=3, remove_unused_columns=False)
    live = _bert(tokenizer, 0)
    _trainer(tokenizer, tmp_path, live, data, args=args, method="kd", alpha=0.8, temperature=2.0, teacher_model=teacher).train()
    column = _bert(tokenizer, 0)
    _trainer(tokenizer, tmp_path, column, with_column, args=args, method="kd", alpha=0.8, temperature=2.0).train()
    start = _weights(_bert(tokenizer, 0))
    assert _max_difference(start, _weights(live)) > 1e-4
    assert _max_difference(_weights(live), _weights(column)) < 1e-5


def test_a_teacher_logits_column_needs_remove_unused_columns_false(tokenizer, tmp_path):
    data = _dataset(tokenizer, 8).add_column(TEACHER_LOGITS_COLUMN, [[0.0] * NUM_LABELS] * 8)
    with pytest.raises(ValueError, match="remove_unused_columns"):
        _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), data, method="kd", alpha=0.5)


def test_kd_batches_without_teacher_logits_and_without_teacher_raise(tokenizer, tmp_path):
    data = _dataset(tokenizer, 8).add_column(TEACHER_LOGITS_COLUMN, [[0.0] * NUM_LABELS] * 8)
    student = _bert(tokenizer, 0)
    trainer = _trainer(tokenizer, tmp_path, student, data, args=_args(tmp_path, remove_unused_columns=False), method="kd", alpha=0.5)
    batch = _batch(tokenizer, _dataset(tokenizer, 8))
    with pytest.raises(ValueError, match="teacher_logits"):
        trainer.compute_loss(student, batch)


# ---- a teacher and a student with different inputs ------------------------------------------------------


@pytest.mark.slow
def test_each_model_gets_only_its_own_inputs(tokenizer, tmp_path):
    assert "token_type_ids" in forward_argument_names(_bert(tokenizer, 0))
    assert "token_type_ids" not in forward_argument_names(_distilbert(tokenizer, 0))
    data = _dataset(tokenizer, 8, pairs=True)  # has token_type_ids, which the DistilBERT student does not take
    with pytest.raises(ValueError, match="remove_unused_columns"):
        _trainer(tokenizer, tmp_path, _distilbert(tokenizer, 0), data, method="kd", alpha=0.5, teacher_model=_bert(tokenizer, 1))
    student, teacher = _distilbert(tokenizer, 0), _bert(tokenizer, 1)
    trainer = _trainer(tokenizer, tmp_path, student, data, args=_args(tmp_path, remove_unused_columns=False),
                       method="kd", alpha=0.5, teacher_model=teacher)
    batch = _batch(tokenizer, data)
    with torch.no_grad():
        with_segments = teacher(**{k: v for k, v in batch.items() if k != "labels"}).logits
        without = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert not torch.allclose(with_segments, without)  # the segment ids matter to the teacher...
    assert torch.allclose(trainer._teacher_logits(batch), with_segments)  # ...and it gets them
    assert math.isfinite(trainer.train().training_loss)


# ---- metrics and bad arguments ------------------------------------------------------------


def test_compute_metrics_reports_the_kits_metrics():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [3.0, 0.0, 1.0]], dtype=np.float32)
    labels = np.array([0, 2, 1, 0])
    metrics = compute_metrics(EvalPrediction(predictions=(logits, np.zeros(4)), label_ids=labels))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert set(metrics) == {"accuracy", "entropy", "max_prob", "nll", "ece"}
    assert metrics["accuracy"] == pytest.approx(0.5)  # rows 0 and 3 right; row 2's argmax is class 0
    assert metrics["entropy"] == pytest.approx(float(-(p * np.log(p)).sum(axis=1).mean()), rel=1e-5)
    assert metrics["max_prob"] == pytest.approx(float(p.max(axis=1).mean()), rel=1e-5)
    assert metrics["nll"] == pytest.approx(float(-np.log(p[np.arange(4), labels]).mean()), rel=1e-5)
    # ECE, 15 bins (b/15, (b+1)/15]: confidences 0.787 (bin 11, right), 0.576 (bin 8, wrong), 1/3 (bin 4, wrong),
    # 0.844 (bin 12, right): each bin holds one example, so ECE = mean |correct - confidence|
    confidence = p.max(axis=1)
    correct = np.array([1.0, 0.0, 0.0, 1.0])
    assert sorted(np.ceil(confidence * 15).astype(int)) == [5, 9, 12, 13]  # four different bins
    assert metrics["ece"] == pytest.approx(float(np.abs(correct - confidence).mean()), rel=1e-5)
    # many examples, several per bin: every metric as written out in numpy (float64, 15 bins)
    rng = np.random.default_rng(0)
    logits = (rng.normal(size=(300, 3)) * rng.uniform(0.1, 4.0, size=(300, 1))).astype(np.float32)
    # right 70% of the time and more: confident bins are over-, unconfident ones under-confident, so the bins matter
    labels = np.where(rng.random(300) < 0.7, logits.argmax(axis=1), rng.integers(0, 3, size=300))
    metrics = compute_metrics(EvalPrediction(predictions=logits, label_ids=labels))
    assert metrics == pytest.approx(numpy_metrics(logits, labels), abs=1e-5)


@pytest.mark.parametrize(
    "kwargs,args_changes,match",
    [
        (dict(method="xx"), {}, "method"),
        (dict(method="ls", alpha=1.5), {}, "alpha"),
        (dict(method="kd", alpha=0.5, temperature=0.0), {}, "temperature"),
        (dict(method="erm", alpha=0.3), {}, "alpha"),
        (dict(method="kd", alpha=0.5), {}, "teacher"),
        (dict(method="ls", alpha=0.1), {"label_smoothing_factor": 0.1}, "label_smoothing_factor"),
        (dict(method="ls", alpha=0.1, teacher=True), {}, "teacher_model"),
        (dict(method="erm", compute_loss_func=lambda *a, **k: 0), {}, "compute_loss_func"),
    ],
)
def test_bad_arguments_raise_clear_errors(tokenizer, tmp_path, kwargs, args_changes, match):
    kwargs = dict(kwargs)
    if kwargs.pop("teacher", False):
        kwargs["teacher_model"] = _bert(tokenizer, 1)
    with pytest.raises(ValueError, match=match):
        _trainer(tokenizer, tmp_path, _bert(tokenizer, 0), _dataset(tokenizer, 8), args=_args(tmp_path, **args_changes), **kwargs)


def test_the_teacher_cannot_be_the_student(tokenizer, tmp_path):
    student = _bert(tokenizer, 0)
    with pytest.raises(ValueError, match="teacher_model"):
        _trainer(tokenizer, tmp_path, student, _dataset(tokenizer, 8), method="kd", alpha=0.5, teacher_model=student)
