"""``~/.config/rundial/config.toml``: profiles (endpoint, target, auth mode), mode 0600.

File format (the published CLI's subset of TOML, read with :mod:`tomllib`, written by hand)::

    version = 2
    active_profile = "default"

    [profiles.default]
    endpoint = "http://127.0.0.1:8787"
    workspace = "team"            # optional
    project = "vision"            # optional
    auth_mode = "api_key"         # none | api_key | credentials
    default_format = "human"      # human | json
    insecure_store = false
    api_key = "rdk_..."           # only when no OS keyring is available (see _secrets)
    created_at_ms = 1700000000000
    updated_at_ms = 1700000000000

Contract: the path comes from ``$HOME`` at call time. Reading never writes. A missing file means
defaults; an unparsable file is reported once as a warning, read as defaults, and never
overwritten (:meth:`ConfigStore.save` raises :class:`CliError`). Every write goes to a fresh
0600 temp file in the same directory (0700) and is renamed over the old file, so the file is
never world-readable, not even for an instant. Legacy flat files (top-level
``endpoint/workspace/project`` or a ``[default]`` table) are read as the ``default`` profile.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import stat
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rundial.cli._errors import CliError

__all__ = ["DEFAULT_ENDPOINT", "ConfigStore", "Profile", "config_path", "write_private_file"]

DEFAULT_ENDPOINT = "http://127.0.0.1:8787"
CONFIG_VERSION = 2
PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_OPTIONAL_TEXT = ("workspace", "project", "api_key", "session_token")


def config_path() -> Path:
    """``$HOME/.config/rundial/config.toml``, resolved now (tests point ``HOME`` elsewhere)."""
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".config" / "rundial" / "config.toml"


@dataclass
class Profile:
    """One ``[profiles.<name>]`` table. Secrets are only set by the plaintext fallback."""

    name: str
    endpoint: str = DEFAULT_ENDPOINT
    workspace: str | None = None
    project: str | None = None
    auth_mode: str = "none"
    default_format: str = "human"
    insecure_store: bool = False
    api_key: str | None = dataclasses.field(default=None, repr=False)
    session_token: str | None = dataclasses.field(default=None, repr=False)
    created_at_ms: int = dataclasses.field(default_factory=lambda: _now_ms())
    updated_at_ms: int = dataclasses.field(default_factory=lambda: _now_ms())

    def public(self) -> dict[str, Any]:
        """The profile without secrets, camelCase keys (as ``config show`` prints it)."""
        return {"name": self.name, "endpoint": self.endpoint, "workspace": self.workspace,
                "project": self.project, "authMode": self.auth_mode,
                "defaultFormat": self.default_format, "insecureStore": self.insecure_store,
                "hasStoredApiKey": bool(self.api_key), "createdAtMs": self.created_at_ms,
                "updatedAtMs": self.updated_at_ms}


class ConfigStore:
    """The parsed config file. Mutations stay in memory until :meth:`save`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_path()
        self.load_error: str | None = None
        self.tightened_mode = False
        self.active_profile = "default"
        self.profiles: dict[str, Profile] = {}
        self._load()
        self.profiles.setdefault("default", Profile("default"))
        if self.active_profile not in self.profiles:
            self.active_profile = "default"

    def profile(self, name: str | None = None) -> Profile:
        """The named (default: active) profile, created in memory when unknown."""
        name = name or self.active_profile
        if not PROFILE_NAME.match(name):
            raise CliError(f"invalid profile name {name!r}: use letters, digits, '_' and '-'")
        return self.profiles.setdefault(name, Profile(name))

    def update(self, name: str, **fields: Any) -> bool:
        """Set the given profile fields (``None`` values are skipped); True when changed."""
        profile = self.profile(name)
        changed = False
        for key, value in fields.items():
            if value is not None and getattr(profile, key) != value:
                setattr(profile, key, value)
                changed = True
        if changed:
            profile.updated_at_ms = _now_ms()
        return changed

    def clear(self, name: str, *keys: str) -> bool:
        """Reset optional fields (e.g. ``api_key``) to ``None``; True when something changed."""
        profile = self.profile(name)
        changed = any(getattr(profile, key) is not None for key in keys)
        for key in keys:
            setattr(profile, key, None)
        return changed

    def save(self) -> None:
        """Write the file atomically with mode 0600. Raises CliError if it was unparsable."""
        if self.load_error is not None:
            raise CliError(f"not overwriting {self.path}: {self.load_error}; fix or remove it")
        write_private_file(self.path, self.render().encode())

    def render(self) -> str:
        """The TOML text of the whole config."""
        lines = [f"version = {CONFIG_VERSION}", f"active_profile = {_toml_str(self.active_profile)}"]
        for name in sorted(self.profiles):
            lines += ["", f"[profiles.{name}]", *_profile_lines(self.profiles[name])]
        return "\n".join(lines) + "\n"

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
            self._tighten_mode()
            data = tomllib.loads(raw.decode("utf-8"))
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.load_error = f"unreadable config file: {exc}"
            return
        profiles = data.get("profiles")
        if isinstance(profiles, dict):
            self.profiles = {n: _parse_profile(n, p) for n, p in profiles.items()
                             if isinstance(p, dict) and PROFILE_NAME.match(str(n))}
            self.active_profile = str(data.get("active_profile") or "default")
        else:
            legacy = data.get("default")
            table = legacy if isinstance(legacy, dict) else data
            self.profiles = {"default": _parse_profile("default", table)}

    def _tighten_mode(self) -> None:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            os.chmod(self.path, 0o600)
            self.tightened_mode = True


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``: temp file created 0600, fsync, rename.

    The parent directory is created with mode 0700. On failure the temp file is removed and the
    old file is untouched; OSError is turned into CliError.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _parse_profile(name: str, raw: dict[str, Any]) -> Profile:
    profile = Profile(name)
    if isinstance(raw.get("endpoint"), str) and raw["endpoint"].strip():
        profile.endpoint = raw["endpoint"].strip()
    for key in _OPTIONAL_TEXT:
        value = raw.get(key)
        setattr(profile, key, (value.strip() or None) if isinstance(value, str) else None)
    for key in ("auth_mode", "default_format"):
        if isinstance(raw.get(key), str):
            setattr(profile, key, raw[key])
    profile.insecure_store = raw.get("insecure_store") is True
    for key in ("created_at_ms", "updated_at_ms"):
        if isinstance(raw.get(key), int) and not isinstance(raw.get(key), bool):
            setattr(profile, key, raw[key])
    return profile


def _profile_lines(profile: Profile) -> list[str]:
    lines = [f"endpoint = {_toml_str(profile.endpoint)}"]
    lines += [f"{key} = {_toml_str(getattr(profile, key))}" for key in ("workspace", "project")
              if getattr(profile, key) is not None]
    lines += [f"auth_mode = {_toml_str(profile.auth_mode)}",
              f"default_format = {_toml_str(profile.default_format)}",
              f"insecure_store = {'true' if profile.insecure_store else 'false'}"]
    lines += [f"{key} = {_toml_str(getattr(profile, key))}" for key in ("api_key", "session_token")
              if getattr(profile, key) is not None]
    lines += [f"created_at_ms = {profile.created_at_ms}", f"updated_at_ms = {profile.updated_at_ms}"]
    return lines


def _toml_str(value: str) -> str:
    """A TOML basic string (JSON escaping without ``ensure_ascii`` is valid TOML)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _now_ms() -> int:
    return int(time.time() * 1000)
