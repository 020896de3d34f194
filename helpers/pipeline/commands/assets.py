"""``python -m helpers.assets``: the documented command that downloads and verifies the pinned data and weights
(see :mod:`helpers.infrastructure.assets`).

It forwards to :func:`helpers.infrastructure.assets.main`. ``helpers/__init__.py`` puts this folder on the
package's search path, which is what makes ``helpers.assets`` importable.
"""

from helpers.infrastructure.assets import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
