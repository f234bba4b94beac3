"""config.toml (mode 0600, precedence, robustness) and where secrets are kept."""

from __future__ import annotations

import stat
import sys
import tomllib
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rundial.cli._config import ConfigStore, Profile
from tests.cli.clirun import CliResult
from tests.helpers.collector_proc import CollectorProcess


def config_file(home: Path) -> Path:
    return home / ".config" / "rundial" / "config.toml"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_config_file_is_created_0600_in_a_0700_directory(cli: Callable[..., CliResult],
                                                          home: Path) -> None:
    """The first save creates the file with mode 0600 and its directory with 0700."""
    result = cli("target", "use", "--workspace", "ws1", "--project", "p1")
    assert result.code == 0, result.err
    path = config_file(home)
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    profile = tomllib.loads(path.read_text())["profiles"]["default"]
    assert (profile["workspace"], profile["project"]) == ("ws1", "p1")


def test_a_world_readable_config_is_tightened(cli: Callable[..., CliResult], home: Path) -> None:
    """A config file readable by others is chmod'ed to 0600 on the next run, with a warning."""
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text('version = 2\nactive_profile = "default"\n')
    path.chmod(0o644)
    result = cli("config", "show")
    assert result.code == 0
    assert mode(path) == 0o600 and "0600" in result.err


def test_an_unparsable_config_is_reported_and_never_overwritten(cli: Callable[..., CliResult],
                                                                 home: Path) -> None:
    """A broken file gives a warning; a command that would save it fails (exit 1) instead."""
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text("this is [not toml\n")
    shown = cli("config", "show", "--json")
    assert shown.code == 0 and "ignoring" in shown.err
    saved = cli("target", "use", "--workspace", "w", "--project", "p")
    assert saved.code == 1 and "not overwriting" in saved.err
    assert path.read_text() == "this is [not toml\n"


def test_legacy_flat_config_is_read_as_the_default_profile(cli: Callable[..., CliResult],
                                                           home: Path) -> None:
    """Top-level endpoint/workspace/project (older files) become the default profile."""
    path = config_file(home)
    path.parent.mkdir(parents=True)
    path.write_text('endpoint = "http://legacy:1"\nworkspace = "lw"\nproject = "lp"\n')
    resolved = cli("config", "show", "--json").json()["resolved"]
    assert (resolved["endpoint"], resolved["workspace"], resolved["project"]) == \
        ("http://legacy:1", "lw", "lp")


def test_odd_characters_round_trip_through_the_toml_writer(tmp_path: Path) -> None:
    """Quotes, backslashes, newlines, DEL and non-ASCII survive a save and a tomllib read."""
    store = ConfigStore(tmp_path / "c.toml")
    odd = 'a"b\\c\nd\x7fé😀'
    store.update("default", workspace=odd, api_key=odd)
    store.save()
    again = ConfigStore(tmp_path / "c.toml").profile()
    assert again.workspace == odd and again.api_key == odd


def test_precedence_flag_over_env_over_config(cli: Callable[..., CliResult], home: Path) -> None:
    """endpoint/workspace/project: flag > RUNDIAL_* > config.toml > default."""
    assert cli("target", "use", "--workspace", "cfg-ws", "--project", "cfg-p",
               "--endpoint", "http://cfg:1").code == 0

    def resolved(*args: str, env: dict[str, str] | None = None) -> dict[str, str]:
        return cli("config", "show", "--json", *args, env=env).json()["resolved"]

    env = {"RUNDIAL_ENDPOINT": "http://env:2", "RUNDIAL_WORKSPACE": "env-ws",
           "RUNDIAL_PROJECT": "env-p"}
    assert resolved()["endpoint"] == "http://cfg:1"
    assert resolved()["workspace"] == "cfg-ws"
    assert resolved(env=env)["endpoint"] == "http://env:2"
    assert resolved(env=env)["project"] == "env-p"
    flagged = resolved("--endpoint", "http://flag:3", "--workspace", "flag-ws", env=env)
    assert (flagged["endpoint"], flagged["workspace"], flagged["project"]) == \
        ("http://flag:3", "flag-ws", "env-p")


def test_json_output_is_never_persisted_as_the_default(cli: Callable[..., CliResult],
                                                       home: Path) -> None:
    """Unlike rc1, one ``--json`` invocation does not make JSON the profile's format."""
    assert cli("--json", "target", "use", "--workspace", "w", "--project", "p").code == 0
    assert tomllib.loads(config_file(home).read_text())["profiles"]["default"][
        "default_format"] == "human"
    assert cli("config", "show").out.startswith("Configuration (profile default)\n")


@pytest.fixture
def fake_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[tuple[str, str], str]]:
    """An in-memory ``keyring`` module (a stand-in for the OS keyring, not for our server)."""
    vault: dict[tuple[str, str], str] = {}
    module = types.ModuleType("keyring")
    module.get_password = lambda s, u: vault.get((s, u))  # type: ignore[attr-defined]
    module.set_password = lambda s, u, p: vault.__setitem__((s, u), p)  # type: ignore[attr-defined]
    module.delete_password = lambda s, u: vault.pop((s, u))  # type: ignore[attr-defined]
    module.get_keyring = lambda: object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", module)
    yield vault


def test_without_keyring_the_key_goes_to_the_config_file_with_a_warning(
        cli: Callable[..., CliResult], home: Path, shared_collector: CollectorProcess,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No keyring: login stores the key in config.toml (0600) and warns; whoami then works."""
    monkeypatch.setitem(sys.modules, "keyring", None)
    login = cli("auth", "login", "--api-key", shared_collector.api_key,
                "--endpoint", shared_collector.url, "--json")
    assert login.code == 0, login.err
    assert "no OS keyring" in login.err and login.json()["secretStore"] == "config"
    assert mode(config_file(home)) == 0o600
    assert shared_collector.api_key in config_file(home).read_text()
    assert cli("auth", "whoami", "--json").json()["whoami"]["authenticated"] is True
    quiet = cli("auth", "login", "--api-key", shared_collector.api_key, "--allow-plaintext-store")
    assert quiet.code == 0 and "no OS keyring" not in quiet.err
    assert cli("auth", "logout").code == 0  # rc1 crashed here without a keyring
    assert shared_collector.api_key not in config_file(home).read_text()
    assert cli("auth", "whoami").code == 2


def test_a_stored_key_is_never_sent_to_another_endpoint(cli: Callable[..., CliResult],
                                                        shared_collector: CollectorProcess,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The file-stored key belongs to the profile's endpoint; ``--endpoint other`` has none."""
    monkeypatch.setitem(sys.modules, "keyring", None)
    assert cli("auth", "login", "--api-key", shared_collector.api_key,
               "--endpoint", shared_collector.url).code == 0
    assert cli("config", "show", "--json").json()["resolved"]["authenticated"] is True
    other = cli("auth", "whoami", "--endpoint", "http://127.0.0.1:9", "--json")
    assert other.code == 2 and "no API key" in other.error()["error"]["message"]


def test_with_a_keyring_the_key_never_touches_the_file(
        cli: Callable[..., CliResult], home: Path, shared_collector: CollectorProcess,
        fake_keyring: dict[tuple[str, str], str]) -> None:
    """With keyring importable the secret lives there (rc1's service name) and logout clears it."""
    login = cli("auth", "login", "--api-key", shared_collector.api_key,
                "--endpoint", shared_collector.url, "--json")
    assert login.code == 0 and login.json()["secretStore"] == "keyring"
    assert shared_collector.api_key not in config_file(home).read_text()
    (service, user), = fake_keyring
    assert service.startswith("rundial-cli:default:") and user == "api_key"
    assert cli("auth", "whoami").code == 0
    assert cli("auth", "logout").code == 0 and not fake_keyring
    assert cli("auth", "whoami").code == 2


def test_api_key_precedence_flag_over_env_over_stored(cli: Callable[..., CliResult],
                                                      shared_collector: CollectorProcess,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """--api-key beats RUNDIAL_API_KEY, which beats the stored key (checked by the collector)."""
    monkeypatch.setitem(sys.modules, "keyring", None)
    url, good = shared_collector.url, shared_collector.api_key
    assert cli("auth", "login", "--api-key", good, "--endpoint", url).code == 0
    assert cli("auth", "whoami").code == 0
    assert cli("auth", "whoami", env={"RUNDIAL_API_KEY": "rdk_bad"}).code == 2
    assert cli("auth", "whoami", "--api-key", good, env={"RUNDIAL_API_KEY": "rdk_bad"}).code == 0
    assert cli("auth", "whoami", "--api-key", "rdk_bad", env={"RUNDIAL_API_KEY": good}).code == 2


def test_profile_dataclass_hides_secrets_from_public_output() -> None:
    """``Profile.public()`` reports whether a key is stored but never the key."""
    public = Profile("p", api_key="rdk_secret").public()
    assert "rdk_secret" not in repr(public) and public["hasStoredApiKey"] is True
