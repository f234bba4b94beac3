"""Which stored blocks and which raw chunks a chart read of one series takes (no SQL here).

Input: the chunks whose step range meets the read's ``[first, last]``, each with its id (ingest
order), step range, raw point count and, when stored, its block aggregates (the chunk's points
resolved on their own, :func:`~rundial_collector.store.chart_math.chunk_blocks`). The plan:

1. *Masks*: a chunk that holds every step of its range (*dense*, as a run resumed from a
   checkpoint re-logs), lies inside ``[first, last]`` and that no later chunk overlaps is the
   winner of every step of its range: its blocks are used and its range masks earlier points.
   Such ranges are disjoint (of two overlapping dense chunks the earlier one is overlapped).
   A chunk lying wholly inside the masks is superseded and never read.
2. *Shared steps*: the steps covered by the ranges of two or more of the remaining chunks.
3. A block of a remaining chunk is used when its ``[step_first, step_last]`` lies inside
   ``[first, last]`` and meets neither a mask nor a shared step: then no other chunk holds a
   point there, so the block is exact (nothing supersedes it) and disjoint from every other
   part of the answer. A chunk all of whose blocks are used is not read raw. Of any other
   chunk inside the range only the runs of blocks neither used nor wholly masked are read
   (:class:`Segments`); a chunk cut by the range's ends, or without aggregates, is read
   whole. The raw points outside the masks and outside used blocks are resolved together (in
   ingest order), which is exact: every chunk holding such a step gives its points of that
   step raw.

So only the blocks around steps that several chunks really share are read raw; chunks that
share no step cost their stored blocks alone.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rundial_collector.store.chart_math import BLOCK_RECORD, Blocks, unpack_blocks

MIN64, MAX64 = -(2**63), 2**63 - 1
Chunk = tuple[int, int, int, int, int | None, bytes | None]  # id, min, max, count, resolved, blob
Span = tuple[int, int]  # inclusive step range
Spans = tuple[list[int], list[int]]  # disjoint ascending spans: their starts and their ends


@dataclass(frozen=True)
class Segments:
    """The needed part of a partly used chunk, read instead of the whole chunk.

    ``spans``: (first index, end index, first step, last step) of each run of needed blocks.
    With ``by_index`` (the chunk has no duplicate steps of its own, so if it was logged in order
    its raw points are its resolved points) the reader reads those index ranges and checks them
    (steps strictly rising from the first to the last step), reading the whole chunk when one
    fails; otherwise it reads the chunk's steps and takes the points inside the step ranges.
    """

    chunk_id: int
    point_count: int
    spans: list[tuple[int, int, int, int]]
    by_index: bool


@dataclass
class ChartPlan:
    """What a read takes: whole chunks' stored blocks, some chunks' usable blocks and needed
    segments, whole raw chunks.

    ``blobs``: (first step, stored blocks) of the chunks whose blocks are all used, ascending.
    ``exclude``: disjoint ascending step ranges whose raw points are not resolved (the masks,
    whose points are superseded, and the used blocks of partly used chunks). ``inside_raw``: the
    raw points of every chunk not in ``raw_ids`` (all of them lie inside the read's range).
    """

    blobs: list[tuple[int, bytes]] = field(default_factory=list)
    partial: list[Blocks] = field(default_factory=list)
    segmented: list[Segments] = field(default_factory=list)
    raw_ids: list[int] = field(default_factory=list)
    exclude: list[Span] = field(default_factory=list)
    inside_raw: int = 0


def plan_raw(chunks: list[Chunk]) -> ChartPlan:
    """Every chunk read raw (aggregates not used)."""
    return ChartPlan(raw_ids=sorted(c[0] for c in chunks))


def plan_chart(chunks: list[Chunk], first: int, last: int) -> ChartPlan:
    """The plan of a read of ``[first, last]`` over ``chunks`` (see the module docstring)."""
    plan = ChartPlan()
    overlapped = _overlapped_later(chunks)
    masks = [c for c in chunks if c[0] not in overlapped and _dense(c) and first <= c[1]
             and c[2] <= last]
    for _id, low, _high, count, _resolved, blob in masks:
        assert blob is not None
        plan.blobs.append((low, blob))
        plan.inside_raw += count
    mask_spans = [(c[1], c[2]) for c in masks]
    merged_masks = _merged(mask_spans)
    rest = []
    mask_ids = {c[0] for c in masks}
    for chunk in chunks:
        if chunk[0] in mask_ids:
            continue
        if _inside(merged_masks, chunk[1], chunk[2]):
            plan.inside_raw += chunk[3]  # every point re-logged later by a dense chunk
        else:
            rest.append(chunk)
    forbidden = _merged([*_shared((c[1], c[2]) for c in rest), *mask_spans,
                         *_outside(first, last)])
    partly = []
    for chunk in rest:
        chunk_id, low, high, count, resolved, blob = chunk
        if blob is None or resolved is None:
            plan.raw_ids.append(chunk_id)
        elif _meets(forbidden, low, high):
            partly.append(chunk)
        else:
            plan.blobs.append((low, blob))
            plan.inside_raw += count
    cut_spans = _take_partly(plan, partly, (forbidden, merged_masks), (first, last))
    plan.exclude = sorted(mask_spans + cut_spans)
    plan.raw_ids.sort()
    plan.blobs.sort(key=lambda pair: pair[0])
    return plan


def _take_partly(plan: ChartPlan, chunks: list[Chunk], limits: tuple[Spans, Spans],
                 bounds: Span) -> list[Span]:
    """Add the chunks whose range meets a forbidden span: their usable blocks, and their needed
    segments (blocks neither usable nor wholly masked) or, for a chunk cut by the range's ends,
    the whole chunk raw. Returns the used blocks' spans of the chunks read whole.
    ``limits``: the forbidden spans and the merged masks."""
    if not chunks:
        return []
    forbidden, masks = limits
    blobs = [c[5] or b"" for c in chunks]
    sizes = np.array([len(b) // BLOCK_RECORD.itemsize for b in blobs], np.intp)
    blocks = unpack_blocks(b"".join(blobs))
    owner = np.repeat(np.arange(len(chunks)), sizes)
    usable = ~_meets_each(forbidden, blocks.step_first, blocks.step_last)
    inside = np.array([bounds[0] <= c[1] and c[2] <= bounds[1] for c in chunks], dtype=bool)
    needed = ~usable & ~_inside_each(masks, blocks.step_first, blocks.step_last) & inside[owner]
    plan.partial.append(blocks.take(np.flatnonzero(usable)))
    spans = _needed_spans(blocks, needed, owner, sizes)
    cut_spans: list[Span] = []
    for index, (chunk_id, _low, _high, count, resolved, _blob) in enumerate(chunks):
        if inside[index]:
            plan.inside_raw += count
            if spans[index]:
                plan.segmented.append(Segments(chunk_id, count, spans[index], count == resolved))
        else:
            plan.raw_ids.append(chunk_id)
            own = np.flatnonzero(usable & (owner == index))
            cut_spans += zip(blocks.step_first[own].tolist(), blocks.step_last[own].tolist())
    return cut_spans


def _needed_spans(blocks: Blocks, needed: npt.NDArray[np.bool_], owner: npt.NDArray[np.intp],
                  sizes: npt.NDArray[np.intp]) -> list[list[tuple[int, int, int, int]]]:
    """Per chunk (``owner`` numbers each block's chunk, ``sizes`` counts each chunk's blocks):
    (first index, end index, first step, last step) of each run of its ``needed`` blocks."""
    ends = np.cumsum(blocks.count)
    chunk_base = np.concatenate(([0], ends))[np.cumsum(sizes) - sizes]
    ends = ends - chunk_base[owner]
    starts = ends - blocks.count
    opens = np.zeros(len(needed) + 1, dtype=bool)  # opens[i]: block i starts a chunk (or ends)
    opens[np.cumsum(sizes)] = True
    opens[0] = True
    before = np.concatenate(([False], needed[:-1])) & ~opens[:-1]
    after = np.concatenate((needed[1:], [False])) & ~opens[1:]
    run_first = np.flatnonzero(needed & ~before)
    run_last = np.flatnonzero(needed & ~after)
    spans: list[list[tuple[int, int, int, int]]] = [[] for _ in sizes]
    for chunk, low, high, step_low, step_high in zip(
            owner[run_first].tolist(), starts[run_first].tolist(), ends[run_last].tolist(),
            blocks.step_first[run_first].tolist(), blocks.step_last[run_last].tolist()):
        spans[chunk].append((low, high, step_low, step_high))
    return spans


def _dense(chunk: Chunk) -> bool:
    return chunk[5] is not None and chunk[4] == chunk[2] - chunk[1] + 1


def _overlapped_later(chunks: list[Chunk]) -> set[int]:
    """Ids of the chunks whose step range meets the range of some later (higher id) chunk."""
    starts: list[int] = []
    ends: list[int] = []  # union of the later chunks' ranges: disjoint, ascending
    found = set()
    for chunk_id, low, high, *_ in sorted(chunks, key=lambda c: -c[0]):
        if _meets((starts, ends), low, high):
            found.add(chunk_id)
        _insert(starts, ends, low, high)
    return found


def _insert(starts: list[int], ends: list[int], low: int, high: int) -> None:
    """Add ``[low, high]`` to the disjoint ascending union ``starts``/``ends``."""
    i = bisect.bisect_left(ends, low)  # first span ending at or after low
    j = bisect.bisect_right(starts, high)  # spans from i to j - 1 meet [low, high]
    if i < j:
        low, high = min(low, starts[i]), max(high, ends[j - 1])
    starts[i:j] = [low]
    ends[i:j] = [high]


def _meets(spans: Spans, low: int, high: int) -> bool:
    """Whether ``[low, high]`` meets the disjoint ascending spans."""
    starts, ends = spans
    i = bisect.bisect_left(ends, low)
    return i < len(starts) and starts[i] <= high


def _meets_each(spans: Spans, lows: npt.NDArray[np.int64],
                highs: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """:func:`_meets` for each ``[lows[i], highs[i]]``."""
    starts, ends = spans
    if not starts:
        return np.zeros(len(lows), dtype=bool)
    index = np.searchsorted(np.array(ends, np.int64), lows, side="left")
    inside = index < len(starts)
    first_start = np.array(starts, np.int64)[np.minimum(index, len(starts) - 1)]
    return inside & (first_start <= highs)


def _inside_each(spans: Spans, lows: npt.NDArray[np.int64], highs: npt.NDArray[np.int64]
                 ) -> npt.NDArray[np.bool_]:
    """:func:`_inside` for each ``[lows[i], highs[i]]``."""
    starts, ends = spans
    if not starts:
        return np.zeros(len(lows), dtype=bool)
    index = np.searchsorted(np.array(starts, np.int64), lows, side="right") - 1
    return (index >= 0) & (highs <= np.array(ends, np.int64)[np.maximum(index, 0)])


def _merged(spans: Iterable[Span]) -> Spans:
    """The union of ``spans`` as disjoint ascending spans (touching ones joined)."""
    starts: list[int] = []
    ends: list[int] = []
    for low, high in sorted(spans):
        if ends and low <= ends[-1] + 1:
            ends[-1] = max(ends[-1], high)
        else:
            starts.append(low)
            ends.append(high)
    return starts, ends


def _inside(spans: Spans, low: int, high: int) -> bool:
    """Whether ``[low, high]`` lies inside one of the (merged) spans."""
    starts, ends = spans
    i = bisect.bisect_right(starts, low) - 1
    return i >= 0 and high <= ends[i]


def _shared(spans: Iterable[Span]) -> list[Span]:
    """The steps covered by two or more of ``spans``, as disjoint ascending spans."""
    events = sorted(e for low, high in spans for e in ((low, 1), (high + 1, -1)))
    shared: list[Span] = []
    depth = 0
    opened = 0
    for position, change in events:  # at one position the ends (-1) come first
        if change > 0 and depth == 1:
            opened = position
        elif change < 0 and depth == 2:
            shared.append((opened, position - 1))
        depth += change
    return shared


def _outside(first: int, last: int) -> list[Span]:
    """The int64 steps outside ``[first, last]``."""
    spans = []
    if first > MIN64:
        spans.append((MIN64, first - 1))
    if last < MAX64:
        spans.append((last + 1, MAX64))
    return spans
