"""The accounts store interface: agents, their API keys, users and the audit log (#17.2).

* An agent is a named, workspace-scoped identity; its API keys are ordinary ``api_keys`` rows
  linked to it, so every key check (revocation, expiry, the auth cache) applies unchanged.
  Revoking an agent revokes all of its keys in the same transaction.
* A user has an email and a password hash (never the password) and a backing API key whose
  secret nobody holds: a credential login creates a session bound to that key, so sessions,
  scopes and revocation work as for UI sessions. A user is disabled by revoking that key (a
  revoked key is never valid again), which also deletes the user's sessions; enabling gives the
  user a fresh backing key.
* Audit events are append-only: the store only inserts and reads them (both backends also
  refuse UPDATE and DELETE on the table with a trigger). A change made by an accounts method
  and its audit event commit in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from rundial_collector.store.control_base import ApiKey, NewApiKey

ActorKind = Literal["user", "api_key", "agent", "system"]
ACTOR_KINDS: frozenset[str] = frozenset({"user", "api_key", "agent", "system"})


@dataclass(frozen=True)
class Agent:
    agent_id: str
    workspace_id: str
    name: str
    created_ms: int
    updated_ms: int
    revoked_ms: int | None = None

    @property
    def status(self) -> str:
        return "active" if self.revoked_ms is None else "revoked"


@dataclass(frozen=True)
class User:
    user_id: str
    email: str  # stored lower-cased
    password_hash: str  # web.passwords format; never a password
    key_id: str  # the backing key a login session is bound to
    created_ms: int
    disabled_ms: int | None = None  # when the backing key was revoked (read from the store)
    key_scopes: tuple[str, ...] = ()  # the backing key's scopes (read from the store)

    @property
    def status(self) -> str:
        return "active" if self.disabled_ms is None else "disabled"


@dataclass(frozen=True)
class KeyOwner:
    """Who a key belongs to, when not a plain API key: an agent or a user."""

    kind: Literal["agent", "user"]
    owner_id: str
    email: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One audit entry. ``details`` is a flat JSON-able mapping that never holds secrets.
    ``seq`` is assigned by the store (0 in an event not yet stored)."""

    created_ms: int
    workspace_id: str | None  # None: not tied to a workspace (logins, bootstrap)
    actor_kind: str
    actor_id: str | None
    action: str
    target_kind: str
    target_id: str
    agent_id: str | None = None
    project_id: str | None = None
    details: str = "{}"  # JSON object text
    seq: int = 0


@dataclass(frozen=True)
class AuditQuery:
    """Newest first. ``include_global`` adds events without a workspace."""

    workspace_id: str
    limit: int
    before_seq: int | None = None
    agent_id: str | None = None
    actor_kind: str | None = None
    include_global: bool = False


class AccountStore(Protocol):
    """Agents, agent keys, users and the audit log, on both backends."""

    async def create_agent(self, agent: Agent, audit: AuditEvent) -> Agent:
        """Insert ``agent``; :class:`StoreConflict` when an active agent of the workspace has
        the same name."""
        ...

    async def get_agent(self, workspace_id: str, agent_id: str) -> Agent | None: ...

    async def list_agents(self, workspace_id: str, status: str | None, after_id: str | None,
                          limit: int) -> list[Agent]:
        """Agents of the workspace ordered by id, after ``after_id``; ``status`` filters
        ``active``/``revoked``."""
        ...

    async def revoke_agent(self, workspace_id: str, agent_id: str, now_ms: int,
                           audit: AuditEvent) -> tuple[Agent, list[str]]:
        """Revoke the agent and every key of it (idempotent); returns the agent and the ids of
        the keys revoked now. :class:`StoreNotFound` when unknown in the workspace."""
        ...

    async def create_agent_key(self, agent_id: str, key: NewApiKey, audit: AuditEvent
                               ) -> ApiKey:
        """Store ``key`` linked to the agent; :class:`StoreConflict` when the agent is
        revoked, :class:`StoreNotFound` when unknown."""
        ...

    async def list_agent_keys(self, agent_id: str, after_id: str | None, limit: int
                              ) -> list[ApiKey]:
        """The agent's keys ordered by key id, revoked ones included."""
        ...

    async def key_owner(self, key_id: str) -> KeyOwner | None:
        """The agent or user a key belongs to; None for a plain API key."""
        ...

    async def create_user(self, user: User, key: NewApiKey, audit: AuditEvent, *,
                          only_if_first: bool = False, exist_ok: bool = False) -> User | None:
        """Insert the user and its backing key. With ``only_if_first``: atomically, only when
        no user exists yet (None otherwise; collectors racing on one database create one).
        An existing email is returned with ``exist_ok``, else :class:`StoreConflict`."""
        ...

    async def find_user(self, email: str) -> User | None:
        """The user with this email (compared lower-cased)."""
        ...

    async def get_user(self, user_id: str) -> User | None: ...

    async def list_users(self, after_email: str | None, limit: int) -> list[User]:
        """Users ordered by email, after ``after_email``; disabled ones included."""
        ...

    async def disable_user(self, user_id: str, now_ms: int, audit: AuditEvent) -> User:
        """Revoke the user's backing key and delete its sessions; idempotent (the audit event
        is written only when the user was active). :class:`StoreNotFound` when unknown."""
        ...

    async def enable_user(self, user_id: str, key: NewApiKey, audit: AuditEvent) -> User:
        """Give a disabled user the fresh backing key ``key`` (its old key stays revoked, its
        old sessions gone); an active user is returned unchanged, with no audit event and
        ``key`` not stored. :class:`StoreNotFound` when unknown."""
        ...

    async def set_user_password(self, user_id: str, password_hash: str, audit: AuditEvent
                                ) -> User:
        """Store a new password hash and delete the user's sessions (every login ends).
        :class:`StoreNotFound` when unknown."""
        ...

    async def append_audit(self, event: AuditEvent) -> None:
        """Append one event (its own transaction)."""
        ...

    async def list_audit(self, query: AuditQuery) -> list[AuditEvent]: ...
