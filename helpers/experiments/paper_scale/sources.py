"""Where the paper-scale models come from: local folders or Hugging Face hub names, checked before any work."""

from __future__ import annotations

import os
from pathlib import Path

from transformers import AutoConfig

__all__ = ["hub_offline", "check_model_source", "model_label", "num_labels_of"]


def hub_offline() -> bool:
    """Whether the Hugging Face hub is off (``HF_HUB_OFFLINE``, which ``import helpers`` sets unless ``KDLS_ALLOW_HUB=1``)."""
    return os.environ.get("HF_HUB_OFFLINE", "0").strip().lower() in ("1", "true", "yes", "on")


def check_model_source(source: str, argument: str) -> None:
    """Raise ``ValueError`` now, not after minutes of work, unless ``source`` can be loaded.

    A local folder must hold a ``config.json``; a hub name needs the hub (``KDLS_ALLOW_HUB=1``)
    or a copy in the local Hugging Face cache.
    """
    text = str(source)
    path = Path(text).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"{argument}={text!r} is not a model folder (no config.json in it)")
        return
    if text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text:
        raise ValueError(f"{argument}={text!r}: no such folder")
    if hub_offline():
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(text, "config.json"), str):
            return
        raise ValueError(
            f"{argument}={text!r} is not a local folder and the Hugging Face hub is offline "
            "(HF_HUB_OFFLINE=1, set by `import helpers`): set KDLS_ALLOW_HUB=1 in the environment to download "
            "it, or pass the path of a local model folder"
        )


def model_label(source: str) -> str:
    """How a model appears in ``results.csv``: a folder's name, or the hub name as given."""
    path = Path(str(source)).expanduser()
    return path.name if path.exists() else str(source)


def num_labels_of(checkpoint: str) -> int:
    """The number of classes of a fine-tuned checkpoint's head (its ``config.json``)."""
    return int(AutoConfig.from_pretrained(str(checkpoint)).num_labels)
