"""The ``rundial`` command line (console script ``rundial``, also ``python -m rundial.cli``).

See ``docs/cli.md``. The entry point is :func:`main`, which returns the exit code: 0 success,
1 command or transport error, 2 authentication or authorisation failure.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the command, return the exit code."""
    from rundial.cli._app import main as app_main

    return app_main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
