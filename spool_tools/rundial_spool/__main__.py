"""``rundial-spool`` console script and ``python -m rundial_spool``."""

from __future__ import annotations

import sys

from rundial_spool._app import VERSION, main

__all__ = ["VERSION", "main"]

if __name__ == "__main__":
    sys.exit(main())
