"""``rundial logs tail|export``.

``tail`` shows the newest ``--lines`` lines at or above ``--min-level``; human mode prints them
oldest first, like ``tail``. ``--follow`` then follows the run WebSocket until the run finishes
(polling every ``--interval-seconds`` without aiohttp; see :mod:`rundial.cli._follow`) and
prints only lines not shown before; JSON mode prints the published
``{"ok": true, "logs": <payload>}`` once per update.
"""

from __future__ import annotations

from typing import Any

from rundial.cli._common import positive
from rundial.cli._context import Context
from rundial.cli._follow import FollowPrinter, LogsWindow, consume, follow_source
from rundial.cli._output import dict_rows
from rundial.cli._parsing import ParserKit
from rundial.cli._rundata import add_export_flags, add_follow_flags, export_run, run_project

__all__ = ["LEVELS", "register"]

LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"]


def register(kit: ParserKit, commands: Any) -> None:
    """Add the ``logs`` group."""
    logs = kit.group(commands, "logs", "a run's log lines: tail and export")
    tail = kit.command(logs, "tail", "print recent log lines (--follow to keep watching)",
                       cmd_tail)
    add_follow_flags(tail)
    tail.add_argument("--min-level", choices=LEVELS, default="trace")
    tail.add_argument("--text", help="only lines containing this text")
    tail.add_argument("--lines", type=int, default=100)
    export = kit.command(logs, "export", "export a run's log lines to a file", cmd_export,
                         own_format=True)
    add_export_flags(export)


def cmd_tail(ctx: Context) -> None:
    """Newest lines, then (``--follow``) new lines as they arrive, until the run finishes or
    Ctrl-C."""
    positive("--lines", ctx.args.lines)
    positive("--interval-seconds", ctx.args.interval_seconds)
    client = ctx.client()
    body: dict[str, Any] = {"projectId": run_project(ctx, client), "runId": ctx.args.run_id,
                            "limit": ctx.args.lines, "minLevel": ctx.args.min_level,
                            "order": "desc"}
    if ctx.args.text:
        body["text"] = ctx.args.text
    window = LogsWindow(ctx.args.lines, LEVELS, ctx.args.min_level, ctx.args.text)
    consume(follow_source(ctx, client, body["projectId"],
                          lambda: client.post("/api/v1/query/logs", body), window),
            _LogPrinter(ctx))


class _LogPrinter(FollowPrinter):
    """Remembers the last window of lines, so a follow prints only lines not shown before."""

    json_key = "logs"
    columns = ("timestamp_ms", "sequence", "level", "message")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.output, ctx.args.run_id)
        self._limit = ctx.args.lines
        self._window: set[tuple[object, ...]] = set()

    def title(self) -> str:
        return f"Log lines for {self.run_id}"

    def fresh(self, payload: dict[str, Any]) -> list[list[object]]:
        rows = list(reversed(dict_rows(payload.get("rows"))))  # newest first → oldest first
        idents = [_identity(row) for row in rows]
        fresh = [row for row, ident in zip(rows, idents) if ident not in self._window]
        if self._window and len(fresh) == len(rows) == self._limit:
            self.output.warn("more new lines than --lines arrived between polls; "
                             "some were skipped")
        self._window = set(idents)
        return [[r.get("timestampMs"), r.get("sequence"), r.get("level"), r.get("message")]
                for r in fresh]


def _identity(row: dict[str, Any]) -> tuple[object, ...]:
    return (row.get("timestampMs"), row.get("sequence"), row.get("level"), row.get("message"))


def cmd_export(ctx: Context) -> None:
    """Every log line of the run, oldest first, into ``--out``."""
    export_run(ctx, "logs", "/api/v1/export/logs", {})
