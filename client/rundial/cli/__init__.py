"""The ``rundial`` command line. A stub until the CLI issue lands: ``--version`` and ``--help``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rundial._version import __version__

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rundial", description="rundial experiment tracker CLI")
    parser.add_argument("--version", action="version", version=f"rundial {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the process exit code."""
    _parser().parse_args(argv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
