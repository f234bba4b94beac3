"""``rundial run start|list|status|finish``."""

from __future__ import annotations

from typing import Any

from rundial._pipeline.client_info import cli_host_info
from rundial._version import __version__
from rundial.cli._common import positive, run_details, split_values, string_field
from rundial.cli._context import Context
from rundial.cli._http import seg
from rundial.cli._output import dict_rows
from rundial.cli._parsing import ParserKit

__all__ = ["register", "start_run"]

KINDS = ["training", "agent", "eval"]
STATES = ["completed", "failed", "aborted"]
ORDER_BY = ["runId", "startedAtMs", "updatedAtMs", "runName"]
_STATUS_FIELDS = [("run_id", "runId"), ("kind", "kind"), ("status", "status"),
                  ("name", "runName"), ("project_id", "projectId"),
                  ("started_at_ms", "startedAtMs"), ("finished_at_ms", "finishedAtMs"),
                  ("updated_at_ms", "updatedAtMs"), ("last_heartbeat_ms", "lastHeartbeatMs")]


def register(kit: ParserKit, commands: Any) -> None:
    """Add the ``run`` group."""
    run = kit.group(commands, "run", "start, list, inspect and finish runs")
    start = kit.command(run, "start", "start a run in the target project", cmd_start)
    add_start_flags(start)
    listing = kit.command(run, "list", "list the target project's runs", cmd_list)
    listing.add_argument("--status", action="append", help="running,completed,… (repeatable)")
    listing.add_argument("--search")
    listing.add_argument("--limit", type=int, default=25)
    listing.add_argument("--order", choices=["asc", "desc"], default="desc")
    listing.add_argument("--order-by", choices=ORDER_BY, default="startedAtMs")
    listing.add_argument("--cursor")
    status = kit.command(run, "status", "show one run's status and details", cmd_status)
    status.add_argument("run_id")
    finish = kit.command(run, "finish", "set a terminal status", cmd_finish)
    finish.add_argument("run_id")
    finish.add_argument("--state", choices=STATES, default="completed")
    finish.add_argument("--reason")
    finish.add_argument("--finished-at-ms", type=int)


def add_start_flags(parser: Any, name_default: str | None = None) -> None:
    """``--name``, ``--kind`` and ``--run-id`` (shared by ``run start`` and ``init``)."""
    parser.add_argument("--name", default=name_default)
    parser.add_argument("--kind", choices=KINDS, default="training")
    parser.add_argument("--run-id", help="use this id instead of a server-minted one")


def start_run(ctx: Context) -> dict[str, Any]:
    """Resolve the target, start a run, save the target; return the published result shape."""
    workspace, project = ctx.target()
    client = ctx.client()
    resolved = client.post("/api/v1/runs/resolve-target",
                           {"workspace": workspace, "project": project})
    body: dict[str, Any] = {"projectId": string_field(resolved, "projectId", "resolve-target"),
                            "kind": ctx.args.kind, "resume": "never",
                            "client": {"name": "rundial-cli", "version": __version__,
                                       **cli_host_info()}}
    if ctx.args.name:
        body["runName"] = ctx.args.name
    if ctx.args.run_id:
        body["runId"] = ctx.args.run_id
    started = client.post("/api/v1/runs/start", body)
    ctx.remember(workspace=workspace, project=project, endpoint=ctx.endpoint())
    return {"ok": True, "run": {"runId": string_field(started, "runId", "runs/start"),
                                "kind": started.get("kind") or ctx.args.kind,
                                "workspace": workspace, "project": project}}


def cmd_start(ctx: Context) -> None:
    """Start a run (resume ``never``) and print its id."""
    result = start_run(ctx)
    run = result["run"]
    ctx.output.result(result, f"Started run {run['runId']} in {run['workspace']}/{run['project']}")


def cmd_list(ctx: Context) -> None:
    """One page of the project's runs, newest first by default."""
    positive("--limit", ctx.args.limit)
    workspace, project = ctx.target()
    statuses = split_values(ctx.args.status)
    payload = ctx.client().get(
        f"/api/v1/workspaces/{seg(workspace)}/projects/{seg(project)}/runs/query",
        {"limit": ctx.args.limit, "order": ctx.args.order, "orderBy": ctx.args.order_by,
         "cursor": ctx.args.cursor, "search": (ctx.args.search or "").strip() or None,
         "statuses": ",".join(statuses) or None})
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "result": payload})
        return
    ctx.output.table(f"Runs for {workspace}/{project}",
                     ["run_id", "kind", "status", "name", "started_at_ms", "updated_at_ms"],
                     [[r.get("runId"), r.get("kind") or "training", r.get("status"),
                       r.get("runName") or "", r.get("startedAtMs"), r.get("updatedAtMs")]
                      for r in dict_rows(payload.get("runs"))])


def cmd_status(ctx: Context) -> None:
    """The run's details: status, timestamps, last heartbeat."""
    payload = run_details(ctx, ctx.client(), ctx.args.run_id)
    if ctx.output.json_mode:
        ctx.output.json({"ok": True, "run": payload})
        return
    ctx.output.table(f"Run {ctx.args.run_id}", ["field", "value"],
                     [[label, payload.get(key)] for label, key in _STATUS_FIELDS])


def cmd_finish(ctx: Context) -> None:
    """Set ``completed``/``failed``/``aborted``; repeating the same status is idempotent."""
    body: dict[str, Any] = {"status": ctx.args.state}
    if ctx.args.finished_at_ms is not None:
        body["finishedAtMs"] = ctx.args.finished_at_ms
    if ctx.args.reason:
        body["reason"] = ctx.args.reason
    payload = ctx.client().post(f"/api/v1/runs/{seg(ctx.args.run_id)}/status", body)
    ctx.output.result({"ok": True, "run": payload},
                      f"Run {payload.get('runId') or ctx.args.run_id} status set to "
                      f"{payload.get('status') or ctx.args.state}")
