"""Metric keys the collector accepts: 1 to 512 characters (docs/protocol.md §3, the collector's
``key_problem``) with a UTF-8 form (no lone surrogate: no JSON or columns body can carry one).
Checked on the worker, once per distinct key: a batch encoder remembers the keys it has seen
valid, so the common case — the same keys every row — costs one set difference per
body (over a key union the encoder computes anyway for last-value tracking)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rundial._values import has_utf8_form

MAX_METRIC_KEY_CHARS = 512  # the collector refuses longer keys (and the empty key) one by one
KNOWN_KEYS_MAX = 100_000  # forget the cache beyond this many keys (a key per step, say)


def key_problem(key: Any) -> str | None:
    """Why ``key`` cannot be a metric key, or None."""
    if type(key) is not str:
        return f"metric names must be str, not {type(key).__name__}"
    if not key:
        return "the empty metric name is not accepted by the collector"
    if len(key) > MAX_METRIC_KEY_CHARS:
        return (f"metric names are limited to {MAX_METRIC_KEY_CHARS} characters by the "
                f"collector (this one has {len(key)})")
    if not has_utf8_form(key):
        return "metric names must be valid Unicode text (this one has a lone surrogate)"
    return None


class KeyCheck:
    """Remembers valid keys; :meth:`bad` returns the keys of a batch that are not valid."""

    def __init__(self) -> None:
        self._valid: set[Any] = set()

    def bad(self, keys: Iterable[Any]) -> set[Any]:
        """The keys among ``keys`` that the collector would refuse (validated once each)."""
        new = set(keys) - self._valid
        if not new:
            return new
        if len(self._valid) + len(new) > KNOWN_KEYS_MAX:
            self._valid.clear()
        bad = {key for key in new if key_problem(key) is not None}
        self._valid |= new - bad
        return bad
