"""``rd.Client``: synchronous discovery calls (whoami, workspaces, projects, run details).

Unlike logging, these calls block and raise: any non-2xx answer or network failure raises
:class:`RundialRequestError` (never retried). The endpoint and key resolve like ``rd.init``
(arguments > env > config file). One keep-alive connection; use from one thread at a time.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rundial._config import REQUEST_TIMEOUT_S, check_option_names, resolve_target
from rundial._http.calls import call, quote
from rundial._http.transport import HttpTransport, Transport
from rundial._published import required

MAX_PAGES = 10  # as the published SDK: at most 10 pages of 100
PAGE_LIMIT = 100


class RundialRequestError(RuntimeError):
    """A control-plane call failed: ``status`` is None for network errors; ``code`` is the
    collector's error code (e.g. ``NOT_FOUND``) when it sent one."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Client:
    """Discovery and read calls against a collector."""

    def __init__(self, endpoint: str | None = None, api_key: str | None = None, *,
                 request_timeout_seconds: float = REQUEST_TIMEOUT_S,
                 transport: Transport | None = None, **client_options: Any) -> None:
        """``client_options``: the published SDK's client options (``mode``, ``spool_enabled``,
        ``start_worker_on_init``, ... any ``rd.init`` option) are accepted and unused, since this
        client never logs; an unknown name is a ``TypeError``."""
        check_option_names(client_options, "rd.Client()")
        target = resolve_target(endpoint, api_key, None, None)
        self._endpoint = str(target["endpoint"])
        self._api_key = target["api_key"]
        self._timeout = request_timeout_seconds
        self._transport = transport or HttpTransport(self.endpoint, request_timeout_seconds)

    def _get(self, path: str, operation: str) -> dict[str, Any]:
        result = call(self._transport, self._api_key, "GET", path, None, self._timeout, operation)
        if not result.ok:
            raise RundialRequestError(result.message or f"{operation} failed", result.status,
                                      result.code)
        return result.doc

    @property
    def endpoint(self) -> str:
        """The collector's normalised URL."""
        return self._endpoint

    def whoami(self) -> dict[str, Any]:
        """``GET /api/v1/auth/whoami``: who the API key belongs to."""
        return self._get("/api/v1/auth/whoami", "whoami")

    def _paged(self, path: str, field: str, operation: str, limit: int,
               max_pages: int) -> list[dict[str, Any]]:
        """At most ``max_pages`` pages of ``limit`` items (``ValueError`` unless both are
        positive ints)."""
        for name, value in (("limit", limit), ("max_pages", max_pages)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{operation}: {name} must be a positive int, not {value!r}")
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(max_pages):
            query = f"?limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")
            doc = self._get(path + query, operation)
            items.extend(x for x in doc.get(field) or [] if isinstance(x, dict))
            page = doc.get("page") or {}
            cursor = page.get("nextCursor") if isinstance(page, dict) and page.get("hasMore") else None
            if not cursor:
                break
        return items

    def list_workspaces(self, *, limit: int = PAGE_LIMIT,
                        max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
        """Workspaces the key can see (``workspaceSlug``, ``name``, ``role``)."""
        return self._paged("/api/v1/workspaces", "workspaces", "list workspaces", limit,
                           max_pages)

    def list_projects(self, *, workspace_slug: str, limit: int = PAGE_LIMIT,
                      max_pages: int = MAX_PAGES) -> list[dict[str, Any]]:
        """Projects of one workspace."""
        return self._paged(f"/api/v1/workspaces/{quote(workspace_slug)}/projects", "projects",
                           "list projects", limit, max_pages)

    def get_run_details(self, workspace: str | None = None, project: str | None = None,
                        run_id: str | None = None, *, workspace_slug: str | None = None,
                        project_slug: str | None = None) -> dict[str, Any]:
        """One run's details (``status``, ``startedAtMs``, ...). ``workspace``/``project`` are
        our earlier names for ``workspace_slug``/``project_slug`` (``TypeError`` for both)."""
        workspace = required("get_run_details", "workspace_slug", workspace_slug, "workspace",
                             workspace)
        project = required("get_run_details", "project_slug", project_slug, "project", project)
        if run_id is None:
            raise TypeError("get_run_details() missing required argument: 'run_id'")
        return self._get(f"/api/v1/workspaces/{quote(workspace)}/projects/{quote(project)}/runs/"
                         f"{quote(run_id)}", "run details")

    def close(self, timeout_seconds: float = 5.0, *, drain: bool = True) -> bool:
        """Close the connection; True. ``timeout_seconds`` and ``drain`` (the published SDK's)
        have nothing to act on: this client queues nothing."""
        self._transport.close()
        return True

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
