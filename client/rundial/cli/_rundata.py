"""Shared plumbing of ``metrics`` and ``logs``: flags, the run's project id, paged export.

Export window: ``--start-ms`` / ``--end-ms`` when given, else everything the run logged
(``0`` … ``9999999999999``). The published CLI derived the window from the run's start and end
times ± 5 minutes, which silently dropped points logged with explicit older or newer
timestamps; the full window cannot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rundial.cli._common import positive, run_details, string_field
from rundial.cli._context import Context
from rundial.cli._errors import CliError
from rundial.cli._export import open_writer, require_format, temp_path
from rundial.cli._http import ApiClient
from rundial.cli._output import dict_rows
from rundial.cli._progress import Progress

__all__ = ["WINDOW_END_MS", "add_export_flags", "add_follow_flags", "export_run", "run_project"]

WINDOW_END_MS = 9_999_999_999_999  # 13 digits of milliseconds: year 2286


def add_follow_flags(parser: Any) -> None:
    """``run_id``, ``--follow`` and ``--interval-seconds``."""
    parser.add_argument("run_id")
    parser.add_argument("--follow", action="store_true",
                        help="keep streaming new data live (WebSocket; polls without aiohttp)")
    parser.add_argument("--interval-seconds", type=float, default=2.0)


def add_export_flags(parser: Any) -> None:
    """``run_id``, ``--format``, ``--out``, ``--start-ms``, ``--end-ms``, ``--page-size``."""
    parser.add_argument("run_id")
    parser.add_argument("--format", dest="export_format", choices=["json", "csv", "parquet"],
                        default="json", help="file format (parquet needs pyarrow)")
    parser.add_argument("--out", required=True, help="file to write")
    parser.add_argument("--start-ms", type=int, default=0)
    parser.add_argument("--end-ms", type=int, default=WINDOW_END_MS)
    parser.add_argument("--page-size", type=int, default=1000)


def run_project(ctx: Context, client: ApiClient) -> str:
    """The run's ``projectId`` from its details (404 → exit 1)."""
    return string_field(run_details(ctx, client, ctx.args.run_id), "projectId", "run details")


def export_run(ctx: Context, kind: str, route: str, extra: dict[str, Any]) -> None:
    """Page ``route`` into ``--out`` in ``--format``; prints ``{"ok","out","rows","format"}``."""
    args = ctx.args
    require_format(args.export_format)
    positive("--page-size", args.page_size)
    out = writable_out(Path(args.out))
    client = ctx.client()
    header = {"type": kind, "runId": args.run_id, "projectId": run_project(ctx, client),
              "startMs": args.start_ms, "endMs": args.end_ms}
    tmp = temp_path(out)
    try:
        rows = _write_pages(ctx, client, route, header, extra, tmp)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(f"cannot write --out {out}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    ctx.output.result({"ok": True, "out": str(out), "rows": rows, "format": args.export_format},
                      f"Wrote {rows} {kind} rows to {out}")


def writable_out(out: Path) -> Path:
    """``out`` when a file can be created there; else CliError (exit 1) saying why, before
    any request is made."""
    folder = out.parent
    if out.is_dir():
        raise CliError(f"--out {out} is a directory; give a file name")
    if not folder.is_dir():
        missing = "does not exist" if not folder.exists() else "is not a directory"
        raise CliError(f"--out {out}: the folder {folder} {missing}; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CliError(f"--out {out}: the folder {folder} is not writable")
    return out


def _write_pages(ctx: Context, client: ApiClient, route: str, header: dict[str, Any],
                 extra: dict[str, Any], tmp: Path) -> int:
    body = {"projectId": header["projectId"], "runId": header["runId"],
            "startMs": header["startMs"], "endMs": header["endMs"],
            "limit": ctx.args.page_size, "format": "json", **extra}
    writer = open_writer(ctx.args.export_format, tmp, header)
    pages = 0
    with Progress(f"export {header['type']}", enabled=not (ctx.output.json_mode
                                                            or ctx.output.quiet)) as bar:
        while True:
            page = client.post(route, body)
            pages += 1
            rows = dict_rows(page.get("rows"))
            writer.write(rows)
            bar.advance(len(rows))
            cursor = _next_cursor(page)
            if cursor is None:
                break
            body["cursor"] = cursor
    writer.finish(pages)
    return bar.done


def _next_cursor(page: dict[str, Any]) -> str | None:
    info = page.get("page")
    if not isinstance(info, dict) or not info.get("hasMore"):
        return None
    cursor = info.get("nextCursor")
    return cursor.strip() if isinstance(cursor, str) and cursor.strip() else None
