"""The access log: one line per request, with secrets in query strings masked."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from rundial_collector.middleware import _log_access


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
