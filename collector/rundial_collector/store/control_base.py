"""The control-plane store interface: workspaces, projects, API keys and runs.

Every method is async and backend-neutral (no SQL leaks out). Failures a handler must turn into
an HTTP status are raised as :class:`StoreConflict` (409) or :class:`StoreNotFound` (404); the
store never raises HTTP errors itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from rundial_collector.store.accounts_base import AuditEvent

RunKind = Literal["training", "agent", "eval"]
ResumeMode = Literal["never", "allow", "must"]
TerminalStatus = Literal["completed", "failed", "aborted", "killed"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "aborted", "killed"})
RUN_STATUSES: frozenset[str] = TERMINAL_STATUSES | {"running", "lost"}
# A config value: a scalar, or a list (nested lists allowed) of scalars; handlers check the
# elements and depth (docs/protocol.md §4.5), msgspec only the outer type.
ConfigValue = str | int | float | bool | None | list[Any]


class StoreConflict(Exception):
    """The operation contradicts stored state (duplicate slug, resume rule, terminal run)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StoreNotFound(Exception):
    """A referenced workspace, project, key or run does not exist."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Workspace:
    workspace_id: str
    slug: str
    name: str
    created_ms: int


@dataclass(frozen=True)
class Project:
    project_id: str
    slug: str
    name: str
    workspace_id: str
    workspace_slug: str
    workspace_name: str
    created_ms: int
    run_count: int = 0
    last_activity_ms: int | None = None  # newest run update; filled in by list_projects only


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret). ``workspace_id``/``project_id`` None = unrestricted."""

    key_id: str
    workspace_id: str | None
    project_id: str | None
    scopes: tuple[str, ...]
    label: str | None
    created_ms: int
    expires_ms: int | None
    revoked_ms: int | None


@dataclass(frozen=True)
class NewApiKey:
    """What to insert for a new key; ``key_hash`` is the sha256 hex of the secret."""

    key_id: str
    key_hash: str
    workspace_id: str | None
    project_id: str | None
    scopes: tuple[str, ...]
    label: str | None = None
    expires_ms: int | None = None


@dataclass(frozen=True)
class Run:
    run_id: str
    project_id: str
    kind: str
    name: str | None
    group: str | None
    job_type: str | None
    tags: tuple[str, ...]
    config: dict[str, Any]
    status: str  # stored status; "lost" is derived at read time by the store
    reason: str | None
    started_ms: int
    finished_ms: int | None
    updated_ms: int
    last_heartbeat_ms: int | None
    client: dict[str, Any] | None = None
    notes: str = ""  # set through the UI's run edits (docs/protocol.md §4.9)


@dataclass(frozen=True)
class RunStart:
    """A validated ``runs/start`` request, target already resolved."""

    run_id: str
    run_id_given: bool
    project_id: str
    kind: str
    resume: str
    name: str | None = None
    group: str | None = None
    job_type: str | None = None
    tags: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] | None = None
    started_ms: int | None = None  # the client's recorded start, already bounded by the handler
    start_token: str | None = None  # the client's token: a repeat of its own start is idempotent


@dataclass(frozen=True)
class RunQuery:
    """Keyset-paged run listing. ``after`` is the (sort value, run id) of the last row seen."""

    project_id: str
    limit: int
    order: Literal["asc", "desc"]
    order_by: Literal["runId", "startedAtMs", "updatedAtMs", "runName"]
    after: tuple[Any, str] | None = None
    search: str | None = None
    statuses: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TableRow:
    """A run as the runs table lists it (docs/protocol.md §4.10); ``tags_json`` and
    ``config_json`` are the stored JSON texts (an array and an object), passed through."""

    run_id: str
    name: str | None
    status: str  # effective ("lost" derived)
    reason: str | None
    kind: str
    group: str | None
    job_type: str | None
    host: str | None  # the client's ``host`` string from runs/start, when it sent one
    tags_json: str
    started_ms: int
    finished_ms: int | None
    updated_ms: int
    config_json: str


class ControlStore(Protocol):
    """Workspaces, projects, API keys and runs."""

    # -- workspaces and projects --------------------------------------------------------------
    async def create_workspace(self, slug: str, name: str, *, exist_ok: bool = False
                               ) -> Workspace:
        """Insert a workspace; :class:`StoreConflict` when the slug exists (unless exist_ok)."""
        ...

    async def get_workspace(self, ref: str) -> Workspace | None:
        """The workspace with this slug or ``ws_`` id."""
        ...

    async def list_workspaces(self, workspace_id: str | None, after_slug: str | None,
                              limit: int) -> list[Workspace]:
        """Workspaces ordered by slug (only ``workspace_id`` when not None)."""
        ...

    async def create_project(self, workspace_id: str, slug: str, name: str, *,
                             exist_ok: bool = False) -> Project:
        """Insert a project; :class:`StoreConflict` when the slug exists in the workspace."""
        ...

    async def get_project(self, project_id: str) -> Project | None:
        """The project with this ``prj_`` id."""
        ...

    async def get_project_by_slugs(self, workspace: str, project: str) -> Project | None:
        """Workspace slug or id + project slug or id."""
        ...

    async def find_projects_by_slug(self, slug: str, workspace_id: str | None,
                                    project_id: str | None) -> list[Project]:
        """Projects with this slug, restricted to a workspace/project when not None."""
        ...

    async def list_projects(self, workspace_id: str, project_id: str | None,
                            after_slug: str | None, limit: int) -> list[Project]:
        """Projects of a workspace ordered by slug, with ``run_count`` filled in."""
        ...

    # -- API keys -------------------------------------------------------------------------------
    async def create_api_key(self, key: NewApiKey, *, exist_ok: bool = False,
                             audit: AuditEvent | None = None) -> ApiKey:
        """Store a key (by hash). With ``exist_ok`` an existing hash is returned unchanged.
        ``audit`` (here and below) is appended in the same transaction, only when the call
        changed something (a key inserted or revoked now, a run created, finished, edited or
        deleted)."""
        ...

    async def create_first_api_key(self, key: NewApiKey) -> ApiKey | None:
        """Store ``key`` only when no API key exists at all, atomically (also across
        collectors sharing one database); None when a key already existed (nothing stored).
        Bootstrap uses it so that two collectors starting together mint one admin key."""
        ...

    async def find_api_key(self, key_hash: str) -> ApiKey | None:
        """The key with this secret hash, revoked or expired ones included."""
        ...

    async def count_api_keys(self) -> int:
        """How many keys exist (revoked ones included)."""
        ...

    async def list_api_keys(self, project_id: str) -> list[ApiKey]:
        """Keys bound to this project, oldest first."""
        ...

    async def revoke_api_key(self, project_id: str, key_id: str, now_ms: int, *,
                             audit: AuditEvent | None = None) -> ApiKey:
        """Revoke (idempotent); :class:`StoreNotFound` if the key is not bound to the project."""
        ...

    # -- runs ---------------------------------------------------------------------------------
    async def start_run(self, start: RunStart, now_ms: int, *, audit: AuditEvent | None = None
                        ) -> tuple[Run, bool]:
        """Apply the resume matrix atomically; returns (run, created).

        Raises :class:`StoreConflict` (exists under ``never``, terminal under ``allow``, run id
        of another project) or :class:`StoreNotFound` (``must`` on an unknown id).
        """
        ...

    async def get_run(self, run_id: str) -> Run | None:
        """The run with this id, in any project."""
        ...

    async def record_heartbeat(self, project_id: str, run_id: str, now_ms: int) -> None:
        """The run's worker is alive: set ``lastHeartbeatMs``/``updatedAtMs`` (a lost run
        reads ``running`` again). A run id unknown in ``project_id`` is ignored."""
        ...

    async def finish_run(self, run_id: str, status: str, reason: str | None,
                         finished_ms: int, now_ms: int, *, audit: AuditEvent | None = None
                         ) -> tuple[Run, bool]:
        """Set a terminal status; returns (run, changed). Same status again is a no-op;
        another terminal status raises :class:`StoreConflict`; unknown id :class:`StoreNotFound`.
        """
        ...

    async def merge_run_config(self, run_id: str, patch: dict[str, Any], now_ms: int) -> Run:
        """Merge ``patch`` into the config; :class:`StoreConflict` on a terminal run."""
        ...

    async def query_runs(self, query: RunQuery, now_ms: int) -> tuple[list[Run], bool]:
        """One page of runs and whether more exist."""
        ...

    async def query_table_rows(self, query: RunQuery, now_ms: int
                               ) -> tuple[list[TableRow], bool]:
        """Like :meth:`query_runs` (same order, filters and keyset), as :class:`TableRow`."""
        ...

    async def ping(self) -> None:
        """A trivial read; raises when the database is unusable."""
        ...
