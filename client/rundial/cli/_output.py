"""What the CLI prints: human tables or one JSON document per line (``--json``).

Contract:
* Results go to stdout. In JSON mode every result is exactly one line of JSON with sorted keys,
  so ``rundial ... --json | jq`` works line by line (``--follow`` prints one line per poll).
* Errors and warnings go to stderr. In JSON mode an error is the single line
  ``{"ok": false, "error": {"message", "exitCode"}}``; in human mode it is ``error: <message>``.
* ``--quiet`` suppresses human messages and tables but never JSON results or errors (a script
  asking for JSON always gets its document).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

__all__ = ["Output", "cell", "dict_rows"]


def dict_rows(value: object) -> list[dict[str, Any]]:
    """The dict entries of ``value`` when it is a list; ``[]`` otherwise."""
    if not isinstance(value, list):
        return []
    return [row for row in value if isinstance(row, dict)]


def cell(value: object) -> str:
    """A table cell: ``""`` for ``None``, lists comma-joined, the string form otherwise."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ",".join(cell(v) for v in value)
    return str(value)


class Output:
    """Prints results, tables, messages, warnings and errors in the selected format."""

    def __init__(self, json_mode: bool = False, quiet: bool = False,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self._stdout = stdout
        self._stderr = stderr

    @property
    def out(self) -> TextIO:
        """The stream results go to (``sys.stdout`` at call time, so capture works)."""
        return self._stdout or sys.stdout

    @property
    def err(self) -> TextIO:
        """The stream errors, warnings and progress go to."""
        return self._stderr or sys.stderr

    def json(self, payload: object) -> None:
        """Print ``payload`` as one JSON line with sorted keys and flush."""
        self.out.write(json.dumps(payload, sort_keys=True, default=str) + "\n")
        self.out.flush()

    def result(self, payload: dict[str, Any], human: str | None = None) -> None:
        """JSON mode: ``payload``. Human mode: ``human`` if given, else ``payload`` as JSON."""
        if self.json_mode:
            self.json(payload)
        elif human is not None:
            self.line(human)
        elif not self.quiet:
            self.json(payload)

    def message(self, text: str) -> None:
        """JSON mode: ``{"ok": true, "message": text}``. Human mode: the text."""
        if self.json_mode:
            self.json({"ok": True, "message": text})
        else:
            self.line(text)

    def line(self, text: str) -> None:
        """Print one human line unless ``--quiet``."""
        if not self.quiet:
            self.out.write(text + "\n")
            self.out.flush()

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """Human mode only: a title line, the column line, then rows joined by two spaces."""
        if self.quiet:
            return
        self.line(title)
        self.line("  ".join(columns))
        for row in rows:
            self.line("  ".join(cell(value) for value in row))

    def warn(self, text: str) -> None:
        """A one-line warning on stderr (suppressed by ``--quiet``)."""
        if not self.quiet:
            self.err.write(f"warning: {text}\n")
            self.err.flush()

    def error(self, message: str, exit_code: int) -> None:
        """One error line on stderr: JSON envelope in JSON mode, ``error: …`` otherwise."""
        if self.json_mode:
            text = json.dumps({"ok": False, "error": {"message": message, "exitCode": exit_code}},
                              sort_keys=True)
        else:
            text = f"error: {message}"
        self.err.write(text + "\n")
        self.err.flush()
