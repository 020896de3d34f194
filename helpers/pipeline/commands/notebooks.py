"""``python -m helpers.notebooks``: the documented command (see :mod:`helpers.pipeline.notebooks`).

It forwards to :func:`helpers.pipeline.notebooks.main`. ``helpers/__init__.py`` puts this folder on the package's search
path, which is what makes ``helpers.notebooks`` importable.
"""

from helpers.pipeline.notebooks import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
