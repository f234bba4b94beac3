"""The server-issued blob URLs (v1 doc §6.2, §6.5): signed PUTs and GETs, no credentials.

* ``PUT /api/v1/artifacts/blobs/{sha256}?size=&prj=&exp=&sig=``: a whole blob. Streamed to
  disk while hashing; published only when size and sha256 match (409 otherwise, nothing kept).
  The verified upload grants the content to project ``prj`` (it proved it has the bytes).
* ``PUT /api/v1/artifacts/blobs/{sha256}/parts/{n}?size=&psize=&prj=&exp=&sig=``: part ``n`` of
  a multipart upload, staged for project ``prj`` only; answers its ``ETag`` (the quoted sha256
  of the part). A second PUT of a part still being received is a 409.
* ``GET /api/v1/artifacts/blobs/{sha256}?name=&exp=&sig=``: the blob, sent with sendfile.

Order of checks: the signature first (403 when missing, tampered or expired), then the
announced ``Content-Length`` against the blob or part size (413 when larger, before a single
body byte is read), then the body itself (413 as soon as it runs over, 409 on a short body or
a hash mismatch). Any ``Content-Type`` is accepted (urllib sends a form type by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from rundial_collector.artifacts.blobstage import part_at
from rundial_collector.artifacts.blobstore import BlobError, BlobTooLarge, StageKey
from rundial_collector.artifacts.runtime import BLOBS, SIGNER, install
from rundial_collector.web import errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.intbounds import query_int
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import write_or_429

READ_CHUNK_BYTES = 256 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
SHA = "{sha256:[0-9a-f]{64}}"


def _int_param(params: dict[str, str], name: str) -> int:
    value = query_int(params, name)
    if value is None:
        raise errors.invalid(f"the signed URL lacks a valid {name!r}", name)
    return value


def _check_declared_length(request: web.Request, limit: int) -> None:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise errors.ApiError(413, "PAYLOAD_TOO_LARGE",
                              f"the body announces {declared} bytes; this URL takes {limit}")


def _project_param(params: dict[str, str]) -> str:
    """The project a URL was issued to (signed URLs of older collectors lack it: 409)."""
    project_id = params.get("prj")
    if not project_id:
        raise errors.conflict("this upload URL was issued by an older collector; initiate the "
                              "upload again", "prj")
    return project_id


async def put_blob(request: web.Request) -> web.Response:
    """Receive one whole blob; once verified, record that the URL's project holds it."""
    params = request.app[SIGNER].verify(request)
    sha256 = request.match_info["sha256"]
    size = _int_param(params, "size")
    project_id = _project_param(params)
    _check_declared_length(request, size)
    with _blob_errors():
        await request.app[BLOBS].put(sha256, size, request.content.iter_chunked(READ_CHUNK_BYTES))
    await write_or_429(request, request.app[STORE].add_blob_holder(project_id, sha256, size))
    response = json_response(request, {"sha256": sha256, "sizeBytes": size})
    response.headers["ETag"] = f'"{sha256}"'
    return response


async def put_part(request: web.Request) -> web.Response:
    """Receive one part; answer its ETag."""
    params = request.app[SIGNER].verify(request)
    size, psize = _int_param(params, "size"), _int_param(params, "psize")
    number = int(request.match_info["number"])
    part = part_at(size, psize, number) if psize > 0 else None
    if part is None:
        raise errors.invalid(f"part {number} does not exist", "partNumber")
    key = StageKey.of(_project_param(params), request.match_info["sha256"], size, psize)
    _check_declared_length(request, part.size)
    with _blob_errors():
        etag = await request.app[BLOBS].put_part(
            key, number, request.content.iter_chunked(READ_CHUNK_BYTES))
    response = json_response(request, {"partNumber": number, "etag": etag})
    response.headers["ETag"] = etag
    return response


@contextmanager
def _blob_errors() -> Iterator[None]:
    """Map blob-store errors raised inside the block to 413 (too large) and 409 (the others)."""
    try:
        yield
    except BlobTooLarge as exc:
        raise errors.ApiError(413, "PAYLOAD_TOO_LARGE", str(exc)) from None
    except BlobError as exc:
        raise errors.conflict(str(exc), "body") from None


async def get_blob(request: web.Request) -> web.StreamResponse:
    """Send a published blob (404 when it is gone, e.g. deleted by retention)."""
    params = request.app[SIGNER].verify(request)
    path = request.app[BLOBS].local_path(request.match_info["sha256"])
    if path is None:
        raise errors.not_found("this blob is no longer stored")
    name = _SAFE_NAME.sub("_", params.get("name", "blob"))[:128] or "blob"
    return web.FileResponse(path, headers={
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{name}"'})


def setup_routes(app: web.Application) -> None:
    """Register the blob PUT/GET routes (and the shared artifact runtime)."""
    install(app)
    app.router.add_put(f"/api/v1/artifacts/blobs/{SHA}", put_blob)
    app.router.add_put(f"/api/v1/artifacts/blobs/{SHA}/parts/{{number:[0-9]{{1,6}}}}", put_part)
    app.router.add_get(f"/api/v1/artifacts/blobs/{SHA}", get_blob)
