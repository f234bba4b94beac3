"""The order of metric keys, backend-neutral: ``metrics/keys`` lists user keys alphabetically,
then ``system/`` keys. The ``system/`` keys are exactly the keys in ``["system/", "system0")``
("0" follows "/"), so each part of that order is one index range of keys."""

from __future__ import annotations

SYSTEM_FIRST, SYSTEM_END = "system/", "system0"
KeyRange = tuple[str, str | None]  # inclusive low, exclusive high (None: no bound)


def key_ranges(start_key: str, system_last: bool) -> list[KeyRange]:
    """The key ranges to walk, in order, for the keys from ``start_key`` on (inclusive):
    alphabetically, or with ``system_last`` in ``metrics/keys`` order. The range holding
    ``start_key`` starts there; the ranges before it are left out."""
    ranges: list[KeyRange] = [("", None)]
    if system_last:
        ranges = [("", SYSTEM_FIRST), (SYSTEM_END, None), (SYSTEM_FIRST, SYSTEM_END)]
    out: list[KeyRange] = []
    started = False
    for low, high in ranges:
        holds_start = low <= start_key and (high is None or start_key < high)
        started = started or holds_start
        if started:
            out.append((start_key if holds_start else low, high))
    return out
