"""Run config flattening (protocol §11.6, extended: docs/protocol.md §4.5) and the run summary.

Config: nested mappings flatten with ``.``. Values are kept as str (cut to 2,048 chars), int,
float, bool, None, or lists (nested lists too) of those. numpy/torch scalars and 0-d arrays
become Python scalars, tuples and arrays become lists (:mod:`rundial._values`). Anything else
(an object, a ``Path``, a non-finite float) is sent as ``str(value)`` with a warning. A key over
128 chars, and entries beyond 512 or beyond 64 KiB of JSON, are dropped with a warning; every
drop or cut is counted in ``config_truncations``. Nothing is ever dropped silently.

A key, or a text in a value, holding a lone surrogate (a file name decoded with
``surrogateescape``, say) has no UTF-8 form and no request can carry it: ``rd.init`` and
``update_config`` raise ``ValueError`` naming the dotted key, and assigning it to ``run.summary``
does too. Only a summary value changed after its assignment can still hold one at finish: that
entry alone is dropped there with a warning (counted), the others are sent.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

import orjson

from rundial._values import (UNSUPPORTED, all_text_has_utf8_form, has_utf8_form, plain_value,
                             safe_str)

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


def warn_user(message: str) -> None:
    """A ``RuntimeWarning`` attributed to the first caller outside the rundial package."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("rundial"):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, RuntimeWarning, stacklevel=level)


def _quiet(message: str) -> None:
    """A warner that says nothing (a second flattening of the same config)."""


def config_value(key: str, value: Any, warn: Callable[[str], None] = warn_user
                 ) -> tuple[Any, int]:
    """``(value to send, cuts)`` for one flattened entry; warns about anything changed."""
    plain, exact = plain_value(value)
    if plain is UNSUPPORTED:
        plain = safe_str(value)
        warn(f"rundial: config value {key!r} ({type(value).__name__}) is not a number, "
             "string, bool, None or list; it is sent as its str()")
    elif not exact:
        warn(f"rundial: config value {key!r} holds values JSON cannot carry as they are "
             "(non-finite floats or objects); those are sent as their str()")
    if isinstance(plain, str) and len(plain) > CONFIG_STRING_MAX_CHARS:
        warn(f"rundial: config value {key!r} is cut to {CONFIG_STRING_MAX_CHARS} characters")
        return plain[:CONFIG_STRING_MAX_CHARS], 1
    return plain, 0


def flatten_config(config: Mapping[str, Any], *, warn: bool = True, strict: bool = True,
                   where: str = "config") -> tuple[dict[str, Any], int]:
    """Flatten and sanitise ``config``; returns ``(flat, truncations)``.

    ``warn=False`` flattens silently (for a config already flattened, and warned about, once).
    An entry whose key or value holds a lone surrogate raises ``ValueError`` naming ``where``
    and the dotted key, before anything is returned; ``strict=False`` drops it instead, with a
    warning, counted as a truncation. ``TypeError`` naming ``where`` when ``config`` is not a
    mapping. Never raises for other values.
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"{where}: config must be a mapping (a dict), not "
                        f"{type(config).__name__}")
    say = warn_user if warn else _quiet
    flat: dict[str, Any] = {}
    cuts = 0
    size = 2
    for key, value in _walk(config, ""):
        if len(key) > CONFIG_KEY_MAX_CHARS:
            cuts += 1
            say(f"rundial: config key {key[:40]!r}... is longer than {CONFIG_KEY_MAX_CHARS} "
                "characters; dropped")
            continue
        notes: list[str] = []  # said only for an entry that is kept: a refused one only raises
        plain, cut = config_value(key, value, notes.append)
        problem = unencodable_entry(key, plain)
        if problem is not None:
            if strict:
                raise ValueError(f"{where}: {problem}")
            cuts += 1
            say(f"rundial: {problem}; dropped")
            continue
        for note in notes:
            say(note)
        entry = len(orjson.dumps({key: plain}))
        if len(flat) >= CONFIG_ENTRIES_MAX or size + entry > CONFIG_JSON_MAX_BYTES:
            cuts += 1
            say(f"rundial: config entry {key!r} is beyond {CONFIG_ENTRIES_MAX} entries or "
                f"{CONFIG_JSON_MAX_BYTES // 1024} KiB of JSON; dropped")
            continue
        cuts += cut
        flat[key] = plain
        size += entry
    return flat, cuts


def unencodable_entry(key: str, plain: Any) -> str | None:
    """Why the flattened entry ``key``: ``plain`` cannot be sent (a lone surrogate in the key
    or in a text of the value; the key shown escaped), or None."""
    if not has_utf8_form(key):
        return (f"config key {key!r} is not valid Unicode text (it has a lone surrogate, "
                "which no request can carry)")
    if not all_text_has_utf8_form(plain):
        return (f"the value of config key {key!r} holds text with a lone surrogate, which no "
                "request can carry")
    return None


class Summary(MutableMapping[str, Any]):
    """``run.summary``: the last logged value of each metric, overridable by assignment.

    Last values are updated by the worker as it encodes rows (so they lag by up to one flush).
    Values you assign are sent at finish as config entries ``summary.<key>`` (flattened like
    config); an assignment whose key or value holds a lone surrogate raises ``ValueError``
    and assigns nothing.
    """

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.assigned: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key in self.assigned:
            return self.assigned[key]
        return self.last[key]

    def __setitem__(self, key: str, value: Any) -> None:
        flatten_config({f"summary.{key}": value}, warn=False, where=f"run.summary[{key!r}]")
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
