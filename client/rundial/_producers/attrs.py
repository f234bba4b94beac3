"""Span attribute normalisation (protocol §5.5) and the evidence placeholders of large values.

:func:`normalise` deep-copies attributes into JSON-safe values when a span ends (so later
changes by the caller cannot leak in): keys become strings cut to 128 characters, lists and
tuples keep their first 128 items, arrays (numpy, torch: anything with ``tolist`` and ``ndim``)
become lists the same way (a 0-d array its scalar; an array whose first 128 items hold more than
:data:`MAX_ARRAY_ITEMS` elements its string form), bytes become ``{"kind": "rundial.bytes", "encoding":
"base64", "data": ...}``, integers beyond 64 bits and unknown objects become their string
form, nesting deeper than :data:`MAX_DEPTH` is stringified, and a lone surrogate in a key or a
string (no UTF-8 form, so no body could carry it) becomes ``?``. It never raises for a value: one
whose conversion fails (its own methods raise) becomes its string form. A string or bytes value over
:data:`EVIDENCE_BYTES` (at any depth) becomes an :class:`Evidence` placeholder instead, which
is encoded as an evidence reference once uploaded (or as an offline marker).

:func:`encode_attrs` writes the sorted-key JSON; an object over its limit (16 KiB for spans,
4 KiB for events) is replaced by ``{"rundial.originalKeys": [<= 32 sorted keys],
"rundial.truncated": true}``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import operator
import re
from collections.abc import Mapping
from typing import Any

import orjson

from rundial._values import with_utf8_form

MAX_KEY_CHARS = 128
MAX_LIST_ITEMS = 128
MAX_DEPTH = 32
MAX_ARRAY_ITEMS = 4096  # elements converted from one array (its first 128 items)
EVIDENCE_BYTES = 16 * 1024  # values longer than this are uploaded as evidence
SPAN_ATTRS_BYTES = 16 * 1024
EVENT_ATTRS_BYTES = 4 * 1024
MAX_ORIGINAL_KEYS = 32
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
_UNSAFE_PATH = re.compile(r"[^A-Za-z0-9_.-]+")
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


class Evidence:
    """A large attribute value waiting to become an evidence reference (or marker)."""

    __slots__ = ("key", "data", "content_type", "wire", "_sha256")

    def __init__(self, key: str, data: bytes, content_type: str) -> None:
        self.key = key
        self.data = data
        self.content_type = content_type
        self.wire: dict[str, Any] | None = None
        self._sha256: str | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = hashlib.sha256(self.data).hexdigest()
        return self._sha256

    @property
    def path(self) -> str:
        """``evidence/<sanitised attribute path>.txt`` (``.bin`` for bytes)."""
        name = _UNSAFE_PATH.sub("_", self.key).strip("._")[:200] or "value"
        return f"evidence/{name}{'.txt' if self.content_type.startswith('text/') else '.bin'}"

    def resolve(self, artifact_id: str, version: int) -> None:
        """Become a ``rundial.evidence_ref`` to the uploaded artifact."""
        self.wire = {"kind": "rundial.evidence_ref", "artifactId": artifact_id,
                     "artifactVersion": version, "path": self.path, "key": self.key,
                     "sizeBytes": self.size, "sha256": self.sha256,
                     "contentType": self.content_type}
        self.data = b""

    def mark(self, status: str) -> None:
        """Become a ``rundial.evidence_marker`` (``offline_unavailable``, ``upload_failed``...)."""
        self.wire = {"kind": "rundial.evidence_marker", "status": status, "key": self.key,
                     "sizeBytes": self.size, "sha256": self.sha256,
                     "contentType": self.content_type}
        self.data = b""


def normalise(attrs: Mapping[Any, Any] | None, evidence: list[Evidence] | None = None,
              prefix: str = "") -> dict[str, Any]:
    """A JSON-safe deep copy of ``attrs``; large values go to ``evidence`` when it is a list."""
    if not attrs:
        return {}
    if not isinstance(attrs, Mapping):
        raise TypeError(f"attrs must be a mapping, not {type(attrs).__name__}")
    return _mapping(attrs, evidence, prefix, 0)


def _mapping(value: Mapping[Any, Any], evidence: list[Evidence] | None, path: str,
             depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = with_utf8_form((key if isinstance(key, str) else _string(key))[:MAX_KEY_CHARS])
        out[name] = _value(item, evidence, f"{path}.{name}" if path else name, depth + 1)
    return out


def _value(value: Any, evidence: list[Evidence] | None, path: str, depth: int) -> Any:
    """``value`` made JSON-safe (see the module docstring); its string form if that fails."""
    try:
        return _convert(value, evidence, path, depth)
    except Exception:  # e.g. a numpy array's __index__: never raise into the caller's span
        return _string(value)


def _convert(value: Any, evidence: list[Evidence] | None, path: str, depth: int) -> Any:
    kind = type(value)
    if value is None or kind is bool or kind is float:
        return value
    if kind is int:
        return value if _INT_MIN <= value <= _INT_MAX else str(value)
    if isinstance(value, str):
        return _text(with_utf8_form(str(value)), evidence, path)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bytes(bytes(value), evidence, path)
    if depth >= MAX_DEPTH:
        return _string(value)
    if isinstance(value, Mapping):
        return _mapping(value, evidence, path, depth)
    if isinstance(value, (list, tuple)):
        return [_value(v, evidence, f"{path}.{i}", depth + 1)
                for i, v in enumerate(value[:MAX_LIST_ITEMS])]
    if hasattr(value, "tolist") and hasattr(value, "ndim"):  # numpy arrays and scalars, tensors
        return _array(value, evidence, path, depth)
    if isinstance(value, float):  # float subclasses (numpy.float64)
        return float(value)
    if hasattr(kind, "__index__"):  # int subclasses (IntEnum), numpy integers
        return _value(operator.index(value), evidence, path, depth)
    return _string(value)


def _array(value: Any, evidence: list[Evidence] | None, path: str, depth: int) -> Any:
    """A 0-d array as its scalar; else its first 128 items as a list (string form when they hold
    more than :data:`MAX_ARRAY_ITEMS` elements)."""
    if value.ndim == 0:
        return _value(value.item(), evidence, path, depth)
    head = value[:MAX_LIST_ITEMS]
    if math.prod(head.shape) > MAX_ARRAY_ITEMS:
        return _string(value)
    return _value(head.tolist(), evidence, path, depth)


def _text(value: str, evidence: list[Evidence] | None, path: str) -> Any:
    if evidence is None or len(value) <= EVIDENCE_BYTES // 4:
        return value
    data = value.encode("utf-8", "replace")
    if len(data) <= EVIDENCE_BYTES:
        return value
    placeholder = Evidence(path, data, "text/plain; charset=utf-8")
    evidence.append(placeholder)
    return placeholder


def _bytes(value: bytes, evidence: list[Evidence] | None, path: str) -> Any:
    if evidence is not None and len(value) > EVIDENCE_BYTES:
        placeholder = Evidence(path, value, "application/octet-stream")
        evidence.append(placeholder)
        return placeholder
    return {"kind": "rundial.bytes", "encoding": "base64",
            "data": base64.b64encode(value).decode("ascii")}


def _string(value: Any) -> str:
    try:
        return with_utf8_form(str(value))
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _default(value: Any) -> Any:
    if isinstance(value, Evidence):
        return value.wire if value.wire is not None else {"kind": "rundial.evidence_marker",
                                                          "status": "pending", "key": value.key}
    return _string(value)


def encode_attrs(attrs: Mapping[str, Any], limit: int = SPAN_ATTRS_BYTES) -> str:
    """Sorted-key JSON of normalised ``attrs``, replaced by the truncation marker over ``limit``."""
    if not attrs:
        return "{}"
    try:
        data = orjson.dumps(attrs, default=_default, option=_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):  # surrogates or other unencodable text
        data = orjson.dumps(_repair(attrs), default=_default, option=_OPTIONS)
    if len(data) > limit:
        keys = sorted(str(k) for k in attrs)[:MAX_ORIGINAL_KEYS]
        data = orjson.dumps({"rundial.originalKeys": keys, "rundial.truncated": True},
                            option=_OPTIONS)
    return data.decode("utf-8")


def _repair(value: Any) -> Any:
    """``value`` with every string made valid UTF-8 (lone surrogates → ``?``)."""
    if isinstance(value, str):
        return with_utf8_form(value)
    if isinstance(value, dict):
        return {_repair(k): _repair(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_repair(v) for v in value]
    return value
