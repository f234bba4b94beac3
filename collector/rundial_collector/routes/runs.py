"""Run lifecycle routes (v1 doc §3.1-§3.4, docs/protocol.md §3 and §4.5).

* ``POST /api/v1/runs/resolve-target``: slugs → the six canonical fields; needs any scope on
  the project (404 unknown, 403 not allowed, 409 ambiguous).
* ``POST /api/v1/runs/start``: resume matrix, applied atomically in the store; 201 created,
  200 attached/reopened. Needs a write scope (``metrics:write``, ``logs:write``, …).
  Extensions (docs/protocol.md §4.5): ``startedAtMs``, the client's recorded start (used when
  it is after 2000-01-01, capped at the server's now), and ``startToken``: a start repeating a
  token that already started this run is answered 200 with the run unchanged, and a 409 to a
  start with a token carries ``"startTokenMatched": false``.
* ``POST /api/v1/runs/{runId}/status``: terminal status; same status again is a 200 no-op,
  another terminal status a 409. Optional ``droppedStepRanges`` (steps the SDK dropped) are
  stored in the run's config as ``summary.dropped_step_ranges`` (JSON text) before finishing.
* ``POST /api/v1/runs/{runId}/config``: merge; replies with the full merged ``config``.

Config values are scalars or lists of scalars nested at most :data:`CONFIG_LIST_MAX_DEPTH`
deep (an extension of v1 §11.6); anything else is a 400 naming ``config.<key>``.
A ``runName``, ``group``, ``jobType`` or ``reason`` holding NUL is a 400 naming it on every
backend (PostgreSQL text cannot hold one); config, tags and ``client`` are stored as JSON text,
where a NUL is the escape ``\\u0000``, kept on every backend.
The read routes live in :mod:`rundial_collector.routes.runs_read`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
import orjson
from aiohttp import web

from rundial_collector.live import hub  # live: publish after commit
from rundial_collector.routes import runs_edit, runs_read, runs_table
from rundial_collector.routes.runs_read import run_entry
from rundial_collector.store.control_base import TERMINAL_STATUSES, Run, RunStart
from rundial_collector.web import auditing, auth
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import KNOWN_SCOPES, ORG_ID, WRITE_SCOPES, ProjectRef
from rundial_collector.web.intbounds import Int64, NonNegative, json_int_problem
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms, write_or_429

REASON_MAX_CHARS = 512
EARLIEST_START_MS = 946_684_800_000  # 2000-01-01: an earlier startedAtMs is a broken clock
CONFIG_LIST_MAX_DEPTH = 8
RunId = Annotated[str, msgspec.Meta(pattern=r"^[^/\x00]{1,128}$")]
CLIENT_MAX_BYTES = 16 * 1024  # runs/start ``client``: encoded size bound (docs/protocol.md §4.12)
DROPPED_RANGES_MAX = 256  # the SDK keeps at most 256 ranges (older ones coalesce)
DROPPED_RANGES_KEY = "summary.dropped_step_ranges"
STATUS_ACTIONS = {"completed": "run.finish", "failed": "run.fail", "aborted": "run.abort",
                  "killed": "run.kill"}  # audit actions of status changes (#17.2)
Step = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
StepRange = Annotated[list[Step], msgspec.Meta(min_length=2, max_length=2)]
Text = Annotated[str, msgspec.Meta(max_length=512)]
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
# control_base.ConfigValue with int64-bounded integers (list items: checked_config)
ConfigValue = str | Int64 | float | bool | None | list[Any]
Config = Annotated[dict[str, ConfigValue], msgspec.Meta(max_length=10_000)]
Token = Annotated[str, msgspec.Meta(pattern=r"^[\x21-\x7e]{1,128}\Z")]


class ResolveBody(msgspec.Struct):
    workspace: Ref
    project: Ref


class StartBody(msgspec.Struct):
    projectId: Ref | None = None
    workspace: Ref | None = None
    project: Ref | None = None
    kind: Literal["training", "agent", "eval"] = "training"
    resume: Literal["never", "allow", "must"] = "never"
    client: dict[str, Any] | None = None
    runId: RunId | None = None
    runName: Text | None = None
    group: Text | None = None
    jobType: Text | None = None
    tags: Annotated[list[Text], msgspec.Meta(max_length=256)] | None = None
    config: Config | None = None
    startedAtMs: NonNegative | None = None
    startToken: Token | None = None


class StatusBody(msgspec.Struct):
    status: Literal["completed", "failed", "aborted", "killed"]
    finishedAtMs: NonNegative | None = None
    reason: str | None = None
    droppedStepRanges: Annotated[list[StepRange], msgspec.Meta(max_length=DROPPED_RANGES_MAX)] | None = None


class ConfigBody(msgspec.Struct):
    config: Config


def _config_list_ok(items: list[Any], depth: int) -> bool:
    """True when ``items`` holds only scalars and lists, nested at most the allowed depth."""
    if depth > CONFIG_LIST_MAX_DEPTH:
        return False
    return all(_config_list_ok(item, depth + 1) if isinstance(item, list)
               else item is None or isinstance(item, (str, int, float, bool)) for item in items)


def checked_config(config: dict[str, Any] | None) -> dict[str, Any]:
    """``config`` (``{}`` for None), or a 400 for a list holding objects, nested too deep or
    holding an integer outside int64."""
    for key, value in (config or {}).items():
        if isinstance(value, list) and (not _config_list_ok(value, 1)
                                        or json_int_problem(value) is not None):
            raise errors.invalid(f"config value {key!r} must be a scalar or a list of scalars "
                                 f"(lists nested at most {CONFIG_LIST_MAX_DEPTH} deep)",
                                 f"config.{key}")
    return config or {}


def checked_client(client: dict[str, Any] | None) -> None:
    """400 for a ``client`` object holding an integer outside int64 or encoding to more than
    :data:`CLIENT_MAX_BYTES`; it is stored as sent otherwise (unknown fields kept). Its nesting
    is bounded like every request value's (``web.jsondepth``)."""
    if client is None:
        return
    problem = json_int_problem(client)
    if problem is not None:
        raise errors.invalid(f"client: {problem}", "client")
    if len(orjson.dumps(client)) > CLIENT_MAX_BYTES:
        raise errors.invalid(f"client must encode to at most {CLIENT_MAX_BYTES} bytes", "client")


async def resolve_target(request: web.Request) -> web.Response:
    """``{orgId, workspaceSlug, workspaceName, projectSlug, projectName, projectId}``."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, ResolveBody)
    ref = await auth.resolve_project(request, principal, workspace=body.workspace.strip(),
                                     project=body.project.strip())
    principal.require_any(KNOWN_SCOPES, ref)
    project = await request.app[STORE].get_project(ref.project_id)
    if project is None:  # deleted between the two reads; there is no delete route today
        raise errors.not_found(f"project {ref.project_id} was not found")
    return json_response(request, {
        "orgId": ORG_ID, "workspaceSlug": project.workspace_slug,
        "workspaceName": project.workspace_name, "workspaceId": project.workspace_id,
        "projectSlug": project.slug, "projectName": project.name,
        "projectId": project.project_id})


def bounded_start_ms(started_ms: int | None, now: int) -> int | None:
    """The client's recorded start, capped at ``now``; None (server time) before 2000."""
    if started_ms is None or started_ms < EARLIEST_START_MS:
        return None
    return min(started_ms, now)


async def start_run(request: web.Request) -> web.Response:
    """Create (201) or attach to (200) a run following the resume matrix."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, StartBody)
    if body.resume == "must" and body.runId is None:
        raise errors.invalid("resume='must' needs a runId", "runId")
    checked_client(body.client)
    for field in ("runName", "group", "jobType"):
        errors.require_no_nul(getattr(body, field), field)
    project = await auth.resolve_project(request, principal, project_id=body.projectId,
                                         workspace=body.workspace, project=body.project)
    principal.require_any(WRITE_SCOPES, project)
    now = now_ms()
    start = RunStart(
        run_id=body.runId or "run_" + uuid.uuid4().hex, run_id_given=body.runId is not None,
        project_id=project.project_id, kind=body.kind, resume=body.resume, name=body.runName,
        group=body.group, job_type=body.jobType, tags=tuple(body.tags or ()),
        config=checked_config(body.config), client=body.client,
        started_ms=bounded_start_ms(body.startedAtMs, now), start_token=body.startToken)
    try:
        audit = await auditing.in_project(request, principal, "run.start", "run", start.run_id,
                                          project, {"kind": start.kind, "name": start.name})
        run, created = await write_or_429(request, request.app[STORE].start_run(
            start, now, audit=audit))
    except errors.ApiError as exc:
        if exc.status == 409 and body.startToken is not None:
            exc.extra["startTokenMatched"] = False  # provably not a repeat of our own start
        raise
    hub.publish_run(request.app, run)  # live: publish after commit
    return json_response(request, {**run_entry(run, project), "created": created},
                         status=201 if created else 200)


async def set_status(request: web.Request) -> web.Response:
    """Finish a run; 200 (also when repeated), 409 for a different terminal status."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, StatusBody)
    errors.require_no_nul(body.reason, "reason")
    run, project = await _writable_run(request, principal)
    reason = body.reason.strip()[:REASON_MAX_CHARS] if body.reason else None
    ranges = _dropped_ranges(body)
    now = now_ms()
    finished = body.finishedAtMs if body.finishedAtMs is not None else now
    if ranges is not None and run.status not in TERMINAL_STATUSES:
        run = await write_or_429(request, request.app[STORE].merge_run_config(
            run.run_id, {DROPPED_RANGES_KEY: ranges}, now))
    audit = await auditing.in_project(request, principal,
                                      STATUS_ACTIONS.get(body.status, "run.status"), "run",
                                      run.run_id, project, {"status": body.status})
    run, changed = await write_or_429(request, request.app[STORE].finish_run(
        run.run_id, body.status, reason or None, finished, now, audit=audit))
    hub.publish_run(request.app, run)  # live: publish after commit
    return json_response(request, {**run_entry(run, project), "changed": changed})


def _dropped_ranges(body: StatusBody) -> str | None:
    """``droppedStepRanges`` as compact JSON text (a config value); 400 when a range is reversed."""
    if not body.droppedStepRanges:
        return None
    for index, (first, last) in enumerate(body.droppedStepRanges):
        if first > last:
            raise errors.invalid(f"droppedStepRanges[{index}] has first > last",
                                 "droppedStepRanges")
    return orjson.dumps(body.droppedStepRanges).decode()


async def patch_config(request: web.Request) -> web.Response:
    """Merge the patch into the run's config and reply with the full merged config."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, ConfigBody)
    run, project = await _writable_run(request, principal)
    run = await write_or_429(request, request.app[STORE].merge_run_config(
        run.run_id, checked_config(body.config), now_ms()))
    return json_response(request, run_entry(run, project))


async def _writable_run(request: web.Request, principal: auth.Principal
                        ) -> tuple[Run, ProjectRef]:
    """The ``{runId}`` run (404 unknown) and its project, which the key must be able to write."""
    run_id = request.match_info["runId"]
    run = await request.app[STORE].get_run(run_id)
    if run is None:
        raise errors.not_found(f"run {run_id} was not found")
    project = await auth.resolve_project(request, principal, project_id=run.project_id)
    principal.require_any(WRITE_SCOPES, project)
    return run, project


def setup_routes(app: web.Application) -> None:
    """Register the run lifecycle, run read, runs table and run edit routes on app."""
    app.router.add_post("/api/v1/runs/resolve-target", resolve_target)
    app.router.add_post("/api/v1/runs/start", start_run)
    app.router.add_post("/api/v1/runs/{runId}/status", set_status)
    app.router.add_post("/api/v1/runs/{runId}/config", patch_config)
    runs_read.setup_routes(app)
    runs_table.setup_routes(app)
    runs_edit.setup_routes(app)
