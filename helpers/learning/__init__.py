"""Layer 3: data, models, and the two training tiers with their cache and results.

* ``data`` -- the tasks (TREC, Rotten Tomatoes, any CSV), splits, tokenization.
* ``models`` -- the MiniLM-L6 teacher and its first-k-layer students.
* ``cache`` -- checksummed run records keyed by config, task, asset pins and a fingerprint of the code.
* ``results`` -- the one ``results.csv`` schema, its locked merging writer, ``record_results``.
* ``shipped`` -- the shipped results of a finished preset (``shipped_results/``), read back.
* ``finetune`` -- the kit's own fine-tuning loop (the fine-tuned tier).
* ``frozen_features`` -- the pretrained encoder's mean-pooled features of every layer, computed once and cached.
* ``features`` -- small heads on frozen features (the frozen-feature tier).
* ``hf_trainer`` -- the same objectives in a Hugging Face ``Trainer`` subclass (the paper-scale path).
"""
