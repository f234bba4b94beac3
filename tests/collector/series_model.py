"""A naive reference model of resolved series and their read shapes, in plain Python ints.

Used to check the numpy series math and the read routes: it follows the protocol text
(docs/protocol.md §4.3) literally, one point at a time, with exact integer arithmetic.
"""

from __future__ import annotations

Point = tuple[int, float, int]  # (step, value, timestampMs)


def resolve_model(items: list[Point]) -> list[Point]:
    """One point per step, ascending; the last item of each step wins."""
    latest: dict[int, tuple[float, int]] = {}
    for step, value, ts in items:
        latest[step] = (value, ts)
    return [(step, value, ts) for step, (value, ts) in sorted(latest.items())]


def downsample_model(points: list[Point], budget: int) -> list[Point]:
    """The protocol's downsample of a resolved series: ``budget // 3`` equal step buckets, each
    giving its (first) minimum, (first) maximum and last point; 2 → global min and max, 1 → last.
    """
    if len(points) <= budget:
        return list(points)
    values = [value for _, value, _ in points]
    if budget == 1:
        return [points[-1]]
    if budget == 2:
        chosen = {values.index(min(values)), values.index(max(values))}
        return [points[i] for i in sorted(chosen)]
    buckets = budget // 3
    first_step, span = points[0][0], points[-1][0] - points[0][0] + 1
    members: dict[int, list[int]] = {}
    for i, (step, _, _) in enumerate(points):
        members.setdefault((step - first_step) * buckets // span, []).append(i)
    chosen = set()
    for indexes in members.values():
        in_bucket = [values[i] for i in indexes]
        chosen.add(indexes[in_bucket.index(min(in_bucket))])
        chosen.add(indexes[in_bucket.index(max(in_bucket))])
        chosen.add(indexes[-1])
    return [points[i] for i in sorted(chosen)]
