"""Typed config values for the Neptune- and goodseed-style shims, through our JSON config.

Our run config holds JSON scalars and lists. ``bool``, ``int``, ``float``, ``str`` and ``None``
travel as they are (a float stays a JSON float: ``3.0`` reads back as ``3.0``, not ``3``).
Two types JSON cannot tell apart from others get a **marker entry** next to the value:

* ``datetime`` → the value is its ISO 8601 text (``datetime.isoformat()``), and
  ``rundial.types/<key>`` is ``"datetime"``;
* ``set``/``frozenset`` (a Neptune/goodseed *string set*, e.g. ``sys/tags``) → a sorted list of
  ``str``, and ``rundial.types/<key>`` is ``"string_set"``.

:func:`restore_types` reads a config back (as ``runs/{id}`` returns it) and gives the Python
values again, marker entries removed. A key longer than the config key limit less the marker
prefix keeps its value but loses its marker (the SDK drops the marker with a warning), so it
reads back as text or a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from rundial._values import UNSUPPORTED, plain_scalar

__all__ = ["MARKER_PREFIX", "encode_entry", "restore_types"]

MARKER_PREFIX: Final = "rundial.types/"
DATETIME: Final = "datetime"
STRING_SET: Final = "string_set"


def encode_entry(key: str, value: Any) -> dict[str, Any]:
    """The config entries that carry ``value`` under ``key`` with its type (one or two).

    ``None``, ``bool``, ``int``, ``float``, ``str`` (numpy/torch scalars as their Python
    value) give one entry; ``datetime`` and sets add a marker. Anything else is the caller's to
    decide (``ValueError`` here: the shims stringify or skip before calling).
    """
    if isinstance(value, datetime):
        return {key: value.isoformat(), MARKER_PREFIX + key: DATETIME}
    if isinstance(value, (set, frozenset)):
        return {key: sorted(str(item) for item in value), MARKER_PREFIX + key: STRING_SET}
    plain = plain_scalar(value)
    if plain is UNSUPPORTED:
        raise ValueError(f"config value {key!r} of type {type(value).__name__} has no typed form")
    return {key: plain}


def restore_types(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with datetimes and string sets restored and marker entries removed.

    Values without a marker are returned as they are. A marker whose value cannot be read back
    (not ISO text, not a list) leaves the value as stored; this never raises for content.
    """
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key.startswith(MARKER_PREFIX):
            continue
        out[key] = _restore(value, config.get(MARKER_PREFIX + key))
    return out


def _restore(value: Any, tag: Any) -> Any:
    if tag == DATETIME and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if tag == STRING_SET and isinstance(value, list):
        return {str(item) for item in value}
    return value
