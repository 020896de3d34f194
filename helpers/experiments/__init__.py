"""Layer 5: experiments. Presets, their grids, the command lines, pooled classes, sweeps, representations, and the
paper-scale path.

* ``presets`` -- the presets (``Preset``, ``FeatureTier``, ``PRESETS``, ``get_preset``).
* ``grid`` -- a preset's runs: one expansion of ERM, LS and the KD settings for both tiers, the teacher ladder.
* ``runner`` -- running a grid (``run_grid``, ``run_feature_grid``) and the frozen features a preset's heads read.
* ``shares`` -- a class's grid cut into shares of whole seeds (``--share K/N``).
* ``handin`` -- a share's hand-in file (``handin.json``); ``pooled`` -- a pooled class result and how notebooks show it.
* ``cli`` -- ``python -m helpers.experiments`` (``__main__``); ``pool`` -- ``python -m helpers.experiments.pool``.
* ``commandline`` -- the folder checks and one-line errors both command lines share.
* ``sweeps`` -- alpha/tau grids, teachers of set confidence, KD expectations and inheritance points.
* ``representations`` -- the penultimate layer's pictures (Mueller et al.).
* ``paper_scale`` -- GLUE with the Hugging Face Trainer, for GPUs (``python -m helpers.experiments.paper_scale``).
"""
