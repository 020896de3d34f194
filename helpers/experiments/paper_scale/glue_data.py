"""The paper-scale tasks: GLUE (``sst2``, ``mrpc``, ``qnli``, ``mnli``) or a local CSV, as the kit's splits.

Every task comes out as a ``DatasetDict`` with splits train/validation/test and columns ``text``
[, ``text_pair``], ``label`` (``ClassLabel``) and ``idx``; :func:`tokenize_task_pairs` turns it
into the models' inputs.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import pandas as pd

from helpers.infrastructure.assets import sha256_of
from helpers.learning.data import SPLIT_SEED, frame_to_task, load_task

__all__ = [
    "GLUE_DATASET",
    "GLUE_TASKS",
    "VALIDATION_FRACTION",
    "MAX_VALIDATION_ROWS",
    "glue_to_task",
    "load_paper_task",
    "tokenize_task_pairs",
    "task_id",
]

#: GLUE task -> (first text column, second text column or None, test split).
GLUE_TASKS: dict[str, tuple[str, str | None, str]] = {
    "sst2": ("sentence", None, "validation"),
    "mrpc": ("sentence1", "sentence2", "validation"),
    "qnli": ("question", "sentence", "validation"),
    "mnli": ("premise", "hypothesis", "validation_matched"),
}
#: GLUE on the Hugging Face hub (formerly ``"glue"``; the old name has been seen to fail since the move).
GLUE_DATASET = "nyu-mll/glue"
VALIDATION_FRACTION = 0.1
MAX_VALIDATION_ROWS = 2000


def _with_index(dataset: datasets.Dataset) -> datasets.Dataset:
    if "idx" in dataset.column_names:
        dataset = dataset.remove_columns("idx")
    return dataset.add_column("idx", list(range(len(dataset))))


def glue_to_task(raw: datasets.DatasetDict, name: str) -> datasets.DatasetDict:
    """A GLUE ``DatasetDict`` as the kit's splits, columns ``text`` [, ``text_pair``], ``label``, ``idx``.

    GLUE's test labels are hidden, so its validation split (MNLI: ``validation_matched``) is the
    test split, and a stratified slice of the training split (10%, at most 2000 rows, seed
    ``SPLIT_SEED``) is the validation split.
    """
    if name not in GLUE_TASKS:
        raise ValueError(f"unknown GLUE task {name!r}; choose one of {sorted(GLUE_TASKS)}")
    first, second, test_split = GLUE_TASKS[name]
    for split in ("train", test_split):
        if split not in raw:
            raise ValueError(f"GLUE {name}: split {split!r} missing (found {sorted(raw)})")
    renames = {first: "text"} | ({second: "text_pair"} if second else {})
    keep = ["text", "text_pair", "label"] if second else ["text", "label"]

    def tidy(split: datasets.Dataset) -> datasets.Dataset:
        missing = set(renames) - set(split.column_names)
        if missing:
            raise ValueError(f"GLUE {name}: column(s) {sorted(missing)} missing (found {split.column_names})")
        return split.rename_columns(renames).select_columns(keep)

    train = tidy(raw["train"])
    size = min(MAX_VALIDATION_ROWS, max(1, int(VALIDATION_FRACTION * len(train))))
    parts = train.train_test_split(test_size=size, stratify_by_column="label", seed=SPLIT_SEED)
    return datasets.DatasetDict(
        train=_with_index(parts["train"]), validation=_with_index(parts["test"]), test=_with_index(tidy(raw[test_split]))
    )


def _load_pair_csv(path: Path, frame: pd.DataFrame) -> datasets.DatasetDict:
    """``text,text_pair,label`` rows, split exactly as ``frame_to_task`` splits ``text,label`` rows."""
    for column in ("text", "text_pair"):
        values = frame[column]
        empty = values.isna() | (values.astype(str).str.strip() == "")
        if empty.any():
            raise ValueError(f"{path}: {int(empty.sum())} row(s) have an empty {column} (first at row {int(empty.idxmax())})")
    # frame_to_task validates the labels and makes the stratified split; it is given the row
    # numbers as texts, so that both text columns can follow the split it chose.
    rows = frame_to_task(frame.assign(text=[str(i) for i in range(len(frame))])[["text", "label"]], source=str(path))

    def attach(split: datasets.Dataset) -> datasets.Dataset:
        picked = frame.iloc[[int(i) for i in split["text"]]]
        columns = {
            "text": picked["text"].astype(str).str.strip().tolist(),
            "text_pair": picked["text_pair"].astype(str).str.strip().tolist(),
            "label": split["label"],
            "idx": split["idx"],
        }
        features = datasets.Features(
            {"text": datasets.Value("string"), "text_pair": datasets.Value("string"),
             "label": split.features["label"], "idx": split.features["idx"]}
        )
        return datasets.Dataset.from_dict(columns, features=features)

    return datasets.DatasetDict({name: attach(split) for name, split in rows.items()})


def load_paper_task(task: str) -> datasets.DatasetDict:
    """``sst2``/``mrpc``/``qnli``/``mnli`` (GLUE from ``GLUE_DATASET``: the hub or the datasets cache) or a CSV path.

    A CSV has columns ``text,label`` or ``text,text_pair,label``. Returns splits train/validation/test
    with columns ``text`` [, ``text_pair``], ``label`` (``ClassLabel``) and ``idx``.
    """
    name = str(task)
    if name in GLUE_TASKS:
        try:
            raw = datasets.load_dataset(GLUE_DATASET, name)
        except (ConnectionError, OSError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as error:
            raise ValueError(
                f"task={name!r}: GLUE {name} is not in the local datasets cache and the hub is unreachable or "
                f"offline ({type(error).__name__}). Set KDLS_ALLOW_HUB=1 (and be online) to download it, or pass "
                "a local CSV file with text,label or text,text_pair,label columns"
            ) from None
        return glue_to_task(raw, name)
    path = Path(name).expanduser()
    if path.suffix.lower() == ".csv" and path.is_file():
        try:
            frame = pd.read_csv(path)
        except pd.errors.EmptyDataError:
            raise ValueError(f"CSV file {path} is empty") from None
        if "text_pair" in frame.columns:
            return _load_pair_csv(path, frame)
        return load_task(path)
    raise ValueError(
        f"unknown task {name!r}: use one of {sorted(GLUE_TASKS)} or the path of an existing .csv file "
        "with text,label or text,text_pair,label columns"
    )


def tokenize_task_pairs(
    task: datasets.DatasetDict, tokenizer, max_length: int, token_type_ids: bool | None = None
) -> datasets.DatasetDict:
    """Tokenize ``text`` (and ``text_pair`` if present) without padding, truncating pairs longest-first.

    Keeps ``label``; drops the texts and ``idx``. ``token_type_ids=True`` adds segment ids even for a
    tokenizer that does not return them by default (a DistilBERT student with a live BERT teacher).
    """
    columns = task["train"].column_names
    pair = "text_pair" in columns

    def encode(batch: dict) -> dict:
        second = batch["text_pair"] if pair else None
        return tokenizer(batch["text"], second, truncation=True, max_length=max_length, return_token_type_ids=token_type_ids)

    drop = [c for c in columns if c != "label"]
    return task.map(encode, batched=True, remove_columns=drop, keep_in_memory=True, desc="tokenizing")


def task_id(task: str) -> str:
    """What identifies a task's data in a cache key: a CSV file's sha256, else the GLUE name."""
    path = Path(str(task)).expanduser()
    return f"csv:{sha256_of(path)}" if path.is_file() else str(task)
