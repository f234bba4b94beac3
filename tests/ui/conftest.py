"""Real-browser fixtures: Debian's Chromium driven by the Python ``playwright`` package, against
a real collector on 127.0.0.1 holding a run logged through the real SDK.

Outside CI the tests skip (with the reason) when /usr/bin/chromium or playwright is missing; in
CI (``CI`` set) that is a failure. Never ``playwright install``: the browser is Debian's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOGGED_STEPS = 50
# Records every CSP violation the page reports (an init script is not subject to the CSP).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium per test module (Playwright gives it a fresh profile).

    Module scope, not session: the sync Playwright API keeps an event loop running in this
    thread while it is open, which would break any asyncio test collected after it."""
    if not CHROMIUM.exists():
        _unavailable(f"Debian's chromium is not installed ({CHROMIUM}); `make test` installs "
                     "it when run as root")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def ui_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector with one finished run of :data:`LOGGED_STEPS` steps, logged by the SDK."""
    base = tmp_path_factory.mktemp("ui-collector")
    proc = CollectorProcess(base / "data")
    proc.start()
    try:
        run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                      api_key=proc.api_key, spool_directory=str(base / "spool"), name="ui-run")
        assert isinstance(run, rd.Run)
        for step in range(LOGGED_STEPS):
            run.log({"train/loss": 1.0 / (step + 1)}, step=step)
        run.finish()
        yield proc
    finally:
        proc.stop()


@dataclass
class Recorded:
    """What a browser context did: every request URL and every console message."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def foreign_requests(self, origin: str) -> list[str]:
        return [url for url in self.requests if not url.startswith(origin + "/")
                and urlsplit(url).scheme not in ("data", "blob")]


@pytest.fixture
def ui(browser: Any, ui_collector: CollectorProcess) -> Iterator[tuple[Any, Recorded]]:
    """A fresh browser context (no cookies) on the collector, recording requests and console."""
    context = browser.new_context(base_url=ui_collector.url)
    context.add_init_script(CSP_LISTENER)
    recorded = Recorded()
    context.on("request", lambda req: recorded.requests.append(req.url))
    context.on("console", lambda msg: recorded.console.append(f"{msg.type}: {msg.text}"))
    try:
        yield context, recorded
    finally:
        context.close()


def module_collector(factory: pytest.TempPathFactory, name: str) -> Iterator[CollectorProcess]:
    """A collector of one test module alone (``yield from`` it in a module-scoped fixture),
    stopped at the end: for tests that kill and restart it."""
    proc = CollectorProcess(factory.mktemp(name) / "data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def log_in(page: Any, proc: CollectorProcess, timeout_ms: float = 30_000) -> None:
    """Log ``page`` in with the collector's admin key (the session cookie), landing on ``/``."""
    page.goto("/login", timeout=timeout_ms)
    page.fill("#api-key", proc.api_key)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: url.endswith("/"), timeout=timeout_ms)
