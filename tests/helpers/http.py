"""A tiny stdlib HTTP helper for tests: JSON in, (status, headers, JSON-or-bytes) out."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
from typing import Any


def request(method: str, url: str, body: Any = None, api_key: str | None = None,
            headers: dict[str, str] | None = None, raw: bytes | None = None,
            gzip_body: bool = False, timeout: float = 30.0, follow_redirects: bool = True
            ) -> tuple[int, dict[str, str], Any]:
    """Send one request; never raises on HTTP status. Returns (status, headers, parsed body).
    With ``follow_redirects=False`` a 3xx is returned as is."""
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
        opener = (urllib.request.build_opener() if follow_redirects
                  else urllib.request.build_opener(_NoRedirect()))
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), _parse(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), _parse(err.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _parse(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except ValueError:
        return payload
