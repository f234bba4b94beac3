"""The UI's pages and files as served over HTTP: redirects and security headers."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from rundial_collector.web.browser import content_security_policy
from tests.collector.uisession import login
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
              "blob:; media-src 'self'; connect-src 'self'; object-src 'none'; "
              "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def _assert_ui_headers(headers: dict[str, str]) -> None:
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")


def test_csp_is_the_documented_policy() -> None:
    assert content_security_policy() == STRICT_CSP


def test_root_without_session_redirects_to_login(shared_collector: CollectorProcess) -> None:
    status, headers, _ = request("GET", shared_collector.url + "/", follow_redirects=False)
    assert status == 303 and headers["Location"] == "/login"
    _assert_ui_headers(headers)


def test_login_page_is_html_with_no_inline_script(shared_collector: CollectorProcess) -> None:
    status, headers, body = request("GET", shared_collector.url + "/login")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    _assert_ui_headers(headers)
    assert headers["Content-Security-Policy"] == STRICT_CSP
    scripts = re.findall(rb"<script([^>]*)>(.*?)</script>", body, re.DOTALL)
    assert scripts and all(b"src=" in attrs and not inner.strip() for attrs, inner in scripts)


def test_shell_csp_allows_exactly_its_import_map(shared_collector: CollectorProcess) -> None:
    """``/`` for a session: the CSP names the sha256 of the page's inline import map."""
    secret, _ = login(shared_collector)
    status, headers, body = request("GET", shared_collector.url + "/",
                                    headers={"Cookie": f"rundial_session={secret}"})
    assert status == 200
    _assert_ui_headers(headers)
    inline = re.findall(rb'<script type="importmap">(.*?)</script>', body, re.DOTALL)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0]).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path,content_type", [("/ui/app.js", "text/javascript"),
                                               ("/ui/style.css", "text/css")])
def test_static_files_carry_ui_headers(shared_collector: CollectorProcess, path: str,
                                       content_type: str) -> None:
    status, headers, _ = request("GET", shared_collector.url + path)
    assert status == 200 and headers["Content-Type"].startswith(content_type)
    _assert_ui_headers(headers)


@pytest.mark.parametrize("path", ["/ui/nope.js", "/ui/..%2fapp.py", "/ui/vendor/../../app.py",
                                  "/ui/vendor/uplot/LICENSE"])
def test_only_ui_files_are_served(shared_collector: CollectorProcess, path: str) -> None:
    status, _, payload = request("GET", shared_collector.url + path)
    assert status == 404, payload
