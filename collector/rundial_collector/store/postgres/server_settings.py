"""PostgreSQL server settings for a rundial deployment (docs/collector.md "Deploying several
collectors"): the one source that ``make run-cluster`` (``examples/run_cluster.py``) and the
benchmarks' throwaway cluster (``benchmarks/bench_targets.py``) start PostgreSQL with, and that
the documentation tells operators to put in ``postgresql.conf``. It only builds text.

What each setting is for (none trades durability: ``fsync`` and ``synchronous_commit`` stay on):

* ``shared_buffers``: PostgreSQL's default (128 MB) is smaller than a few seconds of ingest.
  Every new page of ``metric_chunks`` and its TOAST table (a 5,000-point batch added about 20
  while each row stored its own steps and timestamps, about 9 since migration 0008)
  then needs a buffer, and once the pool is full of pages not yet written, the ingesting
  backend writes one out itself first: 22,700 of 24,300 buffers in a 20 s run of 50 writers
  (``pg_stat_bgwriter.buffers_backend``), some while it held the relation's extension lock,
  which the other ingests queue on (``log_lock_waits``: 20-70 ms waits on the TOAST table's
  extension). With 512 MB none was written by a backend in that run. A dedicated database
  host should give it about a quarter of its memory instead.
* ``log_lock_waits``: a statement that waits longer than ``deadlock_timeout`` (1 s) for a
  lock is logged, with the holder: the first thing to read when ingest latency has a tail.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["DEPLOYMENT_SETTINGS", "server_options"]

DEPLOYMENT_SETTINGS: Mapping[str, str] = {
    "shared_buffers": "512MB",
    "log_lock_waits": "on",
}


def server_options(settings: Mapping[str, str] = DEPLOYMENT_SETTINGS) -> str:
    """``settings`` as ``postgres`` command-line options (``-c name=value`` each), for
    ``pg_ctl -o``. Raises ValueError for a name or value that the shell would split."""
    for name, value in settings.items():
        if not name or any(c.isspace() or c in "'\"" for c in name + value):
            raise ValueError(f"setting {name!r}={value!r}: no spaces or quotes allowed")
    return " ".join(f"-c {name}={value}" for name, value in settings.items())
