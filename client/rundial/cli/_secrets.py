"""Where the CLI keeps API keys and session tokens: the OS keyring, else the config file.

Contract:
* With the ``keyring`` package importable (and no ``--allow-plaintext-store`` / profile
  ``insecure_store = true``), secrets live in the keyring under the published CLI's service name
  ``rundial-cli:<profile>:<first 12 hex of sha256(endpoint)>``, usernames ``api_key`` and
  ``session_token`` — so keys stored by rc1 are found, and a key never follows a changed endpoint.
* Otherwise (or when the keyring backend fails) the secret goes into the profile's table of
  ``config.toml`` (mode 0600) and a one-line warning says so, unless the user opted in with
  ``--allow-plaintext-store``. A secret in the file is only used while the effective endpoint is
  the profile's endpoint, so ``--endpoint elsewhere`` never sends it to another server.
  Endpoints are compared by :func:`rundial._endpoint.endpoint_identity` (``localhost`` and
  ``127.0.0.1`` are the same server); a keyring entry rc1 stored under the URL as typed is found.
* Nothing here raises for a missing backend; only a failed file write raises :class:`CliError`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from rundial._credentials import keyring_service, legacy_keyring_service
from rundial._endpoint import same_endpoint
from rundial.cli._config import ConfigStore
from rundial.cli._output import Output

__all__ = ["SECRET_NAMES", "SecretStore", "service_name"]

SECRET_NAMES = ("api_key", "session_token")


def service_name(profile: str, endpoint: str) -> str:
    """The keyring service of the published CLI for this profile and endpoint (shared with
    ``rd.init``, which looks keys up the same way)."""
    return keyring_service(profile, endpoint)


def _load_keyring() -> ModuleType | None:
    try:
        return importlib.import_module("keyring")
    except Exception:  # ImportError, or a broken backend failing at import
        return None


class SecretStore:
    """Secrets of one profile and endpoint; see the module docstring for the rules."""

    def __init__(self, config: ConfigStore, profile: str, endpoint: str, output: Output,
                 allow_plaintext: bool = False) -> None:
        self._config = config
        self._profile = profile
        self._endpoint = endpoint.rstrip("/")
        self._output = output
        self._opted_in = allow_plaintext or config.profile(profile).insecure_store
        self._keyring = None if self._opted_in else _load_keyring()
        self._service = service_name(profile, endpoint)

    def describe(self) -> str:
        """The backend, for ``doctor``: keyring class, or the plaintext config file."""
        if self._keyring is not None:
            try:
                backend = self._keyring.get_keyring()
                return f"keyring ({type(backend).__module__}.{type(backend).__name__})"
            except Exception:
                pass
        return f"plaintext config file {self._config.path} (mode 0600)"

    def get(self, name: str) -> str | None:
        """The stored secret, or None. Never raises."""
        if self._keyring is not None:
            for service in (self._service, legacy_keyring_service(self._profile, self._endpoint)):
                try:
                    value = self._keyring.get_password(service, name)
                    if isinstance(value, str) and value.strip():
                        return value.strip()
                except Exception:
                    pass
        profile = self._config.profile(self._profile)
        if not same_endpoint(profile.endpoint, self._endpoint):
            return None
        value = getattr(profile, name)
        return value if isinstance(value, str) and value else None

    def set(self, name: str, value: str) -> str:
        """Store a secret; returns ``"keyring"`` or ``"config"`` (the file is saved by the caller)."""
        if self._keyring is not None:
            try:
                self._keyring.set_password(self._service, name, value)
                self._config.clear(self._profile, name)
                return "keyring"
            except Exception as exc:
                self._output.warn(f"the OS keyring failed ({type(exc).__name__}: {exc})")
        if not self._opted_in:
            self._output.warn(f"no OS keyring available (pip install keyring); storing the {name} "
                              f"in {self._config.path} (mode 0600)")
        self._config.update(self._profile, **{name: value})
        return "config"

    def delete(self, name: str) -> None:
        """Forget a secret everywhere it may be stored. Never raises."""
        if self._keyring is not None:
            try:
                self._keyring.delete_password(self._service, name)
            except Exception:
                pass
        self._config.clear(self._profile, name)
