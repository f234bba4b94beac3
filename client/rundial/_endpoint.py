"""Collector endpoints: one canonical spelling, shared by ``rd.init`` and the CLI.

* :func:`normalize_endpoint` is what both connect to: ``http://`` is added when no scheme is
  given (``localhost:8787`` works), scheme and host are lower-cased, a default port (80/443)
  and trailing slashes are dropped. Anything but an http(s) URL with a host (and nothing
  after the path: no query, no fragment) is a ``ValueError`` that names the value.
* :func:`endpoint_identity` is what keys are stored under and compared by: the normalized URL
  with every loopback spelling (``localhost``, ``127.x.y.z``, ``[::1]``) folded to
  ``127.0.0.1``, so a key saved for ``http://localhost:8787`` is found for
  ``http://127.0.0.1:8787`` and the reverse. Different hosts or ports stay different: a key is
  never sent to a server it was not saved for.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

__all__ = ["endpoint_identity", "normalize_endpoint", "same_endpoint"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOOPBACK = "127.0.0.1"


def normalize_endpoint(raw: str) -> str:
    """The canonical form of a collector URL (see the module docstring); ``ValueError``."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError(f"invalid endpoint {raw!r}: expected a URL such as http://127.0.0.1:8787")
    text = raw.strip()
    if "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a port that is not a number, or out of range
        raise ValueError(f"invalid endpoint {raw!r}: {exc}") from None
    if scheme not in _DEFAULT_PORTS or not host or parts.query or parts.fragment:
        raise ValueError(f"invalid endpoint {raw!r}: expected http(s)://host[:port][/path], "
                         "e.g. http://127.0.0.1:8787")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def endpoint_identity(endpoint: str) -> str:
    """The normalized endpoint with loopback hosts folded to ``127.0.0.1`` (keys' identity)."""
    normalized = normalize_endpoint(endpoint)
    parts = urllib.parse.urlsplit(normalized)
    if not _is_loopback(parts.hostname or ""):
        return normalized
    netloc = _LOOPBACK + (f":{parts.port}" if parts.port is not None else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def same_endpoint(a: str, b: str) -> bool:
    """Whether two endpoints are the same server by :func:`endpoint_identity`; False when
    either is invalid."""
    try:
        return endpoint_identity(a) == endpoint_identity(b)
    except ValueError:
        return False


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
