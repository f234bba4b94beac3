"""Backend-neutral control-plane logic shared by the SQLite and PostgreSQL stores: decoding rows
into the dataclasses of :mod:`.control_base`, and the decisions of the run lifecycle (the resume
matrix, terminal statuses, config merges) taken on a run the backend has read (and locked).

Nothing here touches a database; each backend runs its own SQL around these functions, so both
answer the same calls with the same results and the same exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

import orjson

from rundial_collector.store.control_base import (TERMINAL_STATUSES, ApiKey, NewApiKey, Run,
                                                  RunStart, StoreConflict, StoreNotFound)

StartAction = Literal["create", "unchanged", "attach"]


def key_from_row(row: Iterable[Any]) -> ApiKey:
    """An :class:`ApiKey` from a row selected with :func:`.control_sql.key_columns`."""
    key_id, ws, prj, scopes, label, created, expires, revoked = row
    return ApiKey(key_id, ws, prj, tuple(orjson.loads(scopes)), label, created, expires, revoked)


def key_insert_values(key: NewApiKey, now_ms: int) -> tuple[Any, ...]:
    """The parameters of :data:`.control_sql.INSERT_KEY` for ``key`` created at ``now_ms``."""
    return (key.key_id, key.workspace_id, key.project_id, json_text(list(key.scopes)),
            key.label, now_ms, key.expires_ms, None, key.key_hash)


def key_in_project(row: Iterable[Any] | None, key_id: str) -> ApiKey:
    """The key of ``row``; :class:`StoreNotFound` when None (not bound to the project)."""
    if row is None:
        raise StoreNotFound(f"API key {key_id} was not found in this project", "keyId")
    return key_from_row(row)


def json_text(value: Any) -> str:
    """``value`` as the JSON text both backends store (orjson, compact)."""
    return orjson.dumps(value).decode()


def run_from_row(row: Iterable[Any]) -> Run:
    """A :class:`Run` from a row selected with the run columns of :mod:`.control_sql`."""
    (run_id, project_id, kind, name, group, job_type, tags, config, status, reason, started,
     finished, updated, heartbeat, client, notes) = row
    return Run(run_id, project_id, kind, name, group, job_type, tuple(orjson.loads(tags)),
               orjson.loads(config), status, reason, started, finished, updated, heartbeat,
               orjson.loads(client) if client else None, notes or "")


def start_action(deleted: bool, existing: Run | None, start: RunStart,
                 token_known: bool) -> StartAction:
    """The resume matrix: what ``start`` does to the run stored under its id.

    ``create`` a new run, return the run ``unchanged`` (a repeat of this client's own start,
    recognised by its token), or ``attach`` (reopening a terminal run under ``must``). Raises
    :class:`StoreConflict` (a deleted id, another project's id, ``never`` on an existing run,
    ``allow`` on a terminal run) or :class:`StoreNotFound` (``must`` on an unknown id).
    """
    if deleted:  # never revived: docs/protocol.md §4.9
        raise StoreConflict(f"run {start.run_id} was deleted; its id cannot be used again",
                            "runId")
    if existing is None:
        if start.resume == "must":
            raise StoreNotFound(f"run {start.run_id} does not exist (resume=must)", "runId")
        return "create"
    if existing.project_id != start.project_id:
        raise StoreConflict(f"run id {start.run_id} belongs to another project", "runId")
    if start.start_token is not None and token_known:
        return "unchanged"
    if start.resume == "never":
        raise StoreConflict(f"run {start.run_id} already exists; start it with resume='allow' "
                            "or 'must' to attach", "runId")
    if start.resume == "allow" and existing.status in TERMINAL_STATUSES:
        raise StoreConflict(f"run {start.run_id} is {existing.status}; resume='allow' does not "
                            "reopen finished runs (use resume='must')", "runId")
    return "attach"


def finish_changes(run: Run, status: str) -> bool:
    """Whether finishing ``run`` with ``status`` changes it: False when it already has that
    status; :class:`StoreConflict` when it has another terminal status."""
    if run.status == status:
        return False
    if run.status in TERMINAL_STATUSES:
        raise StoreConflict(f"run {run.run_id} is already {run.status}; it cannot become "
                            f"{status}", "status")
    return True


def merged_config_json(run: Run, patch: dict[str, Any]) -> str:
    """The config after merging ``patch``; :class:`StoreConflict` on a terminal run."""
    if run.status in TERMINAL_STATUSES:
        raise StoreConflict(f"run {run.run_id} is {run.status}; its config is frozen", "runId")
    return json_text({**run.config, **patch})


def found_run(run: Run | None, run_id: str) -> Run:
    """``run``, or :class:`StoreNotFound` when it is None (unknown or deleted)."""
    if run is None:
        raise StoreNotFound(f"run {run_id} was not found", "runId")
    return run


def visible_in_project(run: Run | None, project_id: str, run_id: str) -> Run:
    """``run`` when it exists, is not deleted and belongs to ``project_id``; else
    :class:`StoreNotFound` (what run edits answer for every other case)."""
    if run is None or run.project_id != project_id:
        raise StoreNotFound(f"run {run_id} was not found in this project", "runId")
    return run


def in_asked_order(runs: Sequence[Run], run_ids: Sequence[str], project_id: str) -> list[Run]:
    """The runs of ``project_id`` among ``runs``, in the order of ``run_ids`` (repeats kept)."""
    by_id = {run.run_id: run for run in runs if run.project_id == project_id}
    return [by_id[run_id] for run_id in run_ids if run_id in by_id]
