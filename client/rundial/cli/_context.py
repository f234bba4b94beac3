"""Per-invocation settings: precedence of flags, environment and the config file.

Precedence (every command): command-line flag > environment > ``config.toml`` profile > default.

* endpoint: ``--endpoint`` > ``RUNDIAL_ENDPOINT`` > profile ``endpoint`` > ``http://127.0.0.1:8787``
* API key: ``--api-key`` > ``RUNDIAL_API_KEY`` > ``RUNDIAL_SESSION_TOKEN`` (a session, used only
  when no key is known) > the secret store (keyring, else the profile in ``config.toml``)
* workspace / project: ``--workspace`` / ``--project`` > ``RUNDIAL_WORKSPACE`` /
  ``RUNDIAL_PROJECT`` > profile ``workspace`` / ``project``
* profile: ``--profile`` > ``RUNDIAL_PROFILE`` > ``active_profile`` in the file

Missing credentials raise :class:`CliError` with exit code 2; a missing target exits 1.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from rundial._endpoint import normalize_endpoint, same_endpoint
from rundial.cli._config import DEFAULT_ENDPOINT, ConfigStore
from rundial.cli._errors import EXIT_AUTH, CliError
from rundial.cli._http import ApiClient
from rundial.cli._output import Output
from rundial.cli._secrets import SecretStore

__all__ = ["Context"]

def no_credentials(endpoint: str, profile: str, profile_endpoint: str) -> str:
    """The missing-key message, naming the endpoint and how keys are found for it."""
    text = (f"no API key for {endpoint}: pass --api-key, set RUNDIAL_API_KEY, or run "
            f"`rundial auth login --endpoint {endpoint}`")
    if not same_endpoint(endpoint, profile_endpoint):
        text += (f" (keys are stored per endpoint; profile {profile!r} is set up for "
                 f"{profile_endpoint})")
    return text


def _text(value: object) -> str | None:
    """``value`` stripped, or None when it is not a non-blank string."""
    return value.strip() or None if isinstance(value, str) else None


def _env(name: str) -> str | None:
    return _text(os.environ.get(name))


class Context:
    """What a command handler gets: parsed args, output, config, credentials and target."""

    def __init__(self, args: argparse.Namespace, output: Output,
                 config: ConfigStore | None = None) -> None:
        self.args = args
        self.output = output
        self.config = config or ConfigStore()
        self.profile_name = (self.flag("profile") or _env("RUNDIAL_PROFILE")
                             or self.config.active_profile)
        self.profile = self.config.profile(self.profile_name)
        self._secrets: SecretStore | None = None

    def flag(self, name: str, default: Any = None) -> Any:
        """A parsed option; global flags are absent from ``args`` unless given."""
        value = getattr(self.args, name, default)
        return _text(value) if isinstance(value, str) else value

    @property
    def debug(self) -> bool:
        """``--debug``: show tracebacks."""
        return bool(self.flag("debug", False))

    def endpoint(self) -> str:
        """The collector base URL, normalized (:mod:`rundial._endpoint`); exit 1 naming the
        value and where it came from when it is not an http(s) URL."""
        sources = (("--endpoint", self.flag("endpoint")),
                   ("RUNDIAL_ENDPOINT", _env("RUNDIAL_ENDPOINT")),
                   (f"profile {self.profile_name!r}", self.profile.endpoint))
        origin, chosen = next(((o, v) for o, v in sources if v), ("default", DEFAULT_ENDPOINT))
        try:
            return normalize_endpoint(chosen)
        except ValueError as exc:
            raise CliError(f"{exc} (from {origin})") from None

    def secrets(self) -> SecretStore:
        """The secret store of this profile and endpoint."""
        if self._secrets is None:
            self._secrets = SecretStore(self.config, self.profile_name, self.endpoint(),
                                        self.output, bool(self.flag("allow_plaintext_store")))
        return self._secrets

    def credentials(self) -> tuple[str | None, str | None]:
        """``(api_key, session_token)`` by precedence; an API key always wins."""
        api_key = self.flag("api_key") or _env("RUNDIAL_API_KEY")
        if api_key:
            return api_key, None
        session = _env("RUNDIAL_SESSION_TOKEN")
        if session:
            return None, session
        return self.secrets().get("api_key"), self.secrets().get("session_token")

    def client(self, require_auth: bool = True, api_key: str | None = None) -> ApiClient:
        """An API client for the resolved endpoint; raises (exit 2) when auth is missing."""
        key, session = (api_key, None) if api_key else self.credentials()
        if require_auth and not key and not session:
            raise self.no_key_error()
        return ApiClient(self.endpoint(), key, session, float(self.flag("timeout", 30.0)))

    def no_key_error(self) -> CliError:
        """The exit-2 error for a missing key, naming the endpoint it was looked up for."""
        return CliError(no_credentials(self.endpoint(), self.profile_name,
                                       self.profile.endpoint), EXIT_AUTH)

    def _target_part(self, name: str, required: bool) -> str | None:
        value = self.flag(name) or _env(f"RUNDIAL_{name.upper()}") or getattr(self.profile, name)
        if required and not value:
            raise CliError(f"no {name}: pass --{name}, set RUNDIAL_{name.upper()}, "
                           "or run `rundial target use`")
        return value

    def workspace(self, required: bool = True) -> str | None:
        """The workspace slug by precedence; exit 1 when required and unknown."""
        return self._target_part("workspace", required)

    def project(self, required: bool = True) -> str | None:
        """The project slug by precedence; exit 1 when required and unknown."""
        return self._target_part("project", required)

    def target(self) -> tuple[str, str]:
        """``(workspace, project)``, both required."""
        return str(self.workspace()), str(self.project())

    def remember(self, **fields: Any) -> None:
        """Save profile fields (e.g. endpoint and target after a login) to ``config.toml``."""
        self.config.update(self.profile_name, **fields)
        self.config.save()
