"""API-key authentication, scopes and project resolution (docs/protocol.md §1).

* :func:`authenticate` accepts ``Authorization: Bearer <key>`` or, when that header is absent,
  the UI session cookie or the credential-login cookie ``rd_session`` (each bound to the key
  it was made from; a user's is the user's backing key); a missing, unknown,
  revoked or expired key is a 401. Look-ups are cached by the key's sha256 for
  :data:`CACHE_TTL_SECONDS`, so a revocation made by another process is visible within that TTL
  (a revocation through this process clears the cache at once, and at once calls the
  listeners registered with :func:`on_revocation` for that key: open event streams end).
  ``rd_session`` look-ups are never cached (one indexed store read per request): disabling a
  user or changing its password, on any collector or with ``rundial-collector users``,
  refuses its sessions from the next request on, on every collector.
* :class:`Principal` answers scope questions; ``require`` raises 403.
* :func:`resolve_project` turns a ``prj_`` id, a project slug, or workspace + project slugs into
  a :class:`ProjectRef` (404 unknown, 409 ambiguous slug). It does not check scopes.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from rundial_collector.store.control_base import ApiKey, Project
from rundial_collector.store.errors import has_nul
from rundial_collector.web import browser, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.ttlcache import TTLCache

CACHE_TTL_SECONDS = 5.0
ORG_ID = "org_local"  # one organisation per collector (v1 responses require an orgId)
ADMIN = "admin"
WRITE_SCOPES = frozenset({"metrics:write", "logs:write", "traces:write", "evals:write",
                          "artifacts:write"})
READ_SCOPES = frozenset({"project:read", "stream:read"})
KNOWN_SCOPES = WRITE_SCOPES | READ_SCOPES | {ADMIN}
# CLI aliases (v1 doc §8.7), accepted on key creation and stored canonically.
SCOPE_ALIASES = {"ingest:metrics": "metrics:write", "ingest:logs": "logs:write",
                 "ingest:traces": "traces:write", "ingest:evals": "evals:write",
                 "ingest:artifacts": "artifacts:write", "query:read": "project:read"}


@dataclass(frozen=True)
class ProjectRef:
    project_id: str
    project_slug: str
    workspace_id: str
    workspace_slug: str


@dataclass(frozen=True)
class Principal:
    """The caller behind an API key. ``workspace_id``/``project_id`` None = unrestricted."""

    key_id: str
    workspace_id: str | None  # None = every workspace (global admin / bootstrap key)
    project_id: str | None  # None = every project of its workspace
    scopes: frozenset[str]

    @property
    def is_global_admin(self) -> bool:
        return self.workspace_id is None and ADMIN in self.scopes

    def has_scope(self, scope: str) -> bool:
        """True when the key holds ``scope`` or ``admin`` (which implies every scope)."""
        return scope in self.scopes or ADMIN in self.scopes

    def sees_workspace(self, workspace_id: str) -> bool:
        return self.workspace_id is None or self.workspace_id == workspace_id

    def sees_project(self, project: ProjectRef) -> bool:
        return self.sees_workspace(project.workspace_id) and (
            self.project_id is None or self.project_id == project.project_id)

    def allows(self, scope: str, project: ProjectRef) -> bool:
        """True when the key may use ``scope`` on ``project``."""
        return self.sees_project(project) and self.has_scope(scope)

    def allows_any(self, scopes: frozenset[str], project: ProjectRef) -> bool:
        return any(self.allows(scope, project) for scope in scopes)

    def require(self, scope: str, project: ProjectRef) -> None:
        """Raise 403 ``FORBIDDEN`` unless :meth:`allows`."""
        self.require_any(frozenset({scope}), project)

    def require_any(self, scopes: frozenset[str], project: ProjectRef) -> None:
        """Raise 403 unless the key holds at least one of ``scopes`` on ``project``."""
        if not self.sees_project(project):
            raise errors.forbidden(f"this API key may not access project "
                                   f"{project.workspace_slug}/{project.project_slug}")
        if not any(self.has_scope(scope) for scope in scopes):
            raise errors.forbidden(f"this API key lacks the {' or '.join(sorted(scopes))} scope "
                                   f"on {project.workspace_slug}/{project.project_slug}")

    def require_workspace_admin(self, workspace_id: str, workspace_slug: str) -> None:
        """Raise 403 unless the key is an admin of the whole workspace."""
        if not (self.sees_workspace(workspace_id) and self.project_id is None
                and ADMIN in self.scopes):
            raise errors.forbidden(f"the admin scope on workspace {workspace_slug} is required")


class _Caches:
    """Per-app caches: key hash -> Principal (valid keys only), (key id, ref) -> ProjectRef."""

    def __init__(self) -> None:
        self.keys: TTLCache[str, Principal] = TTLCache(CACHE_TTL_SECONDS)
        self.projects: TTLCache[tuple[str, ...], ProjectRef] = TTLCache(CACHE_TTL_SECONDS)
        self.revocation_listeners: dict[str, set[Callable[[], object]]] = {}


AUTH_CACHES = web.AppKey("rundial_auth_caches", _Caches)
_FALLBACK = _Caches()


def install(app: web.Application) -> None:
    """Give ``app`` its own caches (call before the app starts)."""
    app[AUTH_CACHES] = _Caches()


def forget_keys(app: web.Application, revoked_key_id: str | None = None) -> None:
    """Drop cached key look-ups (after a revocation in this process), then call every listener
    registered for ``revoked_key_id`` (synchronously, before the revocation is answered)."""
    caches = _caches(app)
    caches.keys.clear()
    for listener in list(caches.revocation_listeners.get(revoked_key_id or "", ())):
        listener()


@contextmanager
def on_revocation(app: web.Application, key_id: str, listener: Callable[[], object]
                  ) -> Iterator[None]:
    """Within the block, ``listener()`` is called when ``key_id`` is revoked in this process."""
    registry = _caches(app).revocation_listeners
    registry.setdefault(key_id, set()).add(listener)
    try:
        yield
    finally:
        listeners = registry.get(key_id, set())
        listeners.discard(listener)
        if not listeners:
            registry.pop(key_id, None)


def _caches(app: web.Application) -> _Caches:
    return app.get(AUTH_CACHES) or _FALLBACK


def new_key_secret() -> str:
    """A fresh API key secret: ``rdk_`` + 43 url-safe characters (256 bits)."""
    return "rdk_" + secrets.token_urlsafe(32)


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


def hash_key(secret: str) -> str:
    """The stored form of an API key: its sha256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def principal_of(key: ApiKey) -> Principal:
    return Principal(key.key_id, key.workspace_id, key.project_id, frozenset(key.scopes))


async def authenticate(request: web.Request) -> Principal:
    """The principal of the bearer key or, without an ``Authorization`` header, of the UI
    session cookie (docs/ui.md); 401 ``UNAUTHORIZED`` when missing or not valid, 403 when a
    cookie request breaks the same-origin rule (:func:`browser.check_cookie_request`)."""
    if "Authorization" not in request.headers:
        session = request.cookies.get(browser.SESSION_COOKIE)
        if session:
            browser.check_cookie_request(request)
            return await session_principal(request, session)
        login = request.cookies.get(browser.CLI_SESSION_COOKIE)
        if login:  # credential login (CLI): an Origin, when sent, must be our own
            browser.require_same_origin(request, when_absent_ok=True)
            return await session_principal(request, login, cached=False)
    return await key_principal(request, _bearer(request))


async def key_principal(request: web.Request, secret: str) -> Principal:
    """The principal of API key ``secret``; 401 when unknown, revoked or expired."""
    digest = hash_key(secret)
    caches = _caches(request.app)
    cached = caches.keys.get(digest)
    if cached is not None:
        return cached
    key = await request.app[STORE].find_api_key(digest)
    principal, ttl = _valid(key, "the API key")
    caches.keys.put(digest, principal, ttl)
    return principal


async def session_principal(request: web.Request, secret: str, *, cached: bool = True
                            ) -> Principal:
    """The principal of the key a UI session was made from; 401 when the session is unknown,
    ended or expired, or its key is revoked or expired. ``cached=False`` asks the store every
    time (and caches nothing)."""
    digest = "session:" + hash_key(secret)
    caches = _caches(request.app)
    found = caches.keys.get(digest) if cached else None
    if found is not None:
        return found
    key = await request.app[STORE].find_ui_session(hash_key(secret), _now_ms())
    principal, ttl = _valid(key, "the UI session")
    if cached:
        caches.keys.put(digest, principal, ttl)
    return principal


def forget_session(app: web.Application, secret: str) -> None:
    """Drop the cached look-up of a UI session (after logout)."""
    _caches(app).keys.discard("session:" + hash_key(secret))


def _valid(key: ApiKey | None, what: str) -> tuple[Principal, float | None]:
    """The principal of a usable key and how long it may be cached; 401 otherwise."""
    now_ms = _now_ms()
    if key is None or key.revoked_ms is not None:
        raise errors.unauthorized(f"{what} is unknown, ended or revoked")
    if key.expires_ms is not None and key.expires_ms <= now_ms:
        raise errors.unauthorized(f"{what} has expired")
    ttl = None if key.expires_ms is None else max(0.0, (key.expires_ms - now_ms) / 1000.0)
    return principal_of(key), ttl


def _now_ms() -> int:
    return int(time.time() * 1000)


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise errors.unauthorized()
    return secret


async def resolve_project(request: web.Request, principal: Principal, *,
                          project_id: str | None = None, workspace: str | None = None,
                          project: str | None = None) -> ProjectRef:
    """Resolve a project reference for ``principal`` (no scope check).

    ``project_id`` is a ``prj_`` id or a project slug that must be unambiguous among the
    projects the principal can see (409 otherwise); else ``workspace`` + ``project`` slugs (or
    ids). Unknown → 404; neither form given → 400. A reference holding NUL names no project
    (no id or slug has one): 404 without a store read, on every backend (PostgreSQL could not
    even compare it), so an ingest item naming one is rejected alone like any unknown project.
    """
    if project_id:
        cache_key: tuple[str, ...] = (principal.key_id, "id", project_id)
    elif workspace and project:
        cache_key = (principal.key_id, "slugs", workspace, project)
    else:
        raise errors.invalid("projectId (or workspace and project) is required", "projectId")
    if has_nul(*cache_key[2:]):
        raise errors.not_found("no project is named with a NUL (U+0000) character")
    caches = _caches(request.app)
    ref = caches.projects.get(cache_key)
    if ref is None:
        ref = await _lookup_project(request, principal, project_id, workspace, project)
        caches.projects.put(cache_key, ref)
    return ref


async def _lookup_project(request: web.Request, principal: Principal, project_id: str | None,
                          workspace: str | None, project: str | None) -> ProjectRef:
    store = request.app[STORE]
    if not project_id:
        assert workspace is not None and project is not None
        found = await store.get_project_by_slugs(workspace, project)
        if found is None:
            raise errors.not_found(f"workspace/project {workspace}/{project} was not found")
        return project_ref(found)
    found = await store.get_project(project_id)
    if found is not None:
        return project_ref(found)
    matches = await store.find_projects_by_slug(project_id, principal.workspace_id,
                                                principal.project_id)
    if not matches:
        raise errors.not_found(f"project {project_id} was not found")
    if len(matches) > 1:
        raise _ambiguous(project_id, matches)
    return project_ref(matches[0])


def _ambiguous(ref: str, matches: list[Project]) -> errors.ApiError:
    """409 for a project slug that names several visible projects."""
    options = ", ".join(f"{p.workspace_slug}/{p.slug}" for p in matches[:5])
    err = errors.conflict(f"project {ref!r} is ambiguous for this API key ({options})",
                          "projectId")
    err.hint = "pass the project id (prj_...) or workspace and project slugs"
    return err


async def path_project(request: web.Request, scope: str) -> ProjectRef:
    """Authenticate, resolve the ``{ws}``/``{proj}`` path segments and require ``scope``."""
    principal = await authenticate(request)
    project = await resolve_project(request, principal, workspace=request.match_info["ws"],
                                    project=request.match_info["proj"])
    principal.require(scope, project)
    return project


def project_ref(project: Project) -> ProjectRef:
    return ProjectRef(project.project_id, project.slug, project.workspace_id,
                      project.workspace_slug)
