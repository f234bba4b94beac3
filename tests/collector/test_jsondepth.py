"""The raw-bytes nesting bound agrees with a real decoder on arbitrary JSON (property test)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rundial_collector.web.jsondepth import too_deep

_TRICKY_TEXT = st.text(alphabet='[]{}"\\ab\u00e9\n', max_size=8)
_JSON = st.recursive(st.none() | st.integers() | st.floats(allow_nan=False) | _TRICKY_TEXT,
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(_TRICKY_TEXT, inner, max_size=3), max_leaves=40)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(_JSON, st.integers(0, 12))
def test_bound_matches_the_decoded_depth(value: Any, max_depth: int) -> None:
    """Brackets, quotes and backslashes inside strings never count; structure always does."""
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert too_deep(raw, max_depth) == (_depth(value) > max_depth)


def test_deep_arrays_are_caught_early_and_flat_ones_pass() -> None:
    assert too_deep(b"[" * 100_000 + b"]" * 100_000)
    assert not too_deep(b"[" + b"[1]," * 100_000 + b"[]]")
