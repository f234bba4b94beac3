"""The access log: one line per request, with secrets in query strings masked."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from rundial_collector.web.middleware import _log_access
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.waiting import wait_until


def _logged_line(path: str, caplog: object) -> str:
    request = make_mocked_request("GET", path)
    with caplog.at_level(logging.INFO, logger="rundial.access"):  # type: ignore[attr-defined]
        _log_access(request, web.Response(status=200), 0.0)
    return caplog.records[-1].getMessage()  # type: ignore[attr-defined]


def test_token_query_parameter_is_masked(caplog: object) -> None:
    """A browser's ``?token=<api key>`` never reaches the access log in clear."""
    line = _logged_line("/api/v1/runs/r1/events/ws?token=rdk_secret123&cursor=abc", caplog)
    assert "rdk_secret123" not in line
    assert "token=***" in line and "cursor=abc" in line


def test_plain_query_strings_are_logged_unchanged(caplog: object) -> None:
    """Query strings without secrets are logged as sent."""
    line = _logged_line("/api/v1/metrics/keys?projectId=p&limit=8", caplog)
    assert "/api/v1/metrics/keys?projectId=p&limit=8" in line


@pytest.mark.parametrize("name", ["apiKey", "api_key", "key", "access_token", "client_secret",
                                  "password", "Authorization", "sig", "once"])
def test_credential_named_query_values_are_masked(name: str, caplog: object) -> None:
    """Any parameter named like a key, token, secret, password or auth is masked (#14 leaks)."""
    line = _logged_line(f"/api/v1/workspaces?{name}=hunter2-value&limit=5", caplog)
    assert "hunter2-value" not in line
    assert f"{name}=***" in line and "limit=5" in line


def test_key_prefixed_values_are_masked_whatever_the_name(caplog: object) -> None:
    """A value carrying the API key prefix is masked under any name, and in the path too."""
    line = _logged_line("/api/v1/rdk_inpath/x?q=rdk_abcDEF-123&projectId=p", caplog)
    assert "abcDEF" not in line and "inpath" not in line
    assert "projectId=p" in line


def test_api_key_in_query_never_reaches_the_real_access_log(
        shared_collector: CollectorProcess) -> None:
    """End to end: ``?apiKey=<key>`` sent to the real collector is logged masked."""
    secret = shared_collector.api_key
    marker = uuid.uuid4().hex
    status, _, _ = request("GET", f"{shared_collector.url}/api/v1/workspaces?apiKey={secret}"
                           f"&marker={marker}", api_key=secret)
    assert status == 200
    line = wait_until(lambda: next((x for x in shared_collector.log_text().splitlines()
                                    if marker in x), None), message="the access log line")
    assert secret not in line and "apiKey=***" in line


@pytest.mark.parametrize("secret", ["rds_sessionSecret1", "rdo_loginToken1"])
def test_ui_session_and_login_token_values_are_masked(secret: str, caplog: object) -> None:
    """UI session secrets and one-time login tokens are masked under any parameter name."""
    line = _logged_line(f"/login?next={secret}&limit=5", caplog)
    assert secret[4:] not in line and "limit=5" in line
