"""Helpers of the KD-vs-LS teaching kit: assets, data, models, losses, metrics, training, plots.

Importing the package makes the Hugging Face libraries offline (``HF_HUB_OFFLINE=1``,
``HF_DATASETS_OFFLINE=1``) so that nothing ever waits on an unreachable hub; set
``KDLS_ALLOW_HUB=1`` before importing to allow hub downloads.
"""

import os

if os.environ.get("KDLS_ALLOW_HUB", "0") != "1":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
