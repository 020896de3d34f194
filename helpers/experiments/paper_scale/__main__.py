"""``python -m helpers.experiments.paper_scale`` (also under ``torchrun -m`` and ``accelerate launch -m``): one
paper-scale run (see :mod:`helpers.experiments.paper_scale.cli`)."""

from helpers.experiments.paper_scale.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
