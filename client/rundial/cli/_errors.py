"""Exit codes and the one exception type every command raises for an expected failure.

Contract: a command either returns normally (exit 0) or raises :class:`CliError` with exit code
1 (usage, command, transport or server error) or 2 (authentication or authorisation failure,
i.e. HTTP 401/403). :func:`rundial.cli._app.main` turns any other exception into exit 1 with a
one-line message; the traceback is printed only under ``--debug``.
"""

from __future__ import annotations

__all__ = ["EXIT_AUTH", "EXIT_ERROR", "EXIT_OK", "CliError"]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_AUTH = 2


class CliError(Exception):
    """An expected failure: ``message`` is shown as one line, ``exit_code`` is 1 or 2."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message

