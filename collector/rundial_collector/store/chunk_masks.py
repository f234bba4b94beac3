"""Which stored chunks a whole-series resolution can leave unread (no SQL here).

A duplicate step is won by the chunk with the higher id. A chunk that holds every step of its
step range (*dense*: as many distinct steps as its range has, as a batch re-logged from a
checkpoint does) therefore wins each of those steps against every earlier chunk, whatever
later chunks do. An earlier chunk whose whole range lies inside the union of the ranges of
later dense chunks has no winning point: its points only count as superseded, so its bytes
need not be fetched (a re-logged 10k-step batch makes its first copy one such chunk).

The rule uses the chunk metadata alone (id, step range, distinct step count), which both
backends keep beside every chunk; leaving such chunks out changes no resolved point.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

__all__ = ["ChunkRange", "superseded_chunks"]

ChunkRange = tuple[int, int, int, int]  # chunk id, first step, last step, distinct steps


def superseded_chunks(chunks: Iterable[ChunkRange]) -> list[int]:
    """Ids (descending) of the chunks whose step range lies inside the union of the step
    ranges of later dense chunks. O(n log n) in the number of chunks, plus the list inserts of
    the union (one span per run of adjacent dense ranges)."""
    union = _Union()
    found: list[int] = []
    for chunk_id, low, high, distinct in sorted(chunks, key=lambda c: -c[0]):
        if union.holds(low, high):
            found.append(chunk_id)
        if distinct == high - low + 1:
            union.add(low, high)
    return found


class _Union:
    """A union of integer ranges, kept as disjoint, non-adjacent, ascending inclusive spans."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def holds(self, low: int, high: int) -> bool:
        """Whether every integer of ``[low, high]`` lies in the union."""
        i = bisect.bisect_right(self.starts, low) - 1
        return i >= 0 and high <= self.ends[i]

    def add(self, low: int, high: int) -> None:
        """Add ``[low, high]``, joining the spans it overlaps or touches."""
        first = bisect.bisect_left(self.ends, low - 1)  # first span ending at or after low - 1
        end = bisect.bisect_right(self.starts, high + 1)  # spans first..end-1 meet or touch it
        if first < end:
            low, high = min(low, self.starts[first]), max(high, self.ends[end - 1])
        self.starts[first:end] = [low]
        self.ends[first:end] = [high]
