"""Request bodies of the artifact routes (v1 doc §6) and the value rules applied to them.

msgspec checks shapes and types (400 with ``details.field``); the functions here check values:
names, aliases, file paths, hashes, content types, refs and the retention hint. Patterns match
the whole value (anchored at the very end, so a trailing newline does not slip past ``$``).
Paths are validated as POSIX relative paths and rejected (400) when absolute, containing
``..``/``.``/empty segments, NUL or other control characters, or backslashes. They are stored
as labels only: the blob store addresses content by sha256, so no user-supplied text ever
becomes a filesystem path.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
import orjson

from rundial_collector.web import errors
from rundial_collector.web.intbounds import Int64, json_int_problem

MAX_FILES = 10_000  # files per artifact version
MAX_FILE_BYTES = 1 << 40  # 1 TiB per file
MAX_PATH_CHARS = 1024
MAX_METADATA_BYTES = 64 * 1024
MAX_KEEP_LAST = 10_000
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
RunId = Annotated[str, msgspec.Meta(pattern=r"^[^/\x00]{1,128}$")]

_NAME = re.compile(r"^(?!\.{1,2}\Z)[^\x00-\x1f\x7f/\\:]{1,256}\Z")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")
_VERSION_REF = re.compile(r"^v([0-9]{1,9})\Z")
_TYPE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}\Z")
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
_SEGMENT_BAD = re.compile(r"[\x00-\x1f\x7f\\]")
_KEY = re.compile(r"^[\x21-\x7e]{1,128}\Z")
_CONTENT_TYPE = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,254}\Z")  # a MIME type: ASCII


class FileIn(msgspec.Struct):
    path: str
    sizeBytes: Int64
    sha256: str
    contentType: str | None = None


class RetentionIn(msgspec.Struct):
    strategy: str
    keepLast: Int64


class Target(msgspec.Struct, kw_only=True):
    """The project of a request: ``projectId``, or ``workspace`` + ``project`` slugs."""

    projectId: Id | None = None
    workspace: Id | None = None
    project: Id | None = None


class InitiateBody(Target, kw_only=True):
    runId: RunId
    name: str
    files: list[FileIn]
    artifactType: str | None = None
    aliases: list[str] | None = None
    metadata: dict[str, Any] | None = None
    retentionPolicy: RetentionIn | None = None
    idempotencyKey: str | None = None


class PartIn(msgspec.Struct):
    partNumber: Int64
    etag: str


class MultipartIn(msgspec.Struct):
    path: str
    parts: list[PartIn]


class FinalizeBody(Target, kw_only=True):
    runId: RunId
    artifactId: Id
    uploadId: Id
    multipartParts: list[MultipartIn] | None = None


class UseBody(Target, kw_only=True):
    runId: RunId
    artifactRef: str


class DownloadBody(Target, kw_only=True):
    artifactId: Id
    path: str
    runId: RunId | None = None


def check_name(name: str, field: str = "name") -> str:
    """An artifact name: 1-256 chars, no ``/``, ``\\``, ``:``, control chars, ``.`` or ``..``."""
    if not _NAME.match(name) or name != name.strip():
        raise errors.invalid(f"invalid artifact name {name[:80]!r}: 1-256 characters without "
                             "'/', '\\\\', ':' or control characters, not '.' or '..'", field)
    return name


def check_alias(alias: str, field: str) -> str:
    """An alias: ``[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`` and not of the form ``v<N>``."""
    if not _ALIAS.match(alias) or _VERSION_REF.match(alias):
        raise errors.invalid(f"invalid alias {alias[:80]!r}: letters, digits, '_', '.', '-' "
                             "(max 64), and not v<N> (reserved for versions)", field)
    return alias


def check_path(path: str, field: str) -> str:
    """A POSIX relative path inside the artifact (see the module docstring)."""
    problem = _path_problem(path)
    if problem:
        raise errors.invalid(f"invalid file path {path[:80]!r}: {problem}", field)
    return path


def _path_problem(path: str) -> str | None:
    if not path or len(path) > MAX_PATH_CHARS:
        return f"must be 1-{MAX_PATH_CHARS} characters"
    if path.startswith("/"):
        return "absolute paths are not allowed"
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            return "empty, '.' and '..' segments are not allowed"
        if _SEGMENT_BAD.search(segment):
            return "NUL, control characters and backslashes are not allowed"
    return None


def check_sha256(value: str, field: str) -> str:
    if not _SHA256.match(value):
        raise errors.invalid("sha256 must be 64 lowercase hex characters", field)
    return value


def check_files(files: list[FileIn]) -> None:
    """1..MAX_FILES files with valid, unique paths, sizes and hashes; one sha256 never comes
    with two sizes (one content has one size)."""
    if not 1 <= len(files) <= MAX_FILES:
        raise errors.invalid(f"files must hold 1-{MAX_FILES} entries", "files")
    seen: set[str] = set()
    sizes: dict[str, int] = {}
    for i, f in enumerate(files):
        check_path(f.path, f"files[{i}].path")
        check_sha256(f.sha256, f"files[{i}].sha256")
        if not 0 <= f.sizeBytes <= MAX_FILE_BYTES:
            raise errors.invalid(f"sizeBytes must be 0-{MAX_FILE_BYTES}", f"files[{i}].sizeBytes")
        if f.path in seen:
            raise errors.invalid(f"duplicate path {f.path!r}", f"files[{i}].path")
        if f.contentType is not None and not _CONTENT_TYPE.match(f.contentType):
            raise errors.invalid("contentType must be 1-255 printable ASCII characters",
                                 f"files[{i}].contentType")
        if sizes.setdefault(f.sha256, f.sizeBytes) != f.sizeBytes:
            raise errors.invalid(f"sha256 {f.sha256} is listed with sizes {sizes[f.sha256]} and "
                                 f"{f.sizeBytes}", f"files[{i}].sizeBytes")
        seen.add(f.path)


def check_initiate(body: InitiateBody) -> tuple[str, ...]:
    """Validate every value of an initiate body; return its aliases, de-duplicated."""
    check_name(body.name)
    check_files(body.files)
    if body.artifactType is not None and not _TYPE.match(body.artifactType):
        raise errors.invalid("artifactType must be 1-64 of [A-Za-z0-9_.-]", "artifactType")
    if json_int_problem(body.metadata) is not None:
        raise errors.invalid(f"metadata: {json_int_problem(body.metadata)}", "metadata")
    if body.metadata is not None and len(orjson.dumps(body.metadata)) > MAX_METADATA_BYTES:
        raise errors.invalid(f"metadata exceeds {MAX_METADATA_BYTES} bytes", "metadata")
    if body.idempotencyKey is not None and not _KEY.match(body.idempotencyKey):
        raise errors.invalid("idempotencyKey must be 1-128 printable ASCII characters",
                             "idempotencyKey")
    keep_last(body.retentionPolicy)
    aliases = body.aliases or []
    return tuple(dict.fromkeys(check_alias(a, f"aliases[{i}]") for i, a in enumerate(aliases)))


def keep_last(policy: RetentionIn | None) -> int | None:
    """The keep-last N of a retention hint (None: no hint); 400 on anything else."""
    if policy is None:
        return None
    if policy.strategy != "keep_last":
        raise errors.invalid("retentionPolicy.strategy must be 'keep_last'",
                             "retentionPolicy.strategy")
    if not 1 <= policy.keepLast <= MAX_KEEP_LAST:
        raise errors.invalid(f"keepLast must be 1-{MAX_KEEP_LAST}", "retentionPolicy.keepLast")
    return policy.keepLast


def parse_ref(ref: str) -> tuple[str, str | None, int | None]:
    """``name:alias`` / ``name:v<N>`` / bare ``name`` (= ``name:latest``) → (name, alias, N)."""
    name, sep, selector = ref.strip().rpartition(":")
    if not sep:
        return check_name(selector, "artifactRef"), "latest", None
    check_name(name, "artifactRef")
    number = _VERSION_REF.match(selector)
    if number:
        return name, None, int(number.group(1))
    return name, check_alias(selector, "artifactRef"), None
