"""Run edits from the web UI (docs/protocol.md §4.9): rename, tags, notes and soft delete.

* ``PATCH /api/v1/workspaces/{ws}/projects/{proj}/runs/{runId}`` with any of ``runName``
  (1-:data:`NAME_MAX_CHARS` characters after trimming), ``tags`` (at most :data:`TAGS_MAX`
  strings of 1-:data:`TAG_MAX_CHARS` characters; duplicates dropped, order kept) and
  ``notes`` (at most :data:`NOTES_MAX_BYTES` bytes of UTF-8; "" clears them). Needs a write
  scope on the project (the scopes that may start and finish its runs). Replies with the run
  entry (as ``runs/{runId}``, ``notes`` included).
* ``DELETE`` on the same path soft-deletes the run; needs ``admin`` on the project.

Bad input is a 400 naming the field (NUL in ``runName`` or ``notes`` too, on every backend:
PostgreSQL text cannot hold one; tags are JSON text, where it is kept escaped); an unknown
run, a deleted run, or a run of another project is a 404. The session cookie works (the middleware checks ``Origin``), as do keys.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from rundial_collector.routes.runs_read import RUNS_PATH, run_entry
from rundial_collector.store.run_edits_base import RunEdit
from rundial_collector.web import auditing, auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ADMIN, WRITE_SCOPES, ProjectRef
from rundial_collector.web.jsonbody import decode_body, split_validation_error
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms, write_or_429

NAME_MAX_CHARS = 512
TAG_MAX_CHARS = 64
TAGS_MAX = 64
NOTES_MAX_BYTES = 65_536
_UNSET: Any = msgspec.UNSET


class EditBody(msgspec.Struct):
    runName: str | msgspec.UnsetType = _UNSET
    tags: list[str] | msgspec.UnsetType = _UNSET
    notes: str | msgspec.UnsetType = _UNSET


async def edit_run(request: web.Request) -> web.Response:
    """Apply the edit; reply with the updated run entry."""
    principal, project = await _caller(request, WRITE_SCOPES)
    edit = checked_edit(_edit_body(await decode_body(request, dict[str, Any])))
    run_id = request.match_info["runId"]
    fields = [name for name, value in (("runName", edit.name), ("tags", edit.tags),
                                       ("notes", edit.notes)) if value is not None]
    audit = await auditing.in_project(request, principal, "run.edit", "run", run_id, project,
                                      {"fields": fields})
    run = await write_or_429(request, request.app[STORE].edit_run(
        project.project_id, run_id, edit, principal.key_id, now_ms(), audit=audit))
    return json_response(request, run_entry(run, project))


async def delete_run(request: web.Request) -> web.Response:
    """Soft-delete the run; ``{"runId", "deleted": true}``."""
    principal, project = await _caller(request, frozenset({ADMIN}))
    run_id = request.match_info["runId"]
    audit = await auditing.in_project(request, principal, "run.delete", "run", run_id, project)
    await write_or_429(request, request.app[STORE].delete_run(
        project.project_id, run_id, principal.key_id, now_ms(), audit=audit))
    return json_response(request, {"runId": run_id, "deleted": True})


async def _caller(request: web.Request, scopes: frozenset[str]
                  ) -> tuple[auth.Principal, ProjectRef]:
    principal = await auth.authenticate(request)
    project = await auth.resolve_project(request, principal, workspace=request.match_info["ws"],
                                         project=request.match_info["proj"])
    principal.require_any(scopes, project)
    return principal, project


def _edit_body(raw: dict[str, Any]) -> EditBody:
    """The body's fields typed; 400 naming an unknown or mistyped field."""
    for name in raw:
        if name not in EditBody.__struct_fields__:
            raise errors.invalid(f"unknown field {name!r}; give runName, tags or notes", name)
    try:
        return msgspec.convert(raw, EditBody)
    except msgspec.ValidationError as exc:
        raise errors.invalid(*split_validation_error(str(exc))) from None


def checked_edit(body: EditBody) -> RunEdit:
    """The edit a body asks for; 400 naming the field when a value breaks a limit."""
    name = None if isinstance(body.runName, msgspec.UnsetType) else _name(body.runName)
    tags = None if isinstance(body.tags, msgspec.UnsetType) else _tags(body.tags)
    notes = None if isinstance(body.notes, msgspec.UnsetType) else _notes(body.notes)
    if name is None and tags is None and notes is None:
        raise errors.invalid("give at least one of runName, tags, notes")
    return RunEdit(name, tags, notes)


def _name(raw: str) -> str:
    errors.require_no_nul(raw, "runName")
    name = raw.strip()
    if not 1 <= len(name) <= NAME_MAX_CHARS:
        raise errors.invalid(f"runName must be 1-{NAME_MAX_CHARS} characters (not blank)",
                             "runName")
    return name


def _tags(raw: list[str]) -> tuple[str, ...]:
    for i, tag in enumerate(raw):
        if not 1 <= len(tag.strip()) <= TAG_MAX_CHARS:
            raise errors.invalid(f"each tag must be 1-{TAG_MAX_CHARS} characters (not blank)",
                                 f"tags[{i}]")
    tags = tuple(dict.fromkeys(tag.strip() for tag in raw))
    if len(tags) > TAGS_MAX:
        raise errors.invalid(f"at most {TAGS_MAX} tags", "tags")
    return tags


def _notes(raw: str) -> str:
    errors.require_no_nul(raw, "notes")
    if len(raw.encode("utf-8", "surrogatepass")) > NOTES_MAX_BYTES:
        raise errors.invalid(f"notes must be at most {NOTES_MAX_BYTES} bytes of UTF-8", "notes")
    return raw


def setup_routes(app: web.Application) -> None:
    """Register the run edit routes."""
    app.router.add_patch(RUNS_PATH + "/{runId}", edit_run)
    app.router.add_delete(RUNS_PATH + "/{runId}", delete_run)
