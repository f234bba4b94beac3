"""The web UI's transfer size: every JS and CSS file its pages load, raw and gzip-compressed.

Used by ``benchmarks/ui.py`` (figure ``size``); runs without a browser. The crawl starts at the
two pages a user loads, ``/`` (the shell, fetched with a session cookie) and ``/login``: their
``<link rel="stylesheet">`` and ``<script src>`` files, then every module those import
(``import … from "x"``, ``import "x"``, ``export … from "x"``, ``import("x")`` with a literal,
bare names resolved through the page's import map) and every CSS ``@import``. Each file is
compressed on its own with gzip level 6 (what a reverse proxy typically uses; the collector
itself serves them gzip-compressed at level 9, so a little smaller). A page's versioned paths
(``/v/{version}/ui/…``) are listed under their plain ``/ui/…`` path. Files under ``ui/static``
the crawl does not reach are listed separately, so a module loaded by a computed path is not silently left out.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import orjson

STATIC_DIR = Path(__file__).resolve().parent.parent / "collector/rundial_collector/ui/static"
GZIP_LEVEL = 6
_HTML_REFS = re.compile(r'<(?:link[^>]*\brel="stylesheet"[^>]*\bhref|script[^>]*\bsrc)="([^"]+)"')
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)
_JS_IMPORTS = re.compile(
    r'(?:\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?|\bexport\s*[\w*{}\s,$]*\s*from\s*|'
    r'\bimport\s*\(\s*)["\']([^"\']+)["\']')
_CSS_IMPORTS = re.compile(r'@import\s+(?:url\()?["\']?([^"\')\s;]+)')
_BLOCK_COMMENTS = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENTS = re.compile(r"(^|[^:\"'\\])//.*", re.MULTILINE)
_VERSIONED = re.compile(r"^/v/[0-9a-f]+/ui/")

Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class Asset:
    path: str
    raw_bytes: int
    gzip_bytes: int


def gzip_size(body: bytes) -> int:
    return len(gzip.compress(body, GZIP_LEVEL, mtime=0))


def references(path: str, body: bytes, import_map: dict[str, str]) -> list[str]:
    """The same-origin paths ``body`` (served at ``path``) makes the browser load."""
    text = body.decode("utf-8", "replace")
    if path.endswith(".css"):
        found = _CSS_IMPORTS.findall(text)
    elif path.endswith((".js", ".mjs")):  # JSDoc's import("x").T in comments loads nothing
        code = _LINE_COMMENTS.sub(r"\1", _BLOCK_COMMENTS.sub("", text))
        found = _JS_IMPORTS.findall(code)
    else:
        found = _HTML_REFS.findall(text)
    out = []
    for spec in found:
        spec = import_map.get(spec, spec)
        url = urlsplit(urljoin("http://host" + path, spec))
        if url.netloc == "host":
            out.append(url.path)
    return out


def crawl(fetch: Fetch, pages: list[str]) -> list[Asset]:
    """Every JS/CSS file reachable from ``pages`` (each fetched once), in discovery order."""
    seen: dict[str, Asset] = {}
    for page in pages:
        html = fetch(page)
        import_map: dict[str, str] = {}
        for block in _IMPORT_MAP.findall(html.decode()):
            import_map.update(json.loads(block).get("imports", {}))
        todo = references(page, html, import_map)
        while todo:
            path = todo.pop(0)
            plain = _VERSIONED.sub("/ui/", path)  # one file, whichever path named it
            if plain in seen:
                continue
            body = fetch(path)
            seen[plain] = Asset(plain, len(body), gzip_size(body))
            todo.extend(references(path, body, import_map))
    return list(seen.values())


def unreached(assets: list[Asset]) -> list[Asset]:
    """JS/CSS files under ``ui/static`` that the crawl did not load (sizes from disk)."""
    loaded = {a.path for a in assets}
    out = []
    for file in sorted(STATIC_DIR.rglob("*")):
        path = "/ui/" + file.relative_to(STATIC_DIR).as_posix()
        if file.suffix in (".js", ".css") and path not in loaded:
            body = file.read_bytes()
            out.append(Asset(path, len(body), gzip_size(body)))
    return out


def session_fetcher(host: str, port: int, api_key: str) -> Fetch:
    """A GET function carrying a UI session cookie made from ``api_key`` (raises on non-200)."""
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("POST", "/api/v1/ui/session", orjson.dumps({"apiKey": api_key}),
                 {"Content-Type": "application/json"})
    reply = conn.getresponse()
    reply.read()
    cookie = (reply.getheader("Set-Cookie") or "").split(";")[0]
    if reply.status >= 300 or not cookie:
        raise RuntimeError(f"UI session refused: HTTP {reply.status}")

    def fetch(path: str) -> bytes:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
        return body

    return fetch


def print_size(assets: list[Asset], goal_bytes: int) -> None:
    """The per-file table, the total against the goal, and what the crawl did not reach."""
    for asset in sorted(assets, key=lambda a: -a.gzip_bytes):
        print(f"    {asset.path:<48} {asset.raw_bytes / 1024:8.1f} KB  "
              f"gzip {asset.gzip_bytes / 1024:7.1f} KB")
    raw = sum(a.raw_bytes for a in assets)
    packed = sum(a.gzip_bytes for a in assets)
    vendor = sum(a.gzip_bytes for a in assets if a.path.startswith("/ui/vendor/"))
    print(f"  size: {len(assets)} files, {raw / 1024:.1f} KB raw, {packed / 1024:.1f} KB gzip "
          f"(uPlot {vendor / 1024:.1f} KB of it); goal <= {goal_bytes // 1024} KB: "
          f"{packed / goal_bytes:.2f} of goal")
    missed = unreached(assets)
    if missed:
        print(f"  not loaded by the pages: {', '.join(a.path for a in missed)} "
              f"({sum(a.gzip_bytes for a in missed) / 1024:.1f} KB gzip)")
