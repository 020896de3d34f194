"""``python -m helpers.paper_scale``: the documented paper-scale command (see :mod:`helpers.experiments.paper_scale`).

It forwards to :func:`helpers.experiments.paper_scale.cli.main`, so that ``python -m``, ``torchrun -m`` and
``accelerate launch -m`` keep their short name. ``helpers/__init__.py`` puts this folder on the package's search
path, which is what makes ``helpers.paper_scale`` importable.
"""

from helpers.experiments.paper_scale.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
