"""Browser auth for the web UI (issue 15): session cookie, logout, same-origin rule, one-time
login links, against a real collector."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from rundial_collector.config import CollectorConfig
from rundial_collector.web import browser
from rundial_collector.web.appkeys import CONFIG
from rundial_collector.web.errors import ApiError

from tests.collector.control import V1, assert_error, call, new_key, new_target, unique
from tests.collector.uisession import (COOKIE, LOGIN_LINKS, LOGOUT, SESSION, login, set_cookie,
                                       with_cookie)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.helpers.store_backends import (database_dump, database_rows,  # noqa: F401
                                          shared_collector_per_backend)
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.both_stores

WHOAMI = f"{V1}/auth/whoami"


def test_login_sets_a_strict_httponly_session_cookie(shared_collector: CollectorProcess) -> None:
    """The cookie is HttpOnly, SameSite=Strict, Path=/, expiring, and not Secure over http."""
    _, headers = login(shared_collector)
    morsel = set_cookie(headers)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) > 0
    assert not morsel["secure"]


def test_https_request_gets_a_secure_cookie() -> None:
    """Behind TLS (aiohttp sees the scheme as https) the cookie is also Secure."""
    # The collector serves plain http here; the Secure flag follows request.secure, checked
    # through the helper the handlers use.
    req = make_mocked_request("POST", "/", headers={"Host": "x"}).clone(scheme="https")
    response = web.Response()
    browser.set_session_cookie(response, req, "rds_secret")
    assert response.cookies[COOKIE]["secure"] is True
    plain = web.Response()
    browser.set_session_cookie(plain, make_mocked_request("POST", "/"), "rds_secret")
    assert not plain.cookies[COOKIE]["secure"]


def test_cookie_authenticates_read_routes(shared_collector: CollectorProcess) -> None:
    """With only the cookie, read routes answer as the key the session was made from."""
    secret, _ = login(shared_collector)
    status, _, payload = with_cookie(shared_collector, "GET", WHOAMI, secret)
    assert status == 200, payload
    assert payload["globalAdmin"] is True
    status, _, payload = with_cookie(shared_collector, "GET", f"{V1}/workspaces", secret)
    assert status == 200 and payload["workspaces"], payload


def test_session_has_the_scopes_of_its_key(shared_collector: CollectorProcess) -> None:
    """A session made from a project-bound read key sees only that project, and cannot write."""
    target, other = new_target(shared_collector), new_target(shared_collector)
    key = new_key(shared_collector, target, ["project:read"])
    secret, _ = login(shared_collector, key["apiKey"])
    status, _, payload = with_cookie(shared_collector, "GET", f"{target.path}/runs/query",
                                     secret)
    assert status == 200 and payload["runs"] == [], payload
    status, _, payload = with_cookie(shared_collector, "GET", f"{other.path}/runs/query", secret)
    assert_error(status, payload, 403, "FORBIDDEN")
    status, _, payload = with_cookie(shared_collector, "POST", f"{V1}/workspaces", secret,
                                     {"slug": unique("ws")}, origin=shared_collector.url)
    assert_error(status, payload, 403, "FORBIDDEN")


def test_bad_key_gets_401_and_no_cookie(shared_collector: CollectorProcess) -> None:
    status, headers, payload = request("POST", shared_collector.url + SESSION,
                                       {"apiKey": "rdk_" + "n" * 43})
    assert_error(status, payload, 401, "UNAUTHORIZED")
    assert "Set-Cookie" not in headers


def test_malformed_login_body_is_400(shared_collector: CollectorProcess) -> None:
    status, _, payload = request("POST", shared_collector.url + SESSION, {"key": "x"})
    assert_error(status, payload, 400, "INVALID_REQUEST")


def test_logout_ends_the_session_server_side(shared_collector: CollectorProcess) -> None:
    """Logout clears the cookie in the browser and the old secret no longer works."""
    secret, _ = login(shared_collector)
    status, headers, payload = with_cookie(shared_collector, "POST", LOGOUT, secret, {},
                                           origin=shared_collector.url)
    assert status == 200 and payload["loggedOut"] is True
    cleared = set_cookie(headers)[COOKIE]
    assert cleared.value == "" and int(cleared["max-age"]) == 0
    status, _, payload = with_cookie(shared_collector, "GET", WHOAMI, secret)
    assert_error(status, payload, 401, "UNAUTHORIZED")


def test_delete_session_also_logs_out(shared_collector: CollectorProcess) -> None:
    secret, _ = login(shared_collector)
    status, _, _ = with_cookie(shared_collector, "DELETE", SESSION, secret,
                               origin=shared_collector.url)
    assert status == 200
    assert with_cookie(shared_collector, "GET", WHOAMI, secret)[0] == 401


def test_revoking_the_key_ends_its_sessions(shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    key = new_key(shared_collector, target, ["project:read"])
    secret, _ = login(shared_collector, key["apiKey"])
    assert with_cookie(shared_collector, "GET", WHOAMI, secret)[0] == 200
    status, _ = call(shared_collector, "POST", f"{target.path}/api-keys/{key['keyId']}/revoke",
                     {})
    assert status == 200
    status, _, payload = with_cookie(shared_collector, "GET", WHOAMI, secret)
    assert_error(status, payload, 401, "UNAUTHORIZED")


def test_cross_origin_cookie_post_is_403(shared_collector: CollectorProcess) -> None:
    """A state-changing request carried by the cookie from another origin is refused."""
    secret, _ = login(shared_collector)
    body = {"slug": unique("ws")}
    for origin in ("http://evil.example", None, "null"):
        status, _, payload = with_cookie(shared_collector, "POST", f"{V1}/workspaces", secret,
                                         body, origin=origin)
        assert_error(status, payload, 403, "FORBIDDEN")
    status, _, payload = with_cookie(shared_collector, "POST", f"{V1}/workspaces", secret,
                                     body, origin=shared_collector.url)
    assert status == 201, payload


def test_authorization_header_requests_ignore_origin(shared_collector: CollectorProcess) -> None:
    """SDK and CLI requests (bearer key) are unaffected by the same-origin rule."""
    status, _ = call(shared_collector, "POST", f"{V1}/workspaces", {"slug": unique("ws")},
                     headers={"Origin": "http://evil.example"})
    assert status == 201


def test_cross_origin_login_is_403(shared_collector: CollectorProcess) -> None:
    """Another site cannot log a browser into a session of its choosing."""
    status, headers, payload = request("POST", shared_collector.url + SESSION,
                                       {"apiKey": shared_collector.api_key},
                                       headers={"Origin": "http://evil.example"})
    assert_error(status, payload, 403, "FORBIDDEN")
    assert "Set-Cookie" not in headers


def test_sessions_are_stored_hashed(shared_collector: CollectorProcess) -> None:
    secret, _ = login(shared_collector)
    hashes = {row[0] for row in database_rows(shared_collector,
                                              "SELECT token_hash FROM ui_sessions")}
    dump = database_dump(shared_collector)
    assert hashlib.sha256(secret.encode()).hexdigest() in hashes
    assert secret not in dump


def _login_link(proc: CollectorProcess) -> str:
    status, payload = call(proc, "POST", LOGIN_LINKS, {})
    assert status == 201, payload
    assert payload["expiresAtMs"] > 0
    url = urlsplit(payload["url"])
    assert f"{url.scheme}://{url.netloc}" == proc.url and url.path == "/login"
    return f"{url.path}?{url.query}"


def test_one_time_login_link_works_once(shared_collector: CollectorProcess) -> None:
    link = _login_link(shared_collector)
    status, headers, _ = request("GET", shared_collector.url + link, headers={},
                                 follow_redirects=False)
    assert status == 303 and headers["Location"] == "/"
    secret = set_cookie(headers)[COOKIE].value
    assert with_cookie(shared_collector, "GET", WHOAMI, secret)[0] == 200
    status, headers, _ = request("GET", shared_collector.url + link, follow_redirects=False)
    assert status == 303 and headers["Location"] == "/login?link=invalid"
    assert "Set-Cookie" not in headers


def test_login_links_need_an_api_key_not_a_cookie(shared_collector: CollectorProcess) -> None:
    secret, _ = login(shared_collector)
    status, _, payload = with_cookie(shared_collector, "POST", LOGIN_LINKS, secret, {},
                                     origin=shared_collector.url)
    assert_error(status, payload, 401, "UNAUTHORIZED")


def test_unknown_login_token_redirects_to_login(shared_collector: CollectorProcess) -> None:
    status, headers, _ = request("GET", shared_collector.url + "/login?once=rdo_bogus",
                                 follow_redirects=False)
    assert status == 303 and headers["Location"] == "/login?link=invalid"


def test_once_token_is_masked_in_the_access_log(shared_collector: CollectorProcess) -> None:
    link = _login_link(shared_collector)
    token = link.split("once=")[1]
    request("GET", shared_collector.url + link, follow_redirects=False)
    wait_until(lambda: "/login?once=***" in shared_collector.log_text(),
               message="the masked access log line")
    assert token not in shared_collector.log_text()


def test_cookie_websocket_upgrade_needs_the_collector_origin() -> None:
    """A cookie-authenticated WebSocket is state-like: a foreign Origin is refused; plain
    cookie GETs (page loads, reads) need no Origin."""
    app = web.Application()
    app[CONFIG] = CollectorConfig()
    ws_headers = {"Host": "127.0.0.1:8787", "Upgrade": "websocket", "Connection": "Upgrade"}
    foreign = make_mocked_request("GET", "/api/v1/runs/r/events/ws", app=app,
                                  headers={**ws_headers, "Origin": "http://evil.example"})
    with pytest.raises(ApiError) as raised:
        browser.check_cookie_request(foreign)
    assert raised.value.status == 403
    own = make_mocked_request("GET", "/api/v1/runs/r/events/ws", app=app,
                              headers={**ws_headers, "Origin": "http://127.0.0.1:8787"})
    browser.check_cookie_request(own)
    browser.check_cookie_request(make_mocked_request("GET", "/api/v1/workspaces", app=app))
