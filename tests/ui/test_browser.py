"""The web UI in a real browser (issue 15): login, projects page, logout, one-time link, CSP,
cookie flags, the same-origin rule and the vendored uPlot, with no request to another host."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request
from tests.ui.conftest import Recorded

TIMEOUT_MS = 15_000


def _login(page: Any, api_key: str) -> None:
    page.goto("/", timeout=TIMEOUT_MS)
    page.wait_for_url("**/login", timeout=TIMEOUT_MS)
    page.fill("#api-key", api_key)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/"), timeout=TIMEOUT_MS)


def _project_row(page: Any, collector: CollectorProcess) -> Any:
    row = page.locator(f'section[data-workspace="{collector.workspace}"] '
                       f'tr[data-project="{collector.project}"]')
    row.wait_for(timeout=TIMEOUT_MS)
    return row


def _assert_clean(page: Any, recorded: Recorded, origin: str) -> None:
    """No CSP violation reported, none in the console, and no request to another origin."""
    assert page.evaluate("window.__cspViolations") == []
    assert not [m for m in recorded.console if "Content Security Policy" in m], recorded.console
    assert recorded.foreign_requests(origin) == []


def test_login_shows_projects_with_run_count(ui: tuple[Any, Recorded],
                                             ui_collector: CollectorProcess,
                                             tmp_path: Path) -> None:
    """Key login → the projects page lists the bootstrap project with its one run; uPlot is
    loaded from (versioned) /ui/vendor through the import map; strict CSP without violations; no request
    leaves the collector."""
    context, recorded = ui
    page = context.new_page()
    _login(page, ui_collector.api_key)
    row = _project_row(page, ui_collector)
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "1", cells
    assert cells[2].endswith("ago"), cells
    page.wait_for_function("() => document.documentElement.dataset.uplot !== undefined",
                           timeout=TIMEOUT_MS)
    assert page.evaluate("document.documentElement.dataset.uplot") == "function"
    assert any(re.fullmatch(rf"{ui_collector.url}/v/[0-9a-f]{{16}}/ui/vendor/uplot/uPlot\.esm\.js",
                            url) for url in recorded.requests), recorded.requests
    response = page.goto("/", timeout=TIMEOUT_MS)
    assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
    _project_row(page, ui_collector)
    shot = tmp_path / "projects.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    _assert_clean(page, recorded, ui_collector.url)


def test_session_cookie_flags(ui: tuple[Any, Recorded], ui_collector: CollectorProcess) -> None:
    context, _ = ui
    _login(context.new_page(), ui_collector.api_key)
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies["rundial_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["path"] == "/"
    assert session["expires"] > 0
    page = context.new_page()
    page.goto("/login", timeout=TIMEOUT_MS)
    assert "rundial_session" not in page.evaluate("document.cookie")


def test_wrong_key_shows_an_error(ui: tuple[Any, Recorded],
                                  ui_collector: CollectorProcess) -> None:
    context, recorded = ui
    page = context.new_page()
    page.goto("/login", timeout=TIMEOUT_MS)
    page.fill("#api-key", "rdk_" + "w" * 43)
    page.click("button[type=submit]")
    error = page.locator("#login-error")
    error.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "unknown" in error.inner_text()
    assert page.url.endswith("/login") and context.cookies() == []
    _assert_clean(page, recorded, ui_collector.url)


def test_logout_returns_to_login(ui: tuple[Any, Recorded],
                                 ui_collector: CollectorProcess) -> None:
    context, recorded = ui
    page = context.new_page()
    _login(page, ui_collector.api_key)
    _project_row(page, ui_collector)
    page.click("#logout")
    page.wait_for_url("**/login", timeout=TIMEOUT_MS)
    assert [c for c in context.cookies() if c["name"] == "rundial_session"] == []
    page.goto("/", timeout=TIMEOUT_MS)
    assert page.url.endswith("/login")
    _assert_clean(page, recorded, ui_collector.url)


def test_one_time_link_works_once(browser: Any, ui: tuple[Any, Recorded],
                                  ui_collector: CollectorProcess) -> None:
    status, _, payload = request("POST", ui_collector.url + "/api/v1/ui/login-links", {},
                                 api_key=ui_collector.api_key)
    assert status == 201, payload
    context, recorded = ui
    page = context.new_page()
    page.goto(payload["url"], timeout=TIMEOUT_MS)
    assert page.url == ui_collector.url + "/"
    _project_row(page, ui_collector)
    _assert_clean(page, recorded, ui_collector.url)
    second = browser.new_context()
    try:
        again = second.new_page()
        again.goto(payload["url"], timeout=TIMEOUT_MS)
        assert again.url.endswith("/login?link=invalid")
        assert again.locator("#login-error").is_visible()
        assert second.cookies() == []
    finally:
        second.close()


def test_cookie_post_needs_the_collector_origin(ui: tuple[Any, Recorded],
                                                ui_collector: CollectorProcess) -> None:
    """With the session cookie, a POST from another origin is 403; the page's own is not."""
    context, _ = ui
    page = context.new_page()
    _login(page, ui_collector.api_key)
    url = ui_collector.url + "/api/v1/workspaces"
    foreign = context.request.post(url, data={"slug": "from-evil"},
                                   headers={"Origin": "http://evil.example"})
    assert foreign.status == 403
    assert foreign.json()["error"]["code"] == "FORBIDDEN"
    own = page.evaluate("""async () => (await fetch('/api/v1/workspaces', {method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({slug: 'from-the-ui'})})).status""")
    assert own == 201


def test_theme_follows_the_system_setting(browser: Any, ui_collector: CollectorProcess,
                                          tmp_path: Path) -> None:
    """Dark and light follow ``prefers-color-scheme`` (dark background in dark mode)."""
    backgrounds = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(base_url=ui_collector.url, color_scheme=scheme)
        try:
            page = context.new_page()
            _login(page, ui_collector.api_key)
            _project_row(page, ui_collector)
            page.screenshot(path=str(tmp_path / f"projects-{scheme}.png"))
            backgrounds[scheme] = page.evaluate(
                "getComputedStyle(document.body).backgroundColor")
        finally:
            context.close()
    assert backgrounds["light"] == "rgb(255, 255, 255)"
    assert backgrounds["dark"] == "rgb(13, 17, 23)"
