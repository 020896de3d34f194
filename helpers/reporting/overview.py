"""Notebook 05's descriptive tables: the tasks (sizes, classes, lengths, examples) and the model family,
the sentences that describe them (rendered from the tables: no typed numbers in the notebooks), and what a
fine-tuning grid still has to train (``training_plan``).

Lengths are counted in tokens of the kit's tokenizer (bert-base-uncased vocabulary), ``[CLS]`` and
``[SEP]`` included, without truncation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from helpers.learning.data import load_task, task_name
from helpers.learning.models import build_model, count_parameters, describe_spec, load_tokenizer
from helpers.maths.statistics import check_columns

__all__ = ["task_table", "class_table", "token_lengths", "length_table", "examples", "model_table", "class_text",
           "length_text", "model_text", "teacher_text", "SECONDS_PER_UNIT", "training_plan", "training_plan_text"]


def task_table(tasks: Sequence[str]) -> pd.DataFrame:
    """One row per task: examples per split and number of classes."""
    rows = []
    for task in tasks:
        data = load_task(task)
        names = data["train"].features["label"].names
        rows.append({"task": task_name(task), **{split: len(data[split]) for split in ("train", "validation", "test")},
                     "classes": len(names), "class names": ", ".join(names)})
    return pd.DataFrame(rows)


def class_table(task: str) -> pd.DataFrame:
    """Fraction of examples per class in each split (rows: classes)."""
    data = load_task(task)
    names = data["train"].features["label"].names
    table = {}
    for split in ("train", "validation", "test"):
        counts = np.bincount(np.asarray(data[split]["label"]), minlength=len(names))
        table[split] = counts / counts.sum()
    return pd.DataFrame(table, index=pd.Index(names, name="class")).round(3)


def token_lengths(task: str, split: str = "train", tokenizer=None) -> np.ndarray:
    """Tokens per example of one split (no truncation)."""
    data = load_task(task)
    if split not in data:
        raise ValueError(f"split must be one of {list(data)}, got split={split!r}")
    tokenizer = tokenizer or load_tokenizer()
    return np.array([len(ids) for ids in tokenizer(list(data[split]["text"]))["input_ids"]])


def length_table(lengths: dict[str, np.ndarray], max_length: int | None = None) -> pd.DataFrame:
    """Median, 90th/99th percentile and maximum tokens per task (and the share truncated at ``max_length``)."""
    rows = []
    for task, values in lengths.items():
        values = np.asarray(values)
        if values.size == 0:
            raise ValueError(f"lengths[{task!r}] is empty")
        row = {"task": task, "median": float(np.median(values)), "p90": float(np.percentile(values, 90)),
               "p99": float(np.percentile(values, 99)), "max": int(values.max())}
        if max_length is not None:
            row[f"share > {max_length}"] = float((values > max_length).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def examples(task: str, per_class: int = 1, split: str = "train", seed: int = 0) -> pd.DataFrame:
    """``per_class`` random examples of every class (text and class name)."""
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got per_class={per_class!r}")
    data = load_task(task)[split]
    names = data.features["label"].names
    frame = data.to_pandas()
    picked = frame.sample(frac=1.0, random_state=seed).groupby("label").head(per_class).sort_values("label", kind="stable")
    return pd.DataFrame({"class": [names[i] for i in picked["label"]], "text": picked["text"].to_numpy()})


def model_table(specs: Sequence[str], num_labels: int = 6) -> pd.DataFrame:
    """One row per model spec: description, layers, trainable parameters (with a ``num_labels`` head)."""
    rows = []
    for spec in specs:
        model = build_model(spec, num_labels=num_labels)
        encoder_layers = model.config.num_hidden_layers
        rows.append({"model": spec, "description": describe_spec(spec), "layers": encoder_layers,
                     "hidden": model.config.hidden_size, "parameters (M)": round(count_parameters(model) / 1e6, 2),
                     "without embeddings (M)": round(
                         (count_parameters(model) - sum(p.numel() for p in model.base_model.embeddings.parameters())) / 1e6, 2)})
    return pd.DataFrame(rows)


def _task_word(task: str) -> str:
    return {"trec": "TREC", "rotten_tomatoes": "Rotten Tomatoes"}.get(task, task)


def class_text(tables: dict[str, pd.DataFrame]) -> str:
    """Per task (``class_table`` frames): the rarest and commonest training class, and how far the test split's mix
    is from the training split's (largest difference in a class's share, in percentage points)."""
    lines = []
    for task, table in tables.items():
        train = table["train"]
        shift = float((table["test"] - table["train"]).abs().max())
        balance = "far from balanced" if train.max() > 2 * train.min() else "roughly balanced"
        lines.append(f"* {_task_word(task)}: classes {balance} — the rarest in training is `{train.idxmin()}` "
                     f"({train.min():.1%}), the commonest `{train.idxmax()}` ({train.max():.1%}); the test split's mix differs "
                     f"from the training split's by up to {100 * shift:.1f} percentage points"
                     + (" (`" + str((table['test'] - table['train']).abs().idxmax()) + "`)." if shift > 0 else "."))
    return "\n".join(lines)


def length_text(lengths: dict[str, np.ndarray], max_length: int | None = None) -> str:
    """Median tokens per task, the ratio of the longest median to the shortest, and the share truncated at ``max_length``."""
    table = length_table(lengths, max_length)
    parts = [f"{_task_word(row.task)}: median {row.median:.0f} tokens (99th percentile {row.p99:.0f})"
             for row in table.itertuples()]
    text = "; ".join(parts) + "."
    if len(table) > 1:
        longest, shortest = table.loc[table["median"].idxmax()], table.loc[table["median"].idxmin()]
        text += (f" {_task_word(longest['task'])}'s median is {longest['median'] / shortest['median']:.1f}× "
                 f"{_task_word(shortest['task'])}'s.")
    if max_length is not None:
        column = f"share > {max_length}"
        text += (f" With the preset's `max_length` = {max_length}, "
                 + ", ".join(f"{row[column]:.1%} of {_task_word(row['task'])}'s examples" for _, row in table.iterrows())
                 + " are truncated.")
    return text


def model_text(table: pd.DataFrame) -> str:
    """Where the parameters sit, from ``model_table``: the embeddings' share of the biggest model's parameters and
    each smaller pretrained model's share of its parameters and of its non-embedding (per-token compute) parameters."""
    check_columns(table, ["model", "layers", "parameters (M)", "without embeddings (M)"], "table (a model_table)")
    big = table.loc[table["parameters (M)"].idxmax()]
    share = 1 - big["without embeddings (M)"] / big["parameters (M)"]
    text = (f"The embedding tables hold {share:.0%} of {big['model']}'s {big['parameters (M)']:.1f} M parameters. ")
    others = [row for _, row in table.iterrows() if row["model"] != big["model"] and str(row["model"]).startswith("L")]
    text += " ".join(f"{row['model']} keeps {row['parameters (M)'] / big['parameters (M)']:.0%} of the parameters but only "
                     f"{row['without embeddings (M)'] / big['without embeddings (M)']:.0%} of the non-embedding ones, which "
                     f"set the compute per token." for row in others)
    return text.strip()


def teacher_text(summary: pd.DataFrame, num_classes: int, name: str = "The teacher") -> str:
    """One teacher's accuracy and confidence, from a frame of ``helpers.maths.metrics.summarize`` per split
    (columns ``train``, ``test``; rows ``accuracy``, ``entropy``), said against the maximum entropy ``log K``."""
    for column in ("train", "test"):
        if column not in summary.columns:
            raise ValueError(f"summary lacks the split {column!r}")
    test, train = summary["test"], summary["train"]
    top = float(np.log(num_classes))
    text = (f"{name} reaches test accuracy {test['accuracy']:.1%} with mean test entropy {test['entropy']:.3f} nats "
            f"({test['entropy'] / top:.0%} of the maximum log {num_classes} = {top:.2f}); on its training split the mean "
            f"entropy is {train['entropy']:.3f} nats")
    if train["entropy"] < test["entropy"]:
        text += (f" — {1 - train['entropy'] / test['entropy']:.0%} lower than on the test split: more confident on the "
                 f"data it was fitted to.")
    else:
        text += " — **not** more confident on its training split than on the test split (unusual: it has not fitted its data)."
    return text


SECONDS_PER_UNIT = 1.5e-3  # seconds per (encoder layer × epoch × training example), a 2-core CPU, batch 16-32
SECONDS_PER_RUN = 3.0  # set-up and evaluation of one run


def _train_size(config) -> int:
    if config.train_subset is not None:
        return int(config.train_subset)
    return len(load_task(config.task)["train"])


def _layers(config) -> int:
    name = str(config.student)
    return int(name[1:]) if name[:1] == "L" and name[1:].isdigit() else 2


def training_plan(configs: Sequence, cached=None) -> dict:
    """What running ``configs`` (``TrainConfig``) through the run cache will cost: ``missing`` (configs not cached),
    ``total``, and ``seconds``, an estimate of the training time of the missing ones on a 2-core CPU.

    The estimate is ``SECONDS_PER_UNIT × layers × epochs × training examples + SECONDS_PER_RUN`` per run, rescaled by
    the measured time of the grid's already cached runs when there are some. ``cached(config)`` returns the cached
    run's metadata or None (default: :func:`helpers.learning.finetune.cached_run`, which serves a record only if its
    own stored config is the one asked for).
    """
    from helpers.learning.finetune import cached_run

    def lookup(config):
        if cached is not None:
            return cached(config)
        record = cached_run(config)
        return None if record is None else {"timings": record.timings}

    def guess(config) -> float:
        return SECONDS_PER_UNIT * _layers(config) * float(config.epochs) * _train_size(config) + SECONDS_PER_RUN

    configs = list(dict.fromkeys(configs))
    missing, ratios = [], []
    for config in configs:
        meta = lookup(config)
        if meta is None:
            missing.append(config)
        elif isinstance(meta, dict) and "timings" in meta:
            measured = sum(float(meta["timings"].get(k, 0.0)) for k in ("setup_seconds", "train_seconds", "eval_seconds"))
            ratios.append(measured / guess(config))
    scale = float(np.median(ratios)) if ratios else 1.0
    return {"missing": missing, "total": len(configs), "seconds": scale * sum(guess(c) for c in missing),
            "calibrated": bool(ratios)}


def training_plan_text(plan: dict, what: str = "fine-tuned runs") -> str:
    """``'N of M fine-tuned runs are not cached yet: this cell trains them (about X minutes on a 2-core CPU)'``."""
    missing, total = len(plan["missing"]), plan["total"]
    if missing == 0:
        return f"All {total} {what} are in the run cache: this cell loads them (seconds)."
    minutes = plan["seconds"] / 60
    how = "timed against the runs already cached" if plan.get("calibrated") else "a rough estimate"
    amount = f"about {minutes:.0f} minute{'s' if round(minutes) != 1 else ''}" if minutes >= 1 else "under a minute"
    return (f"{missing} of {total} {what} are not cached yet: this cell trains them ({amount} on a 2-core CPU, {how}); "
            f"afterwards they load from the cache in seconds.")
