"""Helpers shared by command modules: argument checks, paging and run look-ups."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from rundial.cli._context import Context
from rundial.cli._errors import CliError
from rundial.cli._http import ApiClient, seg
from rundial.cli._output import dict_rows

__all__ = ["MAX_LIST_PAGES", "SCOPE_ALIASES", "list_all", "positive", "run_details",
           "run_path", "split_values", "string_field"]

MAX_LIST_PAGES = 10  # the published CLI follows at most 10 pages of workspaces/projects
SCOPE_ALIASES = {
    "ingest:metrics": "metrics:write", "ingest:logs": "logs:write",
    "ingest:traces": "traces:write", "ingest:evals": "evals:write",
    "ingest:artifacts": "artifacts:write", "query:read": "project:read",
}


def split_values(values: Iterable[str] | None, aliases: dict[str, str] | None = None) -> list[str]:
    """Flatten repeatable, comma-separated values (``--keys a,b --keys c``), keeping order."""
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip()
            if part and (aliases or {}).get(part, part) not in out:
                out.append((aliases or {}).get(part, part))
    return out


def positive(name: str, value: float) -> None:
    """Raise CliError (exit 1) unless ``value`` is a finite number > 0."""
    if not math.isfinite(value) or value <= 0:
        raise CliError(f"{name} must be positive, not {value:g}")


def string_field(payload: dict[str, Any], key: str, what: str) -> str:
    """``payload[key]`` as a non-empty string, else CliError naming ``what`` answered."""
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise CliError(f"the collector's {what} answer has no {key}")
    return value


def list_all(client: ApiClient, path: str, key: str,
             query: dict[str, object] | None = None) -> list[dict[str, Any]]:
    """GET a paged listing (``?limit=100&cursor=`` plus ``query``), following up to 10 pages."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_LIST_PAGES):
        payload = client.get(path, {**(query or {}), "limit": 100, "cursor": cursor})
        items += dict_rows(payload.get(key))
        page = payload.get("page")
        cursor = page.get("nextCursor") if isinstance(page, dict) and page.get("hasMore") else None
        if not isinstance(cursor, str) or not cursor:
            break
    return items


def run_path(ctx: Context, run_id: str) -> str:
    """``/api/v1/workspaces/{ws}/projects/{proj}/runs/{runId}`` for the resolved target."""
    workspace, project = ctx.target()
    return (f"/api/v1/workspaces/{seg(workspace)}/projects/{seg(project)}"
            f"/runs/{seg(run_id)}")


def run_details(ctx: Context, client: ApiClient, run_id: str) -> dict[str, Any]:
    """The run's details (top-level fields); 404 and others raise ApiError."""
    return client.get(run_path(ctx, run_id))
