"""Endpoints: one normal form for the SDK and the CLI, keys found per endpoint, messages that
name the endpoint (issue 13, CLI defects: --endpoint / localhost / no scheme; rundial init)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rundial._config import resolve_target
from rundial._endpoint import endpoint_identity, normalize_endpoint, same_endpoint
from rundial._spool.orphans import same_endpoint as orphans_same_endpoint
from tests.cli.clirun import CliResult
from tests.helpers.collector_proc import CollectorProcess


@pytest.mark.parametrize(("raw", "normal"), [
    ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),
    ("127.0.0.1:8787", "http://127.0.0.1:8787"),
    ("  HTTP://LocalHost:8787//  ", "http://localhost:8787"),
    ("https://tracker.example.com:443/base/", "https://tracker.example.com/base"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_normalize_endpoint(raw: str, normal: str) -> None:
    assert normalize_endpoint(raw) == normal


@pytest.mark.parametrize("raw", ["", "ftp://host", "http://", "http://h:99999", "http://h/?q=1"])
def test_invalid_endpoints_raise_naming_the_value(raw: str) -> None:
    with pytest.raises(ValueError, match="invalid endpoint"):
        normalize_endpoint(raw)


def test_loopback_spellings_are_one_server_and_others_are_not() -> None:
    assert endpoint_identity("localhost:8787") == "http://127.0.0.1:8787"
    assert same_endpoint("http://localhost:8787/", "http://127.0.0.1:8787")
    assert same_endpoint("http://[::1]:8787", "127.0.0.1:8787")
    assert not same_endpoint("http://localhost:8787", "http://localhost:8788")
    assert not same_endpoint("http://127.0.0.1:8787", "http://10.0.0.1:8787")


def test_spooled_runs_and_artifact_jobs_match_endpoints_the_same_way() -> None:
    """The spool (orphan adoption, sync) compares endpoints with the same function."""
    assert orphans_same_endpoint("http://localhost:8787/", "127.0.0.1:8787")
    assert not orphans_same_endpoint("http://localhost:8787", "http://localhost:8788")
    assert orphans_same_endpoint(None, None) and not orphans_same_endpoint(None, "http://h")


def test_the_sdk_finds_a_key_saved_for_localhost_at_127_0_0_1(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess) -> None:
    """rd.init and the CLI share the normal form: a key saved by `auth login` for localhost is
    used by rd.init(endpoint="127.0.0.1:PORT"), which gets a URL with a scheme."""
    port = shared_collector.url.rsplit(":", 1)[1]
    login = cli("auth", "login", "--api-key", shared_collector.api_key,
                "--endpoint", f"localhost:{port}", "--allow-plaintext-store")
    assert login.code == 0, login.err
    target = resolve_target(f"127.0.0.1:{port}", None, None, None)
    assert target["endpoint"] == f"http://127.0.0.1:{port}"
    assert target["api_key"] == shared_collector.api_key


def test_the_cli_finds_the_key_under_any_loopback_spelling_and_without_a_scheme(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess) -> None:
    port = shared_collector.url.rsplit(":", 1)[1]
    assert cli("auth", "login", "--api-key", shared_collector.api_key, "--endpoint",
               f"http://127.0.0.1:{port}/", "--allow-plaintext-store").code == 0
    for spelling in (f"localhost:{port}", f"http://localhost:{port}", f"127.0.0.1:{port}"):
        who = cli("auth", "whoami", "--endpoint", spelling, "--json")
        assert who.code == 0, (spelling, who.err)
        assert who.json()["endpoint"] == normalize_endpoint(spelling)


def test_another_endpoint_says_keys_are_stored_per_endpoint(
        cli: Callable[..., CliResult], shared_collector: CollectorProcess) -> None:
    assert cli("auth", "login", "--api-key", shared_collector.api_key, "--endpoint",
               shared_collector.url, "--allow-plaintext-store").code == 0
    other = cli("run", "list", "--endpoint", "http://127.0.0.1:9", "--workspace", "w",
                "--project", "p")
    assert other.code == 2
    assert "no API key for http://127.0.0.1:9" in other.err
    assert "stored per endpoint" in other.err and shared_collector.url in other.err


def test_a_bad_endpoint_is_one_clear_line(cli: Callable[..., CliResult]) -> None:
    bad = cli("auth", "whoami", "--endpoint", "ftp://x", "--api-key", "k")
    assert bad.code == 1
    assert bad.err.strip() == ("error: invalid endpoint 'ftp://x': expected "
                               "http(s)://host[:port][/path], e.g. http://127.0.0.1:8787 "
                               "(from --endpoint)")


def test_http_errors_name_the_endpoint(cli: Callable[..., CliResult],
                                       shared_collector: CollectorProcess) -> None:
    wrong = cli("auth", "whoami", "--endpoint", shared_collector.url, "--api-key", "rdk_wrong")
    assert wrong.code == 2 and f"{shared_collector.url}/api/v1/auth/whoami" in wrong.err
    assert f"rundial auth login --endpoint {shared_collector.url}" in wrong.err


def test_init_uses_the_key_saved_by_auth_login(cli: Callable[..., CliResult],
                                                shared_collector: CollectorProcess,
                                                home: Path) -> None:
    """`rundial auth login` then `rundial init` (no key given, no terminal): init logs in with
    the saved key instead of failing for want of one."""
    assert cli("auth", "login", "--api-key", shared_collector.api_key, "--endpoint",
               shared_collector.url, "--allow-plaintext-store").code == 0
    result = cli("init", "--workspace", shared_collector.workspace, "--project",
                 shared_collector.project, "--skip-run-start", "--non-interactive", "--json")
    assert result.code == 0, result.err
    login, target = result.lines()
    assert login["authMode"] == "api_key" and login["endpoint"] == shared_collector.url
