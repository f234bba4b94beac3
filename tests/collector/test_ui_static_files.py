"""How the UI's files are served (docs/ui.md "How it is built"): gzip when accepted, strong
ETags with 304s, and the shell's module preload links, which name exactly the modules the page
imports (checked against the size benchmark's independent crawl)."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from benchmarks.ui_size import crawl, session_fetcher
from rundial_collector.routes.ui import accepts_gzip
from rundial_collector.routes.ui_files import module_graph, resolve, with_preloads
from tests.collector.uisession import login
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def test_files_are_gzipped_only_when_accepted(shared_collector: CollectorProcess) -> None:
    url = shared_collector.url + "/ui/app.js"
    status, plain_headers, plain = request("GET", url)
    assert status == 200 and "Content-Encoding" not in plain_headers
    status, headers, packed = request("GET", url, headers=GZIP)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed) == plain and len(packed) < len(plain)
    for h in (plain_headers, headers):
        assert h["Vary"] == "Accept-Encoding" and h["Cache-Control"] == "no-cache"
        assert h["Content-Security-Policy"].startswith("default-src 'self'")
    assert headers["ETag"] != plain_headers["ETag"]


@pytest.mark.parametrize("extra", [{}, GZIP])
def test_if_none_match_gets_a_304(shared_collector: CollectorProcess,
                                  extra: dict[str, str]) -> None:
    url = shared_collector.url + "/ui/style.css"
    _, headers, _ = request("GET", url, headers=extra)
    etag = headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}(-gz)?"', etag)
    status, again, body = request("GET", url, headers={**extra, "If-None-Match": etag})
    assert status == 304 and body == b"" and again["ETag"] == etag
    status, _, body = request("GET", url, headers={**extra, "If-None-Match": '"other"'})
    assert status == 200 and body


def test_shell_preloads_every_module_it_imports(shared_collector: CollectorProcess) -> None:
    """Every JS file the crawl reaches from ``/`` is a module script or preloaded, but the run
    page's modules, which are imported on demand (only on the run page); every preload answers
    200; the CSP still allows only the import map."""
    secret, _ = login(shared_collector)
    status, headers, body = request("GET", shared_collector.url + "/",
                                    headers={"Cookie": f"rundial_session={secret}"})
    assert status == 200
    preloads = re.findall(rb'<link rel="modulepreload" href="([^"]+)">', body)
    entries = re.findall(rb'<script type="module" src="([^"]+)">', body)
    assert len(preloads) == len(set(preloads)) and not set(preloads) & set(entries)
    assets = crawl(session_fetcher("127.0.0.1", shared_collector.port, shared_collector.api_key),
                   ["/"])
    scripts = {a.path for a in assets if a.path.endswith(".js")}
    plain = {re.sub(r"^/v/[0-9a-f]{16}/ui/", "/ui/", p.decode()) for p in preloads + entries}
    on_demand = {p for p in scripts if p == "/ui/pages/run.js" or p.startswith("/ui/runpage/")}
    assert "/ui/pages/run.js" in on_demand and plain == scripts - on_demand
    assert "/ui/vendor/uplot/uPlot.esm.js" in scripts
    for path in preloads:
        assert request("GET", shared_collector.url + path.decode())[0] == 200
    assert headers["Content-Security-Policy"].count("'sha256-") == 1


def test_pages_link_versioned_immutable_paths(shared_collector: CollectorProcess) -> None:
    """Every ``/ui/`` link of the login page is versioned; the versioned path serves the same
    bytes, immutable; another version is a 404; the shell links only versioned paths (its
    import map's ``uplot`` too, so a load revalidates nothing) and maps plain ``/ui/`` there."""
    _, _, login_page = request("GET", shared_collector.url + "/login")
    links = re.findall(rb'(?:href|src)="(/[^"]+)"', login_page)
    assert links and all(re.fullmatch(rb"/v/[0-9a-f]{16}/ui/[\w./-]+", u) for u in links)
    version = links[0].split(b"/")[2].decode()
    for url in links:
        status, headers, body = request("GET", shared_collector.url + url.decode())
        assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"
        plain = request("GET", shared_collector.url + url.decode()[len(version) + 3:])
        assert plain[0] == 200 and plain[2] == body and plain[1]["Cache-Control"] == "no-cache"
    other = "0" * 16 if version != "0" * 16 else "1" * 16
    assert request("GET", f"{shared_collector.url}/v/{other}/ui/login.js")[0] == 404
    assert request("GET", f"{shared_collector.url}/v/{version}/ui/nope.js")[0] == 404
    secret, _ = login(shared_collector)
    _, _, shell = request("GET", shared_collector.url + "/",
                          headers={"Cookie": f"rundial_session={secret}"})
    import_map = re.search(rb'<script type="importmap">(.*?)</script>', shell)
    assert import_map is not None
    imports = json.loads(import_map.group(1))["imports"]
    assert imports == {"uplot": f"/v/{version}/ui/vendor/uplot/uPlot.esm.js",
                       "/ui/": f"/v/{version}/ui/"}
    shell_links = re.findall(rb'(?:href|src)="(/[^"]+)"', shell)
    assert f'src="/v/{version}/ui/core/keys.js"'.encode() in shell
    assert all(u.startswith(f"/v/{version}/ui/".encode()) for u in shell_links), shell_links
    for url in shell_links:
        status, headers, _ = request("GET", shared_collector.url + url.decode())
        assert status == 200 and headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_module_graph_follows_static_imports_only() -> None:
    known = {"/ui/app.js": b'import a from "./lib/a.js";\nexport { b } from "./b.js";\n'
                           b'// import "./commented.js";\nimport u from "uplot";\n'
                           b'const later = () => import("./lazy.js");\n',
             "/ui/lib/a.js": b'import "../b.js";\nimport {\n  x,\n  y } from "./c.js";\n',
             "/ui/lib/c.js": b"", "/ui/b.js": b'import "./app.js";', "/v/u.js": b"",
             "/ui/commented.js": b"", "/ui/lazy.js": b""}
    assert module_graph(["/ui/app.js"], known, {"uplot": "/v/u.js"}) == [
        "/ui/app.js", "/ui/lib/a.js", "/ui/b.js", "/ui/lib/c.js", "/v/u.js"]
    assert resolve("/ui/a/b.js", "https://cdn.example/x.js", {}) is None
    page = (b'<script type="importmap">{"imports": {"uplot": "/v/u.js"}}</script>\n'
            b'<!-- modulepreload -->\n<script type="module" src="/ui/lib/a.js"></script>')
    assert re.findall(rb'modulepreload" href="([^"]+)"', with_preloads(page, known)) == [
        b"/ui/b.js", b"/ui/app.js", b"/v/u.js", b"/ui/lib/c.js"]
    assert with_preloads(b"<p>no marker</p>", known) == b"<p>no marker</p>"


@pytest.mark.parametrize("header,expected", [
    ("gzip", True), ("deflate, gzip;q=0.5", True), ("*", True), ("GZIP", True),
    ("gzip;q=0", False), ("gzip; q=0.0", False), ("identity", False), (None, False),
    ("br", False), ("gzip;q=zz", False)])
def test_accepts_gzip(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected
