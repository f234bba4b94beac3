"""The control plane's SQL shared by both backends: workspace, project and run columns, the
effective status, soft deletion, and the run-list query (filters, ordering and keyset
pagination, no OFFSET).

The text is standard SQL that SQLite and PostgreSQL both accept, with ``?`` placeholders (the
PostgreSQL store numbers them, :func:`numbered`). The one dialect difference, reading the
client's ``host`` from its JSON text, is passed in by the backend (:func:`table_columns`).

Rows are ordered by (sort expression, run_id) in one direction, and a page continues strictly
after the (value, run_id) of the previous page's last row, so pages are stable while runs are
being added. Soft-deleted runs are never listed. ``runName`` sorts missing names as the empty
string. A run whose stored status is ``running`` but whose last heartbeat is older than the
cutoff reads as ``lost``. ``search`` matches run id or name as a substring, ASCII letters
case-insensitively (as SQLite's ``LIKE``): both sides are folded with ``lower``, which folds
ASCII only in SQLite and under the "C" collation of the PostgreSQL columns.
"""

from __future__ import annotations

import functools
from typing import Any

from rundial_collector.store.control_base import Run, RunQuery, RunStart
from rundial_collector.store.control_rows import json_text, merged_config_json
from rundial_collector.store.run_edits_base import RunEdit

WS_COLUMNS = "workspace_id, slug, name, created_ms"
SELECT_WORKSPACE = f"SELECT {WS_COLUMNS} FROM workspaces WHERE slug = ? OR workspace_id = ?"
INSERT_WORKSPACE = f"INSERT INTO workspaces ({WS_COLUMNS}) VALUES (?, ?, ?, ?)"
INSERT_PROJECT = ("INSERT INTO projects (project_id, workspace_id, slug, name, created_ms) "
                  "VALUES (?, ?, ?, ?, ?)")
PROJECT_IN_WORKSPACE = "p.workspace_id = ? AND p.slug = ?"
PROJECT_BY_ID = "p.project_id = ?"
PROJECT_BY_SLUGS = "(w.slug = ? OR w.workspace_id = ?) AND (p.slug = ? OR p.project_id = ?)"
# The API-key columns control_rows.key_from_row decodes, in order.
KEY_COLUMNS = ("key_id, workspace_id, project_id, scopes, label, created_ms, expires_ms, "
               "revoked_ms")
KEY_BY_HASH = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?"
INSERT_KEY = (f"INSERT INTO api_keys ({KEY_COLUMNS}, key_hash) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
KEYS_OF_PROJECT = (f"SELECT {KEY_COLUMNS} FROM api_keys WHERE project_id = ? "
                   "ORDER BY created_ms, key_id")
KEY_IN_PROJECT = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ? AND project_id = ?"
REVOKE_KEY = ("UPDATE api_keys SET revoked_ms = COALESCE(revoked_ms, ?) "
              "WHERE key_id = ? AND project_id = ?")
_PROJECT_SELECT = (
    "SELECT p.project_id, p.slug, p.name, p.workspace_id, w.slug, w.name, p.created_ms, {count} "
    "FROM projects p JOIN workspaces w ON w.workspace_id = p.workspace_id")
SORT_EXPRESSIONS = {"runId": "run_id", "startedAtMs": "started_ms",
                    "updatedAtMs": "updated_ms", "runName": "COALESCE(name, '')"}
# The effective status; takes one parameter, the lost cutoff (ms).
STATUS = "CASE WHEN status = 'running' AND last_heartbeat_ms < ? THEN 'lost' ELSE status END"
RUN_COLUMNS = ("run_id, project_id, kind, name, run_group, job_type, tags, config, {status}, "
               "reason, started_ms, finished_ms, updated_ms, last_heartbeat_ms, client, "
               "(SELECT m.notes FROM run_meta m WHERE m.run_id = runs.run_id)")
# Soft-deleted runs (run edits) are invisible to every run read.
NOT_DELETED = ("NOT EXISTS (SELECT 1 FROM run_meta m WHERE m.run_id = runs.run_id "
               "AND m.deleted_ms IS NOT NULL)")
IS_DELETED = "SELECT 1 FROM run_meta WHERE run_id = ? AND deleted_ms IS NOT NULL"
_INSERT_RUN = ("INSERT INTO runs (run_id, project_id, kind, name, run_group, job_type, tags, "
              "config, status, started_ms, updated_ms, last_heartbeat_ms, client) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)")
_ATTACH_RUN = ("UPDATE runs SET status = 'running', finished_ms = NULL, reason = NULL, "
              "name = COALESCE(?, name), run_group = COALESCE(?, run_group), "
              "job_type = COALESCE(?, job_type), tags = ?, config = ?, started_ms = ?, "
              "updated_ms = ?, last_heartbeat_ms = ? WHERE run_id = ?")
_FINISH_RUN = ("UPDATE runs SET status = ?, reason = ?, finished_ms = ?, updated_ms = ? "
              "WHERE run_id = ?")
_MERGE_CONFIG = ("UPDATE runs SET config = ?, updated_ms = ?, last_heartbeat_ms = ? "
                "WHERE run_id = ?")
TOKEN_KNOWN = "SELECT 1 FROM run_start_tokens WHERE run_id = ? AND token = ?"
REMEMBER_TOKEN = ("INSERT INTO run_start_tokens (run_id, token) VALUES (?, ?) "
                  "ON CONFLICT DO NOTHING")
DELETE_EXPIRED_SESSIONS = "DELETE FROM ui_sessions WHERE expires_ms <= ?"
INSERT_SESSION = ("INSERT INTO ui_sessions (token_hash, kind, key_id, created_ms, expires_ms) "
                  "VALUES (?, ?, ?, ?, ?)")
DELETE_SESSION = "DELETE FROM ui_sessions WHERE token_hash = ?"
# A project's live run count and newest run update (list_projects).
_PROJECT_RUN_STATS = ("(SELECT COUNT(*) FROM runs WHERE runs.project_id = p.project_id "
                      f"AND {NOT_DELETED}), "
                      "(SELECT MAX(r.updated_ms) FROM runs r WHERE r.project_id = p.project_id)")


def key_columns(prefix: str = "") -> str:
    """:data:`KEY_COLUMNS`, each prefixed (``"k."``) for joins."""
    return ", ".join(prefix + column.strip() for column in KEY_COLUMNS.split(","))


# The key behind an unexpired UI session entry: parameters (token hash, kind, now ms).
SESSION_KEY = (f"SELECT {key_columns('k.')} FROM ui_sessions s "
               "JOIN api_keys k ON k.key_id = s.key_id "
               "WHERE s.token_hash = ? AND s.kind = ? AND s.expires_ms > ?")


def projects_sql(where: str, tail: str = "", count: bool = False) -> str:
    """Projects (:class:`Project` column order) matching ``where`` (over ``p``, the project,
    and ``w``, its workspace), then ``tail`` (ORDER BY/LIMIT); ``count`` fills in
    ``run_count`` and ``last_activity_ms``."""
    stats = _PROJECT_RUN_STATS if count else "0, NULL"
    return _PROJECT_SELECT.format(count=stats) + f" WHERE {where} {tail}"


def list_workspaces_sql(workspace_id: str | None, after_slug: str | None, limit: int
                        ) -> tuple[str, list[Any]]:
    """Workspaces after ``after_slug`` by slug (only ``workspace_id`` when not None)."""
    where, params = ["slug > ?"], [after_slug or ""]
    if workspace_id is not None:
        where.append("workspace_id = ?")
        params.append(workspace_id)
    sql = (f"SELECT {WS_COLUMNS} FROM workspaces WHERE {' AND '.join(where)} "
           "ORDER BY slug LIMIT ?")
    return sql, [*params, limit]


def find_projects_sql(slug: str, workspace_id: str | None, project_id: str | None
                      ) -> tuple[str, list[Any]]:
    """Projects with this slug (restricted when not None), at most 6, by workspace slug."""
    where, params = ["p.slug = ?"], [slug]
    for column, value in (("p.workspace_id", workspace_id), ("p.project_id", project_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return projects_sql(" AND ".join(where), "ORDER BY w.slug LIMIT 6"), params


def list_projects_sql(workspace_id: str, project_id: str | None, after_slug: str | None,
                      limit: int) -> tuple[str, list[Any]]:
    """A workspace's projects after ``after_slug`` by slug, with their run counts."""
    where, params = ["p.workspace_id = ? AND p.slug > ?"], [workspace_id, after_slug or ""]
    if project_id is not None:
        where.append("p.project_id = ?")
        params.append(project_id)
    return (projects_sql(" AND ".join(where), "ORDER BY p.slug LIMIT ?", count=True),
            [*params, limit])


Statement = tuple[str, tuple[Any, ...]]  # SQL with ? placeholders, and its parameters


def insert_run(start: RunStart, now_ms: int) -> Statement:
    """Create the run of ``start``: running, started at the client's recorded start when
    given, else now."""
    started_ms = now_ms if start.started_ms is None else start.started_ms
    return _INSERT_RUN, (start.run_id, start.project_id, start.kind, start.name, start.group,
                         start.job_type, json_text(list(start.tags)), json_text(start.config),
                         started_ms, now_ms, now_ms,
                         json_text(start.client) if start.client else None)


def attach_run(run: Run, start: RunStart, now_ms: int) -> Statement:
    """Attach (or, for a terminal run under ``must``, reopen): status back to running, config
    merged, tags unioned in order, name/group/jobType replaced only when given, the start time
    moved earlier only (to a client's recorded start)."""
    tags = list(dict.fromkeys([*run.tags, *start.tags]))
    started = run.started_ms if start.started_ms is None else min(run.started_ms, start.started_ms)
    return _ATTACH_RUN, (start.name, start.group, start.job_type, json_text(tags),
                         json_text({**run.config, **start.config}), started, now_ms, now_ms,
                         run.run_id)


def finish_run(run: Run, status: str, reason: str | None, finished_ms: int, now_ms: int
               ) -> Statement:
    """Set a terminal status (``updatedAtMs`` never moves back)."""
    return _FINISH_RUN, (status, reason, finished_ms, max(now_ms, run.updated_ms), run.run_id)


def merge_config(run: Run, patch: dict[str, Any], now_ms: int) -> Statement:
    """Merge ``patch`` into the config (:class:`StoreConflict` on a terminal run)."""
    return _MERGE_CONFIG, (merged_config_json(run, patch), now_ms, now_ms, run.run_id)


def edit_statements(run_id: str, edit: RunEdit, key_id: str, now_ms: int,
                    updated_ms: int) -> list[Statement]:
    """The statements (SQL, parameters) of a run edit, each changed field followed by its edit
    log row; ``updated_ms`` is the run's new ``updatedAtMs`` (never moved back)."""
    out: list[Statement] = []
    if edit.name is not None:
        out.append(("UPDATE runs SET name = ?, updated_ms = ? WHERE run_id = ?",
                    (edit.name, updated_ms, run_id)))
        out.append(_log(run_id, now_ms, key_id, "runName", edit.name))
    if edit.tags is not None:
        out.append(("UPDATE runs SET tags = ?, updated_ms = ? WHERE run_id = ?",
                    (json_text(list(edit.tags)), updated_ms, run_id)))
        out.append(_log(run_id, now_ms, key_id, "tags", list(edit.tags)))
    if edit.notes is not None:
        out.append(("INSERT INTO run_meta (run_id, notes) VALUES (?, ?) "
                    "ON CONFLICT (run_id) DO UPDATE SET notes = excluded.notes",
                    (run_id, edit.notes)))
        out.append(_log(run_id, now_ms, key_id, "notes", edit.notes))
    return out


def delete_statements(run_id: str, key_id: str, now_ms: int) -> list[Statement]:
    """The statements (SQL, parameters) of a soft delete and its edit log row."""
    return [("INSERT INTO run_meta (run_id, deleted_ms) VALUES (?, ?) "
             "ON CONFLICT (run_id) DO UPDATE SET deleted_ms = excluded.deleted_ms",
             (run_id, now_ms)),
            _log(run_id, now_ms, key_id, "deleted", True)]


def _log(run_id: str, now_ms: int, key_id: str, field: str, value: Any) -> Statement:
    return ("INSERT INTO run_edits (run_id, edited_ms, key_id, field, value) "
            "VALUES (?, ?, ?, ?, ?)", (run_id, now_ms, key_id, field, json_text(value)))


def select_run_sql(status_expr: str = "status") -> str:
    """One visible run by id: parameters (those of ``status_expr``, run id)."""
    return (f"SELECT {RUN_COLUMNS.format(status=status_expr)} FROM runs "
            f"WHERE run_id = ? AND {NOT_DELETED}")


def table_columns(host_expr: str) -> str:
    """The runs-table columns (:class:`TableRow` order); ``host_expr`` reads the client's
    ``host`` when it is a JSON string, else NULL (dialect-specific)."""
    return ("run_id, name, {status}, reason, kind, run_group, job_type, " + host_expr
            + ", tags, started_ms, finished_ms, updated_ms, config")


def page_sql(query: RunQuery, cutoff_ms: int, columns: str = RUN_COLUMNS
             ) -> tuple[str, list[Any]]:
    """The SQL and parameters of one page: at most ``query.limit + 1`` rows of ``columns``
    (:data:`RUN_COLUMNS` or :func:`table_columns`); the extra row says another page exists."""
    where, params = _filters(query, cutoff_ms)
    expr = SORT_EXPRESSIONS[query.order_by]
    direction = "ASC" if query.order == "asc" else "DESC"
    sql = (f"SELECT {columns.format(status=STATUS)} FROM runs WHERE {' AND '.join(where)} "
           f"ORDER BY {expr} {direction}, run_id {direction} LIMIT ?")
    return sql, [cutoff_ms, *params, query.limit + 1]


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1, $2, ...`` (PostgreSQL's form).
    Raises ValueError for a ``?`` inside a string literal (never written here). Cached: the
    statements are a small fixed set (pages vary only by their filters)."""
    out: list[str] = []
    count, quoted = 0, False
    for char in sql:
        if char == "'":
            quoted = not quoted
        elif char == "?":
            if quoted:
                raise ValueError("a ? inside a string literal is not a placeholder")
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


def _filters(query: RunQuery, cutoff_ms: int) -> tuple[list[str], list[Any]]:
    where = ["project_id = ?", NOT_DELETED]
    params: list[Any] = [query.project_id]
    if query.after is not None:
        expr = SORT_EXPRESSIONS[query.order_by]
        op = ">" if query.order == "asc" else "<"
        value, run_id = query.after
        where.append(f"({expr} {op} ? OR ({expr} = ? AND run_id {op} ?))")
        params += [value, value, run_id]
    if query.search:
        pattern = "%" + _escape_like(query.search.translate(_ASCII_LOWER)) + "%"
        where.append("(lower(run_id) LIKE ? ESCAPE '\\' "
                     "OR lower(COALESCE(name, '')) LIKE ? ESCAPE '\\')")
        params += [pattern, pattern]
    if query.statuses:
        marks = ", ".join("?" for _ in query.statuses)
        where.append(f"{STATUS} IN ({marks})")
        params += [cutoff_ms, *sorted(query.statuses)]
    return where, params


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
