"""Text classification tasks as ``datasets.DatasetDict`` objects, and their tokenization.

``load_task(name)`` returns splits ``train``, ``validation`` and ``test`` with columns
``text`` (str), ``label`` (``ClassLabel``) and ``idx`` (the row's position in its split,
used to look up cached teacher logits). The validation split is a fixed, stratified
slice of the original training data (seed ``SPLIT_SEED``), so it never overlaps ``test``.
"""

from __future__ import annotations

import math
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import torch
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from helpers import assets

__all__ = [
    "TASKS",
    "SPLIT_SEED",
    "load_task",
    "task_name",
    "frame_to_task",
    "tokenize_task",
    "padding_collator",
    "take_subset",
    "used_token_ids",
]

SPLIT_SEED = 0
VALIDATION_FRACTION = 0.1
TEST_FRACTION = 0.1
TREC_TRAIN_ROWS = 5452
TREC_COARSE_NAMES = ["DESC", "ENTY", "ABBR", "HUM", "NUM", "LOC"]  # label-coarse 0..5 in the file
TASKS = ("trec", "rotten_tomatoes")

datasets.disable_progress_bars()  # loading and tokenizing take a second: no bars for them


def task_name(name: str | Path) -> str:
    """Short display name of a task: the name itself, or a CSV file's stem."""
    text = str(name)
    return text if text in TASKS else Path(text).stem


def load_task(name: str | Path) -> datasets.DatasetDict:
    """Load ``"trec"``, ``"rotten_tomatoes"`` or a CSV path with ``text,label`` columns."""
    text = str(name)
    if text == "trec":
        return _load_trec()
    if text == "rotten_tomatoes":
        return _load_rotten_tomatoes()
    path = Path(text).expanduser()
    if path.suffix.lower() not in {".csv", ".bz2", ".gz"} and not path.exists():
        raise ValueError(f"unknown task {text!r}: use one of {TASKS} or a path to a CSV file with text,label columns")
    if not path.exists():
        raise ValueError(f"CSV file {path} does not exist")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"CSV file {path} is empty") from None
    return frame_to_task(frame, source=str(path))


def _load_trec() -> datasets.DatasetDict:
    frame = pd.read_csv(assets.trec_csv())
    frame = pd.DataFrame({"text": frame["text"], "label": frame["label-coarse"].astype(int)})
    features = _features(TREC_COARSE_NAMES)
    train = datasets.Dataset.from_pandas(frame.iloc[:TREC_TRAIN_ROWS], features=features, preserve_index=False)
    test = datasets.Dataset.from_pandas(frame.iloc[TREC_TRAIN_ROWS:], features=features, preserve_index=False)
    return _with_validation(train, test)


def _load_rotten_tomatoes() -> datasets.DatasetDict:
    frame = pd.read_csv(assets.rotten_tomatoes_csv())
    frame = frame[frame["category"].isin(["fresh", "rotten"])].drop_duplicates("text")
    frame = pd.DataFrame({"text": frame["text"].str.strip(), "label": frame["category"]})
    return frame_to_task(frame, source="rotten_tomatoes", label_names=["rotten", "fresh"])


def frame_to_task(
    frame: pd.DataFrame, source: str = "data frame", label_names: list[str] | None = None
) -> datasets.DatasetDict:
    """Validate a ``text,label`` frame and split it (stratified, fixed seed) into train/validation/test."""
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        raise ValueError(f"{source}: missing column(s) {sorted(missing)}; a task CSV needs columns text,label")
    frame = frame[["text", "label"]]
    if len(frame) == 0:
        raise ValueError(f"{source}: no rows")
    if frame["label"].isna().any():
        raise ValueError(f"{source}: {int(frame['label'].isna().sum())} row(s) have an empty label")
    texts = frame["text"]
    empty = texts.isna() | (texts.astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(f"{source}: {int(empty.sum())} row(s) have an empty text (first at row {int(empty.idxmax())})")
    labels = frame["label"].astype(str).str.strip()
    names = label_names or sorted(labels.unique(), key=_natural_key)
    unknown = set(labels) - set(names)
    if unknown:
        raise ValueError(f"{source}: labels {sorted(unknown)} are not among {names}")
    if labels.nunique() < 2:
        raise ValueError(f"{source}: a single class ({labels.iloc[0]!r}); a classification task needs at least 2")
    counts = labels.value_counts()
    if counts.min() < 3:
        raise ValueError(f"{source}: class {counts.idxmin()!r} has {counts.min()} row(s); each class needs at least 3")
    test_rows = math.ceil(TEST_FRACTION * len(frame))
    validation_rows = math.ceil(VALIDATION_FRACTION * (len(frame) - test_rows))
    if min(test_rows, validation_rows) < len(names):
        raise ValueError(
            f"{source}: {len(frame)} rows are too few to split stratified into train/validation/test "
            f"with {len(names)} classes (each held-out split needs at least one row per class)"
        )
    clean = pd.DataFrame({"text": texts.astype(str).str.strip(), "label": labels.map(names.index)})
    full = datasets.Dataset.from_pandas(clean, features=_features(names), preserve_index=False)
    split = full.train_test_split(test_size=TEST_FRACTION, stratify_by_column="label", seed=SPLIT_SEED)
    return _with_validation(split["train"], split["test"])


def _natural_key(value: str):
    return (0, float(value), "") if _is_number(value) else (1, 0.0, value)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _features(names: list[str]) -> datasets.Features:
    return datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(names))})


def _with_index(dataset: datasets.Dataset) -> datasets.Dataset:
    return dataset.add_column("idx", list(range(len(dataset))))


def _with_validation(train: datasets.Dataset, test: datasets.Dataset) -> datasets.DatasetDict:
    split = train.train_test_split(test_size=VALIDATION_FRACTION, stratify_by_column="label", seed=SPLIT_SEED)
    return datasets.DatasetDict(
        train=_with_index(split["train"]), validation=_with_index(split["test"]), test=_with_index(test)
    )


def take_subset(dataset: datasets.Dataset, size: int | None, seed: int = SPLIT_SEED) -> datasets.Dataset:
    """A fixed random subset of ``size`` rows (all rows if ``size`` is None or too large)."""
    if size is None or size >= len(dataset):
        return dataset
    if size <= 0:
        raise ValueError(f"subset size must be positive, got {size}")
    return dataset.shuffle(seed=seed).select(range(size))


def tokenize_task(
    task: datasets.DatasetDict, tokenizer: PreTrainedTokenizerBase, max_length: int = 128
) -> datasets.DatasetDict:
    """Tokenize every split with ``Dataset.map(batched=True)``, truncating to ``max_length``, no padding.

    Keeps ``label`` and ``idx`` and adds ``length`` (tokens per example) for length-grouped batching.
    """

    def encode(batch: dict) -> dict:
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_length)
        encoded["length"] = [len(ids) for ids in encoded["input_ids"]]
        return encoded

    return task.map(encode, batched=True, remove_columns=["text"], desc="tokenizing")


def used_token_ids(tokenized: datasets.DatasetDict, tokenizer: PreTrainedTokenizerBase) -> torch.Tensor:
    """Sorted unique token ids occurring in any split's ``input_ids``, plus the tokenizer's special ids."""
    ids = [np.asarray(tokenizer.all_special_ids, dtype=np.int64)]
    for split in tokenized.values():
        ids += [np.asarray(row, dtype=np.int64) for row in split["input_ids"]]
    return torch.from_numpy(np.unique(np.concatenate(ids)))


def padding_collator(tokenizer: PreTrainedTokenizerBase) -> DataCollatorWithPadding:
    """Collator padding each batch to its own longest sequence (dynamic padding)."""
    return DataCollatorWithPadding(tokenizer, return_tensors="pt")
