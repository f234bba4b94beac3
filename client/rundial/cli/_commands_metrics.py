"""``rundial metrics keys|tail|export``.

``tail --follow`` prints the tail, then follows the run WebSocket until the run finishes (polling
``query/series`` every ``--interval-seconds`` without aiohttp; see :mod:`rundial.cli._follow`).
JSON mode prints the published ``{"ok": true, "series": <payload>}`` once per update; human mode
prints the table once and then only points that are new or changed.
"""

from __future__ import annotations

from typing import Any

from rundial.cli._common import positive, split_values
from rundial.cli._context import Context
from rundial.cli._errors import CliError
from rundial.cli._follow import FollowPrinter, MetricsWindow, consume, follow_source
from rundial.cli._http import ApiClient
from rundial.cli._output import dict_rows
from rundial.cli._parsing import ParserKit
from rundial.cli._rundata import add_export_flags, add_follow_flags, export_run, run_project

__all__ = ["register"]

MAX_TAIL_KEYS = 8


def register(kit: ParserKit, commands: Any) -> None:
    """Add the ``metrics`` group."""
    metrics = kit.group(commands, "metrics", "what a run logged: keys, recent points, export")
    keys = kit.command(metrics, "keys", "list a run's metric keys", cmd_keys)
    keys.add_argument("run_id")
    keys.add_argument("--limit", type=int, default=1000)
    tail = kit.command(metrics, "tail", "print recent points (--follow to keep watching)",
                       cmd_tail)
    add_follow_flags(tail)
    tail.add_argument("--keys", action="append", help="metric keys (repeatable, comma lists)")
    tail.add_argument("--points", type=int, default=10, help="points per key")
    export = kit.command(metrics, "export", "export a run's metrics to a file", cmd_export,
                         own_format=True)
    add_export_flags(export)
    export.add_argument("--keys", action="append", help="only these metric keys")


def _list_keys(ctx: Context, client: ApiClient, project_id: str,
               limit: int) -> list[dict[str, Any]]:
    payload = client.get("/api/v1/metrics/keys",
                         {"projectId": project_id, "limit": limit, "runId": ctx.args.run_id})
    return dict_rows(payload.get("keys"))


def cmd_keys(ctx: Context) -> None:
    """The run's metric keys as the collector summarises them."""
    positive("--limit", ctx.args.limit)
    client = ctx.client()
    keys = _list_keys(ctx, client, run_project(ctx, client), ctx.args.limit)
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "runId": ctx.args.run_id, "keys": keys})
        return
    extra = sorted({k for key in keys for k in key} - {"metricKey"})
    ctx.output.table(f"Metric keys of {ctx.args.run_id}", ["metric", *extra],
                     [[key.get("metricKey"), *(key.get(k) for k in extra)] for key in keys])


def cmd_tail(ctx: Context) -> None:
    """Last ``--points`` points of ``--keys`` (default: the run's first 8 keys, saying when
    there are more); ``--follow`` streams new points — of keys logged later too, and waiting
    for the first one on a run with none yet — until the run finishes or Ctrl-C."""
    positive("--points", ctx.args.points)
    positive("--interval-seconds", ctx.args.interval_seconds)
    client = ctx.client()
    project_id = run_project(ctx, client)
    keys = _TailKeys(ctx, client, project_id)
    first = keys.current()
    if not first and not ctx.args.follow:
        raise CliError(f"run {ctx.args.run_id} has no metric keys yet "
                       "(--follow waits for them)")
    if not first and not ctx.output.json_mode:
        ctx.output.line(f"run {ctx.args.run_id} has no metrics yet; waiting for them "
                        "(Ctrl-C to stop)")
    shown = None if keys.explicit is None else keys.explicit[:MAX_TAIL_KEYS]
    window = MetricsWindow(shown, ctx.args.points, MAX_TAIL_KEYS, keys.skipped)
    consume(follow_source(ctx, client, project_id, keys.fetch, window), _TailPrinter(ctx))


class _TailKeys:
    """Which keys the tail shows: ``--keys`` as given, else the run's first
    :data:`MAX_TAIL_KEYS` keys, listed again at every fetch (so new keys appear). A truncation
    is reported once, on stderr."""

    def __init__(self, ctx: Context, client: ApiClient, project_id: str) -> None:
        self._ctx, self._client, self._project_id = ctx, client, project_id
        self.explicit: list[str] | None = split_values(ctx.args.keys) or None
        self._warned = False

    def current(self) -> list[str]:
        """The keys to query now (at most :data:`MAX_TAIL_KEYS`)."""
        if self.explicit is not None:
            chosen = self.explicit
        else:
            chosen = [k["metricKey"] for k in _list_keys(self._ctx, self._client,
                                                          self._project_id, 1000)
                      if isinstance(k.get("metricKey"), str)]
        if len(chosen) > MAX_TAIL_KEYS:
            self._truncated(len(chosen))
        return chosen[:MAX_TAIL_KEYS]

    def fetch(self) -> dict[str, Any]:
        """The tail of the current keys, as a ``query/series`` reply (no call without keys)."""
        keys = self.current()
        if not keys:
            return {"series": []}
        return self._client.post("/api/v1/query/series", {
            "projectId": self._project_id, "runId": self._ctx.args.run_id, "metricKeys": keys,
            "range": "full_run", "maxPointsPerSeries": self._ctx.args.points, "order": "asc"})

    def skipped(self, key: str) -> None:
        """A live point of a key beyond the limit (called by the window)."""
        self._truncated(None)

    def _truncated(self, total: int | None) -> None:
        if not self._warned:
            self._warned = True
            count = f"{total} keys" if total is not None else "more keys"
            self._ctx.output.warn(f"run {self._ctx.args.run_id} has {count}; showing the first "
                                  f"{MAX_TAIL_KEYS} (choose them with --keys)")


class _TailPrinter(FollowPrinter):
    """Remembers each (key, step) value printed, so a follow prints new or changed points."""

    json_key = "series"
    columns = ("metric", "step", "timestamp_ms", "value")

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx.output, ctx.args.run_id)
        self._seen: dict[tuple[object, object], object] = {}

    def title(self) -> str:
        return f"Metric points for {self.run_id}"

    def fresh(self, payload: dict[str, Any]) -> list[list[object]]:
        rows = [row for row in _points(payload) if self._seen.get((row[0], row[1])) != row[3]]
        self._seen.update({(row[0], row[1]): row[3] for row in rows})
        return rows


def _points(payload: dict[str, Any]) -> list[list[object]]:
    return [[series.get("metricKey"), point.get("step"), point.get("timestampMs"),
             point.get("value")]
            for series in dict_rows(payload.get("series"))
            for point in dict_rows(series.get("points"))]


def cmd_export(ctx: Context) -> None:
    """Every metric row of the run (step-deduplicated by the collector) into ``--out``."""
    keys = split_values(ctx.args.keys)
    export_run(ctx, "metrics", "/api/v1/export/metrics", {"metricKeys": keys} if keys else {})
