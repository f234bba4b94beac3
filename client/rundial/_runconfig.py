"""Run config flattening (protocol §11.6) and the run summary mapping.

Config: nested mappings flatten with ``.``; values must be str (cut to 2,048 chars), int, float,
bool or None — anything else (lists, objects), keys over 128 chars, entries beyond 512 or beyond
64 KiB of JSON are dropped. Every drop or cut is counted in ``config_truncations``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

import orjson

CONFIG_KEY_MAX_CHARS = 128
CONFIG_STRING_MAX_CHARS = 2048
CONFIG_ENTRIES_MAX = 512
CONFIG_JSON_MAX_BYTES = 64 * 1024

Scalar = str | int | float | bool | None


def _walk(config: Mapping[Any, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _walk(value, name + ".")
        else:
            yield name, value


def _scalar(value: Any) -> tuple[Scalar, bool]:
    """``(value, ok)``; strings are cut, non-finite floats and non-scalars refused."""
    if value is None or isinstance(value, (bool, int)):
        return value, True
    if isinstance(value, float):
        return (value, True) if math.isfinite(value) else (None, False)
    if isinstance(value, str):
        return value[:CONFIG_STRING_MAX_CHARS], len(value) <= CONFIG_STRING_MAX_CHARS
    return None, False


def flatten_config(config: Mapping[str, Any]) -> tuple[dict[str, Scalar], int]:
    """Flatten and sanitise ``config``; returns ``(flat, truncations)``."""
    flat: dict[str, Scalar] = {}
    cuts = 0
    size = 2
    for key, value in _walk(config, ""):
        scalar, ok = _scalar(value)
        if len(key) > CONFIG_KEY_MAX_CHARS or (not ok and not isinstance(value, str)):
            cuts += 1
            continue
        cuts += 0 if ok else 1
        entry = len(orjson.dumps({key: scalar}))
        if len(flat) >= CONFIG_ENTRIES_MAX or size + entry > CONFIG_JSON_MAX_BYTES:
            cuts += 1
            continue
        flat[key] = scalar
        size += entry
    return flat, cuts


class Summary(MutableMapping[str, Any]):
    """``run.summary``: the last logged value of each metric, overridable by assignment.

    Last values are updated by the worker as it encodes rows (so they lag by up to one flush).
    Values you assign are sent at finish as config entries ``summary.<key>``.
    """

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.assigned: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.assigned:
            return self.assigned[key]
        return self.last[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.assigned[key] = value

    def __delitem__(self, key: str) -> None:
        found = self.assigned.pop(key, None) is not None
        found = self.last.pop(key, None) is not None or found
        if not found:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter({**self.last, **self.assigned})

    def __len__(self) -> int:
        return len({**self.last, **self.assigned})

    def __repr__(self) -> str:
        return f"Summary({dict(self)!r})"
