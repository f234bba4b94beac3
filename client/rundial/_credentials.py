"""API keys the CLI stored (``rundial auth login``), as ``rd.init`` finds them.

Contract: a stored key is used only for the endpoint it was stored for, so pointing a run at
another server never sends it there. The profile's ``api_key`` in ``config.toml`` applies when
the run's endpoint is the profile's endpoint; otherwise the OS keyring is asked under the CLI's
service name (``rundial-cli:<profile>:<first 12 hex of sha256(endpoint)>``, user ``api_key``),
and only when the ``keyring`` package is installed. Endpoints are compared, and hashed, by
:func:`rundial._endpoint.endpoint_identity` (``localhost`` and ``127.0.0.1`` are one server);
a key stored by rc1 under the URL as typed is still found. Nothing here raises: a broken
keyring backend, or an invalid endpoint, counts as "no key".
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Mapping
from typing import Any

from rundial._endpoint import endpoint_identity, same_endpoint

DEFAULT_PROFILE = "default"


def keyring_service(profile: str, endpoint: str) -> str:
    """The keyring service name for a profile and endpoint (by its identity; for an endpoint
    spelled like the published CLI's default, the same name as rc1's)."""
    try:
        endpoint = endpoint_identity(endpoint)
    except ValueError:
        endpoint = endpoint.rstrip("/")
    digest = hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:12]
    return f"rundial-cli:{profile}:{digest}"


def legacy_keyring_service(profile: str, endpoint: str) -> str:
    """The service name rc1 used: the endpoint as typed, without trailing slashes."""
    digest = hashlib.sha256(endpoint.rstrip("/").encode("utf-8")).hexdigest()[:12]
    return f"rundial-cli:{profile}:{digest}"


def stored_api_key(profile: Mapping[str, Any], profile_name: str, endpoint: str) -> str | None:
    """The key stored for ``endpoint``: the profile's (same endpoint only), else the keyring's."""
    file_key = profile.get("api_key")
    if (isinstance(file_key, str) and file_key
            and same_endpoint(str(profile.get("endpoint") or ""), endpoint)):
        return file_key
    return (_keyring_key(keyring_service(profile_name, endpoint))
            or _keyring_key(legacy_keyring_service(profile_name, endpoint)))


def _keyring_key(service: str) -> str | None:
    try:
        keyring = importlib.import_module("keyring")
        value = keyring.get_password(service, "api_key")
    except Exception:  # not installed, or a backend that fails: no stored key
        return None
    return value if isinstance(value, str) and value else None
