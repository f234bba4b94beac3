"""Shorter garbage-collector pauses in a serving collector.

CPython's cyclic collector stops the whole process (here: the event loop, so every request in
flight) while it scans a generation, in proportion to the tracked objects in it. A full
(generation 2) collection scans every live container, and in a started collector most of those
are the imported modules' (aiohttp, asyncpg, numpy, msgspec, our own: about 50,000 objects)
which never become garbage. Under ingest (a request's decoded rows survive the young
collections while the request is in flight, which keeps feeding generation 2) a full collection
ran every 5-20 s and cost about 45 ms of CPU (50-500 ms of wall time on the loaded 2-core
benchmark machine), every request in flight waiting for it (docs/collector.md, "Ingest p99
under 50 writers"). Frozen, such a collection cost 3-13 ms.

:func:`freeze_startup_objects` runs once, when the collector has started (store open, app set
up): one full collection, then :func:`gc.freeze`, which moves everything alive into the
permanent generation that later collections never scan. Objects created afterwards are
collected as before (nothing is disabled, cycles are still freed); a full collection then
scans only what the running service allocated. Never raises.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> int:
    """Collect once, then freeze every live object (see the module docstring); returns how
    many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
