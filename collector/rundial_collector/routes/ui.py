"""The web UI's pages and files (docs/ui.md).

* ``GET /`` and every page path under ``/p/`` (a project ``/p/{ws}/{project}``, a run
  ``/p/{ws}/{project}/r/{runId}``): the UI shell (``ui/static/index.html``) for a valid
  session, else a 303 to ``/login``; the shell's router draws the page.
* ``GET /login``: the login page; ``GET /login?once=<token>`` redeems a one-time login token
  (:mod:`rundial_collector.routes.ui_session`), sets the session cookie and answers 303 to
  ``/`` (or 303 to ``/login?link=invalid`` when the token is unknown, used or expired).
* ``GET /ui/{path}``: our ES modules and CSS (sub-folders by stage: ``core/``, ``pages/``…);
  ``GET /ui/vendor/{path}``: the vendored uPlot build copied by ``make`` (absent in a source
  checkout that has not run ``make``: 404). ``GET /v/{version}/ui/{path}``: the same files
  under this collector's UI version (what the pages link), cached as immutable; another
  version is a 404.

The files are read (and gzip-compressed, and the shell's module preload links computed) once
at start-up (:mod:`rundial_collector.routes.ui_files`); only those files are served (no path is
ever joined from the request); each answer is a conditional one (ETag, 304). Every answer carries the UI security headers (:func:`browser.ui_headers`); an
HTML page's CSP also allows the sha256 of each inline import map it holds.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from rundial_collector.routes import ui_batch, ui_session
from rundial_collector.routes.ui_files import UiFile, load_files, read_tree, ui_version
from rundial_collector.web import auth, browser, errors
from rundial_collector.web.errors import ApiError

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
VENDOR_PREFIX = "/ui/vendor/"


STATIC = web.AppKey("rundial_ui_static", dict)
VENDOR = web.AppKey("rundial_ui_vendor", dict)
VERSION = web.AppKey("rundial_ui_version", str)
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"


def serve(request: web.Request, files: dict[str, UiFile], name: str,
          cache_control: str = REVALIDATE) -> web.Response:
    """The file ``name`` with the UI headers; 404 when it is not one of ``files``.

    gzip-compressed when the request accepts gzip (``Vary: Accept-Encoding`` either way); a 304
    without a body when ``If-None-Match`` names the ETag of the representation it would get.
    ``cache_control`` :data:`REVALIDATE` (plain paths and pages): the browser keeps the file but
    asks each time, so a new collector version is picked up at the next page load;
    :data:`IMMUTABLE` for the versioned paths, whose bytes never change."""
    found = files.get(name)
    if found is None:
        raise errors.not_found(f"{name} is not a UI file")
    packed = found.gzip_body is not None and accepts_gzip(request.headers.get("Accept-Encoding"))
    etag = found.gzip_etag if packed else found.etag
    headers = {"Cache-Control": cache_control, "ETag": etag, "Vary": "Accept-Encoding"}
    if etag in _tags(request.headers.get("If-None-Match")):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(body=found.gzip_body if packed else found.body, headers=headers,
                                content_type=found.content_type,
                                charset="utf-8" if found.content_type.startswith("text/") else None)
        if packed:
            response.headers["Content-Encoding"] = "gzip"
    browser.ui_headers(response, found.script_hashes)
    return response


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (``gzip`` or ``*`` with a q above 0)."""
    for item in (header or "").split(","):
        coding, *params = (part.strip().lower() for part in item.split(";"))
        if coding in ("gzip", "*"):
            q = next((p[2:] for p in params if p.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def _tags(header: str | None) -> set[str]:
    """The entity tags of an ``If-None-Match`` value (a weak ``W/`` prefix is ignored)."""
    return {t.strip().removeprefix("W/") for t in (header or "").split(",") if t.strip()}


async def index(request: web.Request) -> web.StreamResponse:
    """The UI shell for a logged-in browser, else a redirect to the login page."""
    try:
        await auth.authenticate(request)
    except ApiError:
        return _redirect("/login")
    return serve(request, request.app[STATIC], "index.html")


async def login_page(request: web.Request) -> web.StreamResponse:
    """The login page, or the redemption of a one-time ``once`` token."""
    token = request.query.get("once")
    if token is None:
        return serve(request, request.app[STATIC], "login.html")
    key = await ui_session.redeem_login_token(request, token) if token else None
    if key is None:
        return _redirect("/login?link=invalid")
    secret, _ = await ui_session.new_session(request, key.key_id)
    response = _redirect("/")
    browser.set_session_cookie(response, request, secret)
    return response


async def static_file(request: web.Request) -> web.Response:
    return serve(request, request.app[STATIC], request.match_info["name"])


async def vendor_file(request: web.Request) -> web.Response:
    return serve(request, request.app[VENDOR], request.match_info["path"])


async def versioned_file(request: web.Request) -> web.Response:
    """A file under ``/v/{version}/ui/``: immutable; 404 for any version but this one's."""
    version = request.match_info["version"]
    if version != request.app[VERSION]:
        raise errors.not_found(f"UI version {version} is not this collector's: reload the page")
    name = request.match_info["name"]
    if name.startswith("vendor/"):
        return serve(request, request.app[VENDOR], name[len("vendor/"):], IMMUTABLE)
    return serve(request, request.app[STATIC], name, IMMUTABLE)


def _redirect(location: str) -> web.Response:
    response = web.Response(status=303, headers={"Location": location,
                                                 "Cache-Control": "no-store"})
    browser.ui_headers(response)
    return response


def setup_routes(app: web.Application) -> None:
    vendor = read_tree(UI_DIR / "vendor")
    app[VERSION] = ui_version(read_tree(UI_DIR / "static"), vendor)
    app[VENDOR] = load_files(UI_DIR / "vendor", VENDOR_PREFIX)
    app[STATIC] = load_files(UI_DIR / "static", version=app[VERSION],
                             modules={VENDOR_PREFIX + n: body for n, body in vendor.items()})
    app.router.add_get("/", index)
    app.router.add_get("/login", login_page)
    app.router.add_get("/ui/vendor/{path:.+}", vendor_file)
    app.router.add_get("/ui/{name:[A-Za-z0-9_./-]+}", static_file)
    app.router.add_get("/v/{version:[0-9a-f]+}/ui/{name:[A-Za-z0-9_./-]+}", versioned_file)
    app.router.add_get("/p/{page:.+}", index)
    ui_session.setup_routes(app)
    ui_batch.setup_routes(app)
