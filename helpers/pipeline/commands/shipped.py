"""``python -m helpers.shipped``: the documented command that regenerates the shipped results (see
:mod:`helpers.pipeline.shipped`).

It forwards to :func:`helpers.pipeline.shipped.main`. ``helpers/__init__.py`` puts this folder on the package's
search path, which is what makes ``helpers.shipped`` importable.
"""

from helpers.pipeline.shipped import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
