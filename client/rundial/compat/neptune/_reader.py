"""Blocking reads of one run from the collector, for the Neptune-style shim's fetches.

Every method sends its requests when called and waits for the answers (Neptune's ``fetch*``
and ``download`` block too); nothing is cached but where the run lives (its project id and
slugs, which never change). Only read routes are used (docs/protocol.md): ``query/runs``
(run details), ``runs/query`` (a project's runs), ``query/keys``, ``query/series`` (``full`` mode), ``query/logs`` (string series
lines), the run's ``artifacts`` and ``media`` indexes and an artifact's ``file``.

Failures raise :class:`~rundial.compat.neptune.exceptions.FetchError` (network, refused
request, an answer that is not what the protocol says) or
:class:`~rundial.compat.neptune.exceptions.RunNotFound` (no such run in the project). A
request waits at most ``timeout_seconds``. The transport is injectable; downloads stream to
disk in chunks (never the whole file in memory).
"""

from __future__ import annotations

import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rundial._http.calls import call, parse_envelope, quote, status_text
from rundial._http.transport import HttpTransport, Transport, base_headers
from rundial.compat._keyed import string_line
from rundial.compat.neptune.exceptions import FetchError, RunNotFound

__all__ = ["RunReader"]

_V1 = "/api/v1"
MAX_POINTS_PER_PAGE = 100_000  # query/series full mode: the most points one page holds
MAX_LOG_ROWS = 10_000  # query/logs: the largest page
MAX_RUNS_PER_PAGE = 500  # runs/query: the largest page
MAX_MEDIA_ITEMS = 1_000  # GET /api/v1/media: the largest page
MAX_PAGES = 10_000  # a bound on any paging loop (a collector that never says hasMore=false)
DOWNLOAD_CHUNK_BYTES = 1 << 20
_STRING_LINE = re.compile(r"^\[(?P<path>[^\]]*?) step=(?P<step>\d+)\] (?P<text>.*)$", re.DOTALL)


def _next_cursor(doc: dict[str, Any]) -> str | None:
    """``page.nextCursor`` while ``page.hasMore`` (the collector's paging), else None."""
    page = doc.get("page") or {}
    cursor = page.get("nextCursor") if isinstance(page, dict) and page.get("hasMore") else None
    return str(cursor) if cursor else None


class RunReader:
    """Reads one run (``run_id``) of one project: ``project`` is ``(workspace, project)``
    slugs, or ``(None, project)`` with a project id or an unambiguous project slug."""

    def __init__(self, endpoint: str, api_key: str | None, project: tuple[str | None, str],
                 run_id: str, *, transport: Transport | None = None,
                 timeout_seconds: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.run_id = run_id
        self._api_key = api_key
        self._target = ({"workspace": project[0], "project": project[1]} if project[0]
                        else {"projectId": project[1]})
        self._timeout = timeout_seconds
        self._transport = transport or HttpTransport(self.endpoint, timeout_seconds)
        self._where: dict[str, str] | None = None  # projectId, workspaceSlug, projectSlug

    # -- the run ----------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        """The run as ``GET …/runs/{runId}`` describes it (``config``, ``tags``, ``status``,
        ``runName``, ``startedAtMs``, …); :class:`RunNotFound` when the project has no such
        run."""
        doc = self._post("/query/runs", {**self._target, "runIds": [self.run_id]})
        runs = [r for r in doc.get("runs") or [] if isinstance(r, dict)]
        if not runs:
            raise RunNotFound(f"neptune: run {self.run_id!r} was not found in project "
                              f"{self._describe_target()} at {self.endpoint}")
        run = runs[0]
        if self._where is None:
            self._where = {"projectId": str(run.get("projectId") or doc.get("projectId")),
                           "workspaceSlug": str(run.get("workspaceSlug") or ""),
                           "projectSlug": str(run.get("projectSlug") or "")}
        return run

    def page_path(self) -> str:
        """``/p/{workspace}/{project}/r/{runId}`` of the web UI (after :meth:`details`)."""
        where = self._located()
        return "/".join(("/p", quote(where["workspaceSlug"]), quote(where["projectSlug"]), "r",
                         quote(self.run_id)))

    def project_runs(self, workspace: str, project: str) -> Iterator[dict[str, Any]]:
        """Every run of ``workspace/project`` (slugs), newest first, as ``runs/query`` lists
        them (the run-details fields); pages of :data:`MAX_RUNS_PER_PAGE`."""
        path = f"/workspaces/{quote(workspace)}/projects/{quote(project)}/runs/query"
        query = {"limit": MAX_RUNS_PER_PAGE, "order": "desc", "orderBy": "startedAtMs"}
        for doc in self._pages("GET", path, query):
            yield from (run for run in doc.get("runs") or [] if isinstance(run, dict))

    # -- series -----------------------------------------------------------------------------
    def metric_keys(self) -> list[str]:
        """The run's metric keys (``query/keys`` order; rundial's ``system/`` keys left out)."""
        keys = [str(k) for doc in self._pages("POST", "/query/keys", {
                    "projectId": self._located()["projectId"], "runIds": [self.run_id]})
                for entry in doc.get("runs") or [] for k in entry.get("keys") or []]
        return [k for k in dict.fromkeys(keys) if not k.startswith("system/")]

    def points(self, key: str, *, last_only: bool = False) -> list[tuple[int, int, float]]:
        """Every point of metric ``key`` as ``(step, timestampMs, value)``, steps ascending
        (one per step, the collector's rule), or only the last one; ``[]`` when it has none."""
        body = {"projectId": self._located()["projectId"], "runId": self.run_id,
                "metricKeys": [key], "mode": "tail" if last_only else "full",
                "maxPointsPerSeries": 1 if last_only else MAX_POINTS_PER_PAGE}
        return [(int(p["step"]), int(p["timestampMs"]), p["value"])
                for doc in self._pages("POST", "/query/series", body)
                for series in doc.get("series") or [] if series.get("metricKey") == key
                for p in series.get("points") or []]

    def last_steps(self) -> dict[str, int]:
        """The last step of each metric and image key of the run (``metrics/keys``,
        ``media/keys``): where a resumed run's series continue."""
        query = {"projectId": self._located()["projectId"], "runId": self.run_id,
                 "limit": 1000}
        steps = {str(k["metricKey"]): int(k["lastStep"])
                 for doc in self._pages("GET", "/metrics/keys", query)
                 for k in doc.get("keys") or [] if isinstance(k.get("lastStep"), int)}
        steps.update({str(k["mediaKey"]): int(k["maxStep"]) for k in self._media_keys()
                      if isinstance(k.get("maxStep"), int)})
        return steps

    def strings(self, path: str) -> list[tuple[int, int, str]]:
        """The string series ``path`` as ``(step, timestampMs, text)`` from its log lines
        (``[<path> step=<n>] <text>``), oldest first."""
        prefix = string_line(path, 0, "").rsplit(" step=", 1)[0] + " step="
        body = {"projectId": self._located()["projectId"], "runId": self.run_id,
                "limit": MAX_LOG_ROWS, "order": "asc", "text": prefix}
        out: list[tuple[int, int, str]] = []
        for doc in self._pages("POST", "/query/logs", body):
            for row in doc.get("rows") or []:
                match = _STRING_LINE.match(str(row.get("message", "")))
                if match and match["path"] == path:
                    out.append((int(match["step"]), int(row["timestampMs"]), match["text"]))
        return out

    # -- files and images -------------------------------------------------------------------
    def file_fields(self) -> dict[str, str]:
        """``{field: artifactId}``: the newest ready file uploaded to each field (the shim's
        artifacts carry ``metadata.field``)."""
        doc = self._get(self._project_path(f"/runs/{quote(self.run_id)}/artifacts"),
                        {"limit": "500"})
        newest: dict[str, tuple[int, str]] = {}
        for version in doc.get("produced") or []:
            field = (version.get("metadata") or {}).get("field")
            if version.get("state") != "ready" or not isinstance(field, str):
                continue
            made = (int(version.get("createdAtMs") or 0), str(version["artifactId"]))
            newest[field] = max(newest.get(field, made), made)
        return {field: made[1] for field, made in newest.items()}

    def file_of_field(self, path: str) -> tuple[str, str] | None:
        """``(artifactId, file path)`` of the newest file uploaded to field ``path``, or None."""
        artifact_id = self.file_fields().get(path)
        if artifact_id is None:
            return None
        files = self._get(self._project_path(f"/artifacts/{quote(artifact_id)}/files"),
                          {"limit": "1"}).get("files") or []
        return (artifact_id, str(files[0]["path"])) if files else None

    def media_keys(self) -> list[str]:
        """The run's image keys (the shim's image series and single images)."""
        return [str(k["mediaKey"]) for k in self._media_keys()]

    def _media_keys(self) -> list[dict[str, Any]]:
        doc = self._get(self._project_path(f"/runs/{quote(self.run_id)}/media/keys"),
                        {"limit": "1000"})
        return [k for k in doc.get("keys") or [] if isinstance(k, dict)]

    def images(self, key: str) -> list[tuple[int, str, str]]:
        """The images logged under ``key`` as ``(step, artifactId, file path)``, by step."""
        where = self._located()
        query = {"workspace": where["workspaceSlug"], "project": where["projectSlug"],
                 "runId": self.run_id, "mediaKey": key, "limit": MAX_MEDIA_ITEMS}
        out = [(int(i["step"]), str(i["artifactId"]), str(i["artifactPath"]))
               for doc in self._pages("GET", "/media", query,
                                      cursor_of=lambda d: d.get("nextCursor") or None)
               for i in doc.get("items") or []]
        return sorted(out, key=lambda item: item[0])

    def download(self, artifact_id: str, file_path: str, target: Path) -> None:
        """Stream one artifact file into ``target`` (written whole or not at all: a partial
        file is removed); :class:`FetchError` when it cannot be read."""
        url = self.endpoint + _V1 + self._project_path(
            f"/artifacts/{quote(artifact_id)}/file") + "?" + urllib.parse.urlencode(
            {"path": file_path})
        partial = target.with_name(target.name + ".part")
        request = urllib.request.Request(url, headers=base_headers(self._api_key))
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer, \
                    open(partial, "wb") as out:
                shutil.copyfileobj(answer, out, DOWNLOAD_CHUNK_BYTES)
            os.replace(partial, target)
        except urllib.error.HTTPError as err:
            message = status_text(err.code, parse_envelope(err.read()))
            raise FetchError(f"neptune: downloading {file_path!r} failed: {message}") from None
        except OSError as exc:
            raise FetchError(f"neptune: downloading {file_path!r} from {self.endpoint} "
                             f"failed: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)

    # -- plumbing ---------------------------------------------------------------------------
    def _located(self) -> dict[str, str]:
        if self._where is None:
            self.details()
        assert self._where is not None
        return self._where

    def _project_path(self, tail: str) -> str:
        where = self._located()
        return (f"/workspaces/{quote(where['workspaceSlug'])}/projects/"
                f"{quote(where['projectSlug'])}{tail}")

    def _describe_target(self) -> str:
        target = self._target
        return (f"{target['workspace']}/{target['project']}" if "workspace" in target
                else str(target["projectId"]))

    def _pages(self, method: str, path: str, request: dict[str, Any], *,
               cursor_of: Callable[[dict[str, Any]], Any] = _next_cursor
               ) -> Iterator[dict[str, Any]]:
        """Each page of a paged read: the cursor of the answer (``page.nextCursor`` while
        ``hasMore``, or ``cursor_of``) goes back in the body (POST) or the query (GET)."""
        cursor: Any = None
        for _ in range(MAX_PAGES):
            sent = {**request, "cursor": cursor} if cursor else request
            doc = self._post(path, sent) if method == "POST" else self._get(path, sent)
            yield doc
            cursor = cursor_of(doc)
            if not cursor:
                return

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._send("POST", path, body)

    def _get(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        return self._send("GET", path + "?" + urllib.parse.urlencode(query), None)

    def _send(self, method: str, path: str, body: Any) -> dict[str, Any]:
        operation = f"{method} {self.endpoint}{_V1}{path.split('?')[0]}"
        result = call(self._transport, self._api_key, method, _V1 + path, body, self._timeout,
                      operation)
        if not result.ok or not result.json_object:
            what = f"run {self.run_id!r}" if self.run_id else "the project's runs"
            raise FetchError(f"neptune: reading {what} failed: "
                             f"{result.message or operation}")
        return result.doc

    def close(self) -> None:
        """Close the connection (a later read opens a new one)."""
        self._transport.close()
