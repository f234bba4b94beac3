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
from datetime import datetime
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

__all__ = ["Output", "cell", "dict_rows", "local_time"]


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


def local_time(ms: object) -> str | None:
    """Epoch milliseconds as local time ``YYYY-MM-DD HH:MM:SS.mmm``; None when ``ms`` is not
    an int in a plausible range."""
    if not isinstance(ms, int) or isinstance(ms, bool) or not 0 < ms < 10**14:
        return None
    stamp = datetime.fromtimestamp(ms / 1000).astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def _shown(column: object, value: object) -> str:
    if isinstance(column, str) and column.endswith("_ms"):
        return local_time(value) or cell(value)
    return cell(value)


def _label(name: str) -> str:
    return name[:-3] if name.endswith("_ms") else name


def _padded(cells: Sequence[str], widths: Sequence[int]) -> str:
    last = len(cells) - 1
    return "  ".join(text if i == last else text.ljust(widths[i] if i < len(widths) else 0)
                     for i, text in enumerate(cells))


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

    def table(self, title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
              ) -> list[int]:
        """Human mode only: a title line, the column line, then the rows, columns padded to
        their widest cell. Epoch-millisecond columns (names ending ``_ms``, or the value of a
        ``field``/``value`` row whose field does) are shown as local times, their names without
        ``_ms``. Returns the column widths (for :meth:`row`)."""
        columns = list(columns)
        keyed = columns == ["field", "value"]
        texts = [[_shown(columns[i] if not keyed else (row[0] if i else ""), value)
                  for i, value in enumerate(row)] for row in rows]
        if keyed:
            texts = [[_label(str(row[0])), *row[1:]] for row in texts]
        header = [_label(c) for c in columns]
        widths = [max([len(header[i]), *(len(r[i]) for r in texts if i < len(r))])
                  for i in range(len(header))]
        if not self.quiet:
            self.line(title)
            self.line(_padded(header, widths))
            for row in texts:
                self.line(_padded(row, widths))
        return widths

    def row(self, columns: Sequence[str], values: Sequence[object], widths: Sequence[int]
            ) -> None:
        """One more row of a table printed before (same columns, same widths)."""
        self.line(_padded([_shown(c, v) for c, v in zip(columns, values)], widths))

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
