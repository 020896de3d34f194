"""``python -m helpers.paper_scale``, the last release's spelling of a command, kept for this release only: it says
which spelling replaced it (``_DEPRECATED_COMMANDS`` in helpers/__init__.py) and runs that command."""

from helpers import _deprecated_command

main = _deprecated_command(__spec__.name)

if __name__ == "__main__":
    raise SystemExit(main())
