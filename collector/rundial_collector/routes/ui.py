"""The web UI's pages and files (docs/ui.md).

* ``GET /`` and every page path under ``/p/`` (a project ``/p/{ws}/{project}``, a run
  ``/p/{ws}/{project}/r/{runId}``): the UI shell (``ui/static/index.html``) for a valid
  session, else a 303 to ``/login``; the shell's router draws the page.
* ``GET /login``: the login page; ``GET /login?once=<token>`` redeems a one-time login token
  (:mod:`rundial_collector.routes.ui_session`), sets the session cookie and answers 303 to
  ``/`` (or 303 to ``/login?link=invalid`` when the token is unknown, used or expired).
* ``GET /ui/{path}``: our ES modules and CSS (sub-folders by stage: ``core/``, ``pages/``…); ``GET /ui/vendor/{path}``: the vendored uPlot
  build copied by ``make`` (absent in a source checkout that has not run ``make``: 404).

The files are read once at start-up; only those files are served (no path is ever joined from
the request). Every answer carries the UI security headers (:func:`browser.ui_headers`); an
HTML page's CSP also allows the sha256 of each inline import map it holds.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from rundial_collector.routes import ui_session
from rundial_collector.web import auth, browser, errors
from rundial_collector.web.errors import ApiError

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
_TYPES = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
          ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml",
          ".map": "application/json"}
_IMPORT_MAP = re.compile(rb'<script type="importmap">(.*?)</script>', re.DOTALL)


@dataclass(frozen=True)
class UiFile:
    body: bytes
    content_type: str
    script_hashes: tuple[str, ...]


def load_files(root: Path) -> dict[str, UiFile]:
    """Every servable file under ``root`` by its relative posix path (empty when absent)."""
    files: dict[str, UiFile] = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        content_type = _TYPES.get(path.suffix)
        if path.is_file() and content_type is not None:
            body = path.read_bytes()
            hashes = tuple(_sha256_source(m.group(1)) for m in _IMPORT_MAP.finditer(body))
            files[path.relative_to(root).as_posix()] = UiFile(body, content_type, hashes)
    return files


def _sha256_source(script: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode()


STATIC = web.AppKey("rundial_ui_static", dict)
VENDOR = web.AppKey("rundial_ui_vendor", dict)


def serve(files: dict[str, UiFile], name: str) -> web.Response:
    """The file ``name`` with the UI headers; 404 when it is not one of ``files``."""
    found = files.get(name)
    if found is None:
        raise errors.not_found(f"{name} is not a UI file")
    response = web.Response(body=found.body, content_type=found.content_type,
                            charset="utf-8" if found.content_type.startswith("text/") else None)
    response.headers["Cache-Control"] = "no-cache"
    browser.ui_headers(response, found.script_hashes)
    return response


async def index(request: web.Request) -> web.StreamResponse:
    """The UI shell for a logged-in browser, else a redirect to the login page."""
    try:
        await auth.authenticate(request)
    except ApiError:
        return _redirect("/login")
    return serve(request.app[STATIC], "index.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    """The login page, or the redemption of a one-time ``once`` token."""
    token = request.query.get("once")
    if token is None:
        return serve(request.app[STATIC], "login.html")
    key = await ui_session.redeem_login_token(request, token) if token else None
    if key is None:
        return _redirect("/login?link=invalid")
    secret, _ = await ui_session.new_session(request, key.key_id)
    response = _redirect("/")
    browser.set_session_cookie(response, request, secret)
    return response


async def static_file(request: web.Request) -> web.Response:
    return serve(request.app[STATIC], request.match_info["name"])


async def vendor_file(request: web.Request) -> web.Response:
    return serve(request.app[VENDOR], request.match_info["path"])


def _redirect(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location,
                                                 "Cache-Control": "no-store"})
    browser.ui_headers(response)
    return response


def setup_routes(app: web.Application) -> None:
    app[STATIC] = load_files(UI_DIR / "static")
    app[VENDOR] = load_files(UI_DIR / "vendor")
    app.router.add_get("/", index)
    app.router.add_get("/login", login_page)
    app.router.add_get("/ui/vendor/{path:.+}", vendor_file)
    app.router.add_get("/ui/{name:[A-Za-z0-9_./-]+}", static_file)
    app.router.add_get("/p/{page:.+}", index)
    ui_session.setup_routes(app)
