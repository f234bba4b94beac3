"""Integer bounds of the request boundary: every integer a request carries fits SQLite's int64.

* Schemas type their integer fields :data:`Int64`, :data:`NonNegative` or :data:`Positive`, so
  an out-of-range value is a 400 naming the field (msgspec: ``Expected `int` <= …``), or the
  rejection of a single item where items are converted one by one.
* :func:`query_int` is the one parser of query-string integers: ASCII digits only (``²`` and
  ``1_000`` are refused), at most 2^63−1.
* Integers decoded from an opaque cursor are checked with :func:`paging.is_int64`.
* :func:`json_int_problem` finds an integer outside int64 in a free-form JSON value
  (``client``, ``metadata``), which could not be stored or re-encoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from rundial_collector.web import errors

MAX_INT64 = 2**63 - 1
MIN_INT64 = -(2**63)
Int64 = Annotated[int, msgspec.Meta(ge=MIN_INT64, le=MAX_INT64)]
NonNegative = Annotated[int, msgspec.Meta(ge=0, le=MAX_INT64)]
Positive = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT64)]


def query_int(query: Mapping[str, str], name: str, minimum: int = 0) -> int | None:
    """``?name=`` as an int in [minimum, 2^63−1]; None when absent or empty; else 400 ``name``."""
    raw = query.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19) or not (
            minimum <= int(raw) <= MAX_INT64):
        raise errors.invalid(f"{name} must be an integer from {minimum} to {MAX_INT64}", name)
    return int(raw)


def json_int_problem(value: Any) -> str | None:
    """Why a decoded free-form JSON value cannot be stored (an integer outside int64), or None.

    Iterative, so it never recurses; the body's nesting is bounded before decoding anyway.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is int and not MIN_INT64 <= item <= MAX_INT64:
            return f"integers must lie between {MIN_INT64} and {MAX_INT64}"
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
