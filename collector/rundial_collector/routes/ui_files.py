"""The UI's files as the collector serves them, computed once at start (docs/ui.md).

* Every file has a strong ETag (a digest of its bytes) and, when it compresses, a gzip body
  made once here; the gzip representation has its own ETag (``…-gz"``) since its bytes differ.
* An HTML page holding the marker ``<!-- modulepreload -->`` gets, in its place, one
  ``<link rel="modulepreload">`` per module its module scripts import, directly or through
  other modules (static ``import``/``export … from`` only; bare names through the page's import
  map). The list is computed from the files being served, so it cannot go stale, and lets the
  browser fetch every module in one wave instead of one wave per import depth.
* Versioned URLs: :func:`ui_version` is a digest of every file, so it changes whenever one
  does. An HTML page's ``href``/``src`` paths under ``/ui/`` and its import map's targets
  (``uplot``) become ``/v/{version}/ui/…`` (the collector serves those as immutable, so a
  page load revalidates nothing but the page), and its import map gains the prefix entry
  ``"/ui/": "/v/{version}/ui/"``, so a module imported by its plain path after the page's
  import map is read is the very instance the page loaded.
* Each inline import map's sha256 is kept for the page's CSP (computed after the rewrites).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

TYPES = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
         ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml",
         ".map": "application/json"}
URL_PREFIX = "/ui/"
VERSIONED = "/v/{version}/ui/"
PRELOAD_MARKER = b"<!-- modulepreload -->"
GZIP_LEVEL = 9
_IMPORT_MAP = re.compile(rb'<script type="importmap">(.*?)</script>', re.DOTALL)
_MODULE_SCRIPTS = re.compile(rb'<script type="module" src="([^"]+)"')
_UI_REFS = re.compile(rb'\b(href|src)="(/ui/[^"]*)"')
_BLOCK_COMMENTS = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENTS = re.compile(r"^\s*//.*$", re.MULTILINE)
_STATIC_IMPORTS = re.compile(
    r'^\s*(?:import|export)\b(?:[^;"\'`]*?\bfrom)?\s*["\']([^"\']+)["\']', re.MULTILINE)


@dataclass(frozen=True)
class UiFile:
    """One servable file: its bytes, gzip bytes (None when gzip does not make it smaller), the
    strong ETag of each representation and the sha256 sources of its inline import maps."""

    body: bytes
    content_type: str
    script_hashes: tuple[str, ...]
    etag: str
    gzip_body: bytes | None
    gzip_etag: str


def load_files(root: Path, url_prefix: str = URL_PREFIX, modules: dict[str, bytes] | None = None,
               version: str | None = None) -> dict[str, UiFile]:
    """Every servable file under ``root`` by its relative posix path (empty when absent).

    ``url_prefix`` is where ``root`` is served; ``modules`` (URL → bytes) adds files served
    elsewhere (the vendored uPlot) to the import graph used for the preload links; with
    ``version`` the HTML pages link the versioned URLs."""
    raw = read_tree(root)
    known = {url_prefix + name: body for name, body in raw.items()}
    known.update(modules or {})
    return {name: make_file(name, page_body(body, known, version) if name.endswith(".html")
                            else body)
            for name, body in raw.items()}


def ui_version(*trees: dict[str, bytes]) -> str:
    """A digest of every file of ``trees`` (names and bytes): the versioned URLs' segment."""
    digest = hashlib.sha256()
    for tree in trees:
        for name, body in sorted(tree.items()):
            digest.update(hashlib.sha256(name.encode()).digest())
            digest.update(hashlib.sha256(body).digest())
    return digest.hexdigest()[:16]


def page_body(page: bytes, known: dict[str, bytes], version: str | None) -> bytes:
    """An HTML page as served: preload links added, then (with ``version``) versioned URLs."""
    page = with_preloads(page, known)
    return page if version is None else with_version(page, version)


def with_version(page: bytes, version: str) -> bytes:
    """``page`` linking ``/v/{version}/ui/…`` instead of ``/ui/…``, its import map's targets
    included; its import map also maps the plain prefix to the versioned one."""
    versioned = VERSIONED.format(version=version)

    def move(url: str) -> str:
        return versioned + url[len(URL_PREFIX):] if url.startswith(URL_PREFIX) else url

    def link(found: re.Match[bytes]) -> bytes:
        return found.group(1) + b'="' + move(found.group(2).decode()).encode() + b'"'

    def import_map(found: re.Match[bytes]) -> bytes:
        parsed = json.loads(found.group(1))
        imports = {name: move(str(url)) for name, url in parsed.get("imports", {}).items()}
        parsed["imports"] = {**imports, URL_PREFIX: versioned}
        return b'<script type="importmap">' + json.dumps(parsed).encode() + b"</script>"

    return _IMPORT_MAP.sub(import_map, _UI_REFS.sub(link, page))


def read_tree(root: Path) -> dict[str, bytes]:
    """The bytes of every file of a known type under ``root`` (empty when absent)."""
    if not root.is_dir():
        return {}
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file() and path.suffix in TYPES}


def make_file(name: str, body: bytes) -> UiFile:
    digest = hashlib.sha256(body).hexdigest()[:32]
    packed = gzip.compress(body, GZIP_LEVEL, mtime=0)
    hashes = tuple(_sha256_source(m.group(1)) for m in _IMPORT_MAP.finditer(body))
    return UiFile(body, TYPES[PurePosixPath(name).suffix], hashes, f'"{digest}"',
                  packed if len(packed) < len(body) else None, f'"{digest}-gz"')


def _sha256_source(script: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode()


def with_preloads(page: bytes, known: dict[str, bytes]) -> bytes:
    """``page`` with its preload marker replaced by the links (unchanged without a marker)."""
    if PRELOAD_MARKER not in page:
        return page
    import_map = _import_map(page)
    entries = [m.decode() for m in _MODULE_SCRIPTS.findall(page)]
    links = "\n  ".join(f'<link rel="modulepreload" href="{url}">'
                        for url in module_graph(entries, known, import_map) if url not in entries)
    return page.replace(PRELOAD_MARKER, links.encode(), 1)


def _import_map(page: bytes) -> dict[str, str]:
    found = _IMPORT_MAP.search(page)
    if found is None:
        return {}
    imports = json.loads(found.group(1)).get("imports", {})
    return {str(k): str(v) for k, v in imports.items()}


def module_graph(entries: list[str], known: dict[str, bytes],
                 import_map: dict[str, str]) -> list[str]:
    """Every module URL reachable from ``entries`` by static imports, depth-first in import
    order (entries included); a specifier that names no known file is skipped."""
    seen: list[str] = []
    stack = list(reversed(entries))
    while stack:
        url = stack.pop()
        if url in seen or url not in known:
            continue
        seen.append(url)
        found = [resolve(url, spec, import_map) for spec in imports_of(known[url])]
        stack.extend(reversed([u for u in found if u is not None]))
    return seen


def imports_of(module: bytes) -> list[str]:
    """The specifiers of a module's static ``import``/``export … from`` statements."""
    text = module.decode("utf-8", "replace")
    code = _LINE_COMMENTS.sub("", _BLOCK_COMMENTS.sub("", text))
    return _STATIC_IMPORTS.findall(code)


def resolve(base_url: str, spec: str, import_map: dict[str, str]) -> str | None:
    """The same-origin path ``spec`` names from the module at ``base_url`` (None: elsewhere)."""
    if spec in import_map:
        return import_map[spec]
    if spec.startswith("/"):
        return spec
    if not spec.startswith(("./", "../")):
        return None
    parts = base_url.split("/")[:-1]
    for part in spec.split("/"):
        if part == "..":
            parts = parts[:-1]
        elif part != ".":
            parts.append(part)
    return "/".join(parts)
