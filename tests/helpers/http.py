"""A tiny stdlib HTTP helper for tests: JSON in, (status, headers, JSON-or-bytes) out."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from typing import Any


def request(method: str, url: str, body: Any = None, api_key: str | None = None,
            headers: dict[str, str] | None = None, raw: bytes | None = None,
            gzip_body: bool = False, timeout: float = 30.0) -> tuple[int, dict[str, str], Any]:
    """Send one request; never raises on HTTP status. Returns (status, headers, parsed body)."""
    hdrs = dict(headers or {})
    data = raw
    if data is None and body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("content-type", "application/json")
    if gzip_body and data is not None:
        data = gzip.compress(data, 1)
        hdrs["content-encoding"] = "gzip"
    if api_key:
        hdrs["authorization"] = f"Bearer {api_key}"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), _parse(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), _parse(err.read())


def _parse(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload
