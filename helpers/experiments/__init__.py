"""Layer 5: experiments. Presets, their grids, the command line, sweeps, representations, and the paper-scale path.

* ``presets`` -- the presets (``Preset``, ``FeatureTier``, ``PRESETS``, ``get_preset``).
* ``grid`` -- a preset's runs: one expansion of ERM, LS and the KD settings for both tiers, the teacher ladder.
* ``runner`` -- running a grid (``run_grid``, ``run_feature_grid``) and the frozen features a preset's heads read.
* ``cli`` -- ``python -m helpers.experiments`` (``__main__``); ``commandline`` -- its folder checks and one-line errors.
* ``sweeps`` -- alpha/tau grids, teachers of set confidence, KD expectations and inheritance points.
* ``representations`` -- the penultimate layer's pictures (Mueller et al.).
* ``paper_scale`` -- GLUE with the Hugging Face Trainer, for GPUs (``python -m helpers.experiments.paper_scale``).
"""
