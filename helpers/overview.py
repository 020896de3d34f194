"""Notebook 05's descriptive tables: the tasks (sizes, classes, lengths, examples) and the model family.

Lengths are counted in tokens of the kit's tokenizer (bert-base-uncased vocabulary), ``[CLS]`` and
``[SEP]`` included, without truncation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from helpers.data import load_task, task_name
from helpers.models import build_model, count_parameters, describe_spec, load_tokenizer

__all__ = ["task_table", "class_table", "token_lengths", "length_table", "examples", "model_table"]


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
