"""Settings resolution: arguments > env > config file > defaults; validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from rundial._config import (
    DEFAULT_ENDPOINT,
    FLUSH_AT_RECORDS,
    QUEUE_CAPACITY_RECORDS,
    SPOOL_MAX_AGE_S,
    SPOOL_MAX_BYTES,
    build_settings,
)


def write_config(home: Path, text: str) -> None:
    path = home / ".config" / "rundial" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


PROFILE = '''
active_profile = "work"
[profiles.default]
endpoint = "http://default:1"
[profiles.work]
endpoint = "http://file:2"
workspace = "file-ws"
project = "file-proj"
api_key = "rdk_file"
'''


def test_defaults_follow_the_design_notes(isolated_env: Path) -> None:
    """Without env or file: the local endpoint, 20k queue, 1 GiB / 7 days spool, 2k flush."""
    s = build_settings({"project": "p"})
    assert s.endpoint == DEFAULT_ENDPOINT == "http://127.0.0.1:8787"
    assert (s.queue_capacity, s.flush_at_records) == (QUEUE_CAPACITY_RECORDS, FLUSH_AT_RECORDS) == (20_000, 2_000)
    assert (s.spool_max_bytes, s.spool_max_age_seconds) == (SPOOL_MAX_BYTES, SPOOL_MAX_AGE_S)
    assert s.flush_interval_seconds == 1.0 and s.request_timeout_seconds == 30.0
    assert s.spool_root == isolated_env / ".cache" / "rundial" / "spool"


def test_file_then_env_then_arguments_win(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The active profile fills gaps, env overrides it, arguments override both."""
    write_config(isolated_env, PROFILE)
    s = build_settings({})
    assert (s.endpoint, s.workspace, s.project, s.api_key) == ("http://file:2", "file-ws", "file-proj", "rdk_file")
    monkeypatch.setenv("RUNDIAL_ENDPOINT", "http://env:3/")
    monkeypatch.setenv("RUNDIAL_API_KEY", "rdk_env")
    monkeypatch.setenv("RUNDIAL_WORKSPACE", "env-ws")
    monkeypatch.setenv("RUNDIAL_PROJECT", "env-proj")
    s = build_settings({})
    assert (s.endpoint, s.workspace, s.project, s.api_key) == ("http://env:3", "env-ws", "env-proj", "rdk_env")
    s = build_settings({"endpoint": "http://arg:4", "workspace": "a-ws", "project": "a-proj", "api_key": "k"})
    assert (s.endpoint, s.workspace, s.project, s.api_key) == ("http://arg:4", "a-ws", "a-proj", "k")


def test_spool_dir_env_and_unreadable_config(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """RUNDIAL_SPOOL_DIR sets the default spool; a broken config file is ignored with a warning."""
    monkeypatch.setenv("RUNDIAL_SPOOL_DIR", str(isolated_env / "sp"))
    write_config(isolated_env, "not = [valid")
    with pytest.warns(RuntimeWarning, match="unreadable config"):
        s = build_settings({"project": "p"})
    assert s.spool_root == isolated_env / "sp"


def test_api_key_is_not_in_the_repr(isolated_env: Path) -> None:
    """Settings never print the API key."""
    assert "secret" not in repr(build_settings({"project": "p", "api_key": "secret"}))


@pytest.mark.parametrize("options", [
    {"mode": "online-ish"}, {"kind": "x"}, {"resume": "maybe"}, {"distributed": "some"},
    {"queue_capacity": 0}, {"flush_interval_seconds": 0}, {"request_timeout_seconds": -1},
    {"distributed_rank": -1}, {"mode": "offline", "spool_enabled": False},
])
def test_invalid_values_raise_value_error(isolated_env: Path, options: dict) -> None:
    """Bad option values are programming errors, reported at init."""
    with pytest.raises(ValueError):
        build_settings({"project": "p", **options})


def test_unknown_options_raise_and_published_ones_are_accepted(isolated_env: Path) -> None:
    """An unknown keyword is a TypeError; the published SDK's options are accepted."""
    with pytest.raises(TypeError):
        build_settings({"project": "p", "flush_every": 3})
    build_settings({"project": "p", "system_metrics": False, "gzip_enabled": True,
                    "retry_max_attempts": 3, "capture_console": False})


def test_project_is_required_unless_disabled(isolated_env: Path) -> None:
    """No project anywhere: ValueError, except in disabled mode."""
    with pytest.raises(ValueError, match="project"):
        build_settings({})
    assert build_settings({"mode": "disabled"}).mode == "disabled"


def test_a_stored_key_is_never_sent_to_another_endpoint(isolated_env: Path) -> None:
    """The profile's api_key applies to the profile's endpoint only, not to one given elsewhere."""
    write_config(isolated_env, PROFILE)
    assert build_settings({}).api_key == "rdk_file"
    assert build_settings({"endpoint": "http://file:2/"}).api_key == "rdk_file"
    assert build_settings({"endpoint": "http://elsewhere:9"}).api_key is None


class _FakeKeyring:
    """A stand-in for the ``keyring`` package holding one password."""

    def __init__(self, service: str, key: str) -> None:
        self.entries = {(service, "api_key"): key}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))


def test_keyring_key_is_found_under_the_cli_service_name(isolated_env: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A key `rundial auth login` put in the keyring is used for its profile and endpoint only."""
    import sys

    from rundial._credentials import keyring_service
    from rundial.cli._secrets import service_name

    write_config(isolated_env, 'active_profile = "work"\n[profiles.work]\nendpoint = "http://k:1"\n'
                 'project = "p"\n')
    assert service_name("work", "http://k:1") == keyring_service("work", "http://k:1")
    fake = _FakeKeyring(keyring_service("work", "http://k:1"), "rdk_from_keyring")
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert build_settings({}).api_key == "rdk_from_keyring"
    assert build_settings({"endpoint": "http://other:2"}).api_key is None
    monkeypatch.setitem(sys.modules, "keyring", None)  # not installed: no key, no error
    assert build_settings({}).api_key is None
