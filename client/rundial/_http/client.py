"""``rd.Client``: synchronous discovery calls (whoami, workspaces, projects, run details).

Unlike logging, these calls block and raise: any non-2xx answer or network failure raises
:class:`RundialRequestError` (never retried). The endpoint and key resolve like ``rd.init``
(arguments > env > config file). One keep-alive connection; use from one thread at a time.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rundial._config import REQUEST_TIMEOUT_S, resolve_target
from rundial._http.calls import call, quote
from rundial._http.transport import HttpTransport, Transport

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
                 transport: Transport | None = None) -> None:
        target = resolve_target(endpoint, api_key, None, None)
        self.endpoint = str(target["endpoint"])
        self._api_key = target["api_key"]
        self._timeout = request_timeout_seconds
        self._transport = transport or HttpTransport(self.endpoint, request_timeout_seconds)

    def _get(self, path: str, operation: str) -> dict[str, Any]:
        result = call(self._transport, self._api_key, "GET", path, None, self._timeout, operation)
        if not result.ok:
            raise RundialRequestError(result.message or f"{operation} failed", result.status,
                                      result.code)
        return result.doc

    def whoami(self) -> dict[str, Any]:
        """``GET /api/v1/auth/whoami``: who the API key belongs to."""
        return self._get("/api/v1/auth/whoami", "whoami")

    def _paged(self, path: str, field: str, operation: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        for _ in range(MAX_PAGES):
            query = f"?limit={PAGE_LIMIT}" + (f"&cursor={quote(cursor)}" if cursor else "")
            doc = self._get(path + query, operation)
            items.extend(x for x in doc.get(field) or [] if isinstance(x, dict))
            page = doc.get("page") or {}
            cursor = page.get("nextCursor") if isinstance(page, dict) and page.get("hasMore") else None
            if not cursor:
                break
        return items

    def list_workspaces(self) -> list[dict[str, Any]]:
        """Workspaces the key can see (``workspaceSlug``, ``name``, ``role``)."""
        return self._paged("/api/v1/workspaces", "workspaces", "list workspaces")

    def list_projects(self, *, workspace_slug: str) -> list[dict[str, Any]]:
        """Projects of one workspace."""
        return self._paged(f"/api/v1/workspaces/{quote(workspace_slug)}/projects", "projects",
                           "list projects")

    def get_run_details(self, workspace: str, project: str, run_id: str) -> dict[str, Any]:
        """One run's details (``status``, ``startedAtMs``, ...)."""
        return self._get(f"/api/v1/workspaces/{quote(workspace)}/projects/{quote(project)}/runs/"
                         f"{quote(run_id)}", "run details")

    def close(self) -> None:
        """Close the connection."""
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
