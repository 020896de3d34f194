"""Layer 5: experiments. Presets, their grids, sweeps, representations, and the paper-scale path.

* ``grids`` -- the presets, their grids of runs, and ``python -m helpers.experiments`` (``__main__``).
* ``sweeps`` -- alpha/tau grids, teachers of set confidence, KD expectations and inheritance points.
* ``representations`` -- the penultimate layer's pictures (Mueller et al.).
* ``paper_scale`` -- GLUE with the Hugging Face Trainer, for GPUs (``python -m helpers.paper_scale``).
"""
