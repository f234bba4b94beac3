"""End to end with the real collector: adopted orphans are delivered before any eviction, and
for one run an older writer's batches reach the collector before a newer writer's
(issue 13 items 16 and 22)."""

from __future__ import annotations

import random
from pathlib import Path

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.sdk.e2e_support import init_run, point_count, read_points

STEPS = 10_000
KEYS = ("a", "b", "c", "d")


def spool_bytes(spool: Path) -> int:
    return sum(p.stat().st_size for p in spool.rglob("*.json.gz"))


def test_an_adopter_with_a_small_spool_delivers_an_orphan_instead_of_evicting_it(
        collector: CollectorProcess, tmp_path: Path) -> None:
    """An offline run spools 40,000 points; an unrelated online process whose own spool bound
    is far smaller adopts them and delivers every point."""
    spool = tmp_path / "spool"
    rng = random.Random(7)
    offline = init_run(collector, spool, mode="offline", spool_max_bytes=50_000_000)
    for step in range(STEPS):
        offline.log({key: rng.random() for key in KEYS}, step=step)
    assert offline.finish(timeout_s=30)
    orphan_bytes = spool_bytes(spool)
    small = max(4096, orphan_bytes // 4)
    adopter = init_run(collector, spool, spool_max_bytes=small)
    adopter.log({"x": 1.0}, step=0)
    assert adopter.finish(timeout_s=30)
    assert adopter.diagnostics().dropped_points_spool_eviction == 0
    assert point_count(collector, offline.run_id, "a") == STEPS
    got = read_points(collector, offline.run_id, list(KEYS))
    assert sum(len(series) for series in got.values()) == STEPS * len(KEYS)
    assert not (spool / offline.run_id).exists()
