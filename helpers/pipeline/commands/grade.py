"""``python -m helpers.grade``: the documented command (see :mod:`helpers.pipeline.grade`).

It forwards to :func:`helpers.pipeline.grade.main`. ``helpers/__init__.py`` puts this folder on the package's search
path, which is what makes ``helpers.grade`` importable.
"""

from helpers.pipeline.grade import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
