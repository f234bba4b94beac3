"""The error boundary shared by ``rundial`` and ``rundial-spool``.

Contract of :func:`guarded`: run ``body`` and return its exit code; turn every exception into
exit code 0, 1 or 2 with one line on stderr (JSON envelope in JSON mode). Tracebacks are printed
only with ``debug``. ``--help``/``--version`` (SystemExit 0) return 0; a broken stdout pipe
(``… | head``) returns 0 quietly.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from rundial.cli._errors import EXIT_ERROR, EXIT_OK, CliError
from rundial.cli._output import Output
from rundial.cli._parsing import UsageError

__all__ = ["guarded"]


def guarded(body: Callable[[], int], output: Output, debug: bool) -> int:
    """Run ``body``; see the module docstring."""
    try:
        return body()
    except SystemExit as exc:
        return EXIT_OK if exc.code in (0, None) else EXIT_ERROR
    except UsageError as exc:
        if not output.json_mode:
            output.err.write(exc.usage)
        return _fail(output, exc, debug)
    except CliError as exc:
        return _fail(output, exc, debug)
    except KeyboardInterrupt:
        return _fail(output, CliError("interrupted"), debug)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:
        hint = "" if debug else " (--debug for details)"
        return _fail(output, CliError(f"unexpected error: {type(exc).__name__}: {exc}{hint}"),
                     debug)


def _fail(output: Output, exc: CliError, debug: bool) -> int:
    if debug:
        traceback.print_exc(file=output.err)
    output.error(exc.message, exc.exit_code)
    return exc.exit_code


def _silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
