"""A/B of the issue-16 ingest path: two source trees side by side, rounds alternated, with the CPU
each round cost per batch, so that a comparison survives a machine shared with other jobs.

Run from the repository root, e.g. with main exported beside this tree::

    git archive main | tar -x -C /tmp/main-src
    PYTHONPATH=. .venv/bin/python -m benchmarks.ingest_ab main=/tmp/main-src,branch=. --rounds 6

A side may add environment variables for its collectors after its tree, ``:NAME=value`` each,
to compare settings of one tree, e.g. ``uvloop=.,asyncio=.:RUNDIAL_COLLECTOR_EVENT_LOOP=asyncio``.

Each side is two collectors (run from that tree: its ``collector``, ``client`` and
``spool_tools`` first on ``PYTHONPATH``) behind their own nginx, on their own database of one
PostgreSQL 15 cluster (fsync on). A round posts ``--connections`` x ``--batches`` gzip batches
of 5,000 points (``--format``: wide rows, or columns, docs/protocol.md §4.16) through nginx (benchmarks/collector_ingest.py's client and read-back);
the sides take turns, the order flipped every round, and round 0 only warms up. Per round it
prints points/s and the CPU seconds per batch of the side's two collectors and of the whole
PostgreSQL cluster (its backends, live and exited), read from ``/proc``: wall rates swing with
the machine's load, CPU per batch much less. Linux only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_targets import QUIET
from benchmarks.collector_ingest import http_round, project_id
from tests.helpers.cluster import CollectorPair
from tests.helpers.postgres import PgCluster

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """User + system CPU of ``pid`` (``reaped``: of its exited, waited-for children); 0 when
    the process is gone."""
    try:
        fields = _stat(pid)
    except FileNotFoundError:
        return 0.0
    first = 13 if reaped else 11
    return (int(fields[first]) + int(fields[first + 1])) / _TICKS_PER_SECOND


def cluster_cpu_seconds(postmaster: int) -> float:
    """CPU of a PostgreSQL cluster: its live processes and the backends it has reaped."""
    live = 0.0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if int(_stat(int(name))[1]) == postmaster:
                    live += cpu_seconds(int(name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return live + cpu_seconds(postmaster) + cpu_seconds(postmaster, reaped=True)


@dataclass
class Side:
    """One source tree's deployment and its rounds: (points/s, collectors' and PostgreSQL's
    CPU milliseconds per batch)."""

    name: str
    pair: CollectorPair
    project: str = ""
    rounds: list[tuple[float, float, float]] = field(default_factory=list)


def measure(side: Side, postmaster: int, connections: int, batches: int, round_no: int,
            fmt: str = "rows") -> tuple[float, float, float]:
    pids = [side.pair.a.pid, side.pair.b.pid]
    collectors, database = sum(map(cpu_seconds, pids)), cluster_cpu_seconds(postmaster)
    rate = http_round(side.pair.front, side.project, fmt, connections, batches, round_no)
    count = connections * batches
    return (rate, (sum(map(cpu_seconds, pids)) - collectors) / count * 1e3,
            (cluster_cpu_seconds(postmaster) - database) / count * 1e3)


def side_env(spec: str) -> dict[str, str]:
    """The collectors' environment for a side ``tree[:NAME=value...]``: quiet, the tree's
    packages first on ``PYTHONPATH``, then the side's settings."""
    tree, *settings = spec.split(":")
    root = Path(tree).resolve()
    path = ":".join(str(root / p) for p in ("", "collector", "client", "spool_tools"))
    return {**QUIET, "PYTHONPATH": path, **dict(s.split("=", 1) for s in settings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sides", help="name=source_tree,name=source_tree")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batches", type=int, default=20, help="batches per connection/round")
    parser.add_argument("--format", choices=("rows", "columns"), default="rows",
                        help="the batches' body kind")
    args = parser.parse_args()
    trees = dict(part.split("=", 1) for part in args.sides.split(","))
    cluster = PgCluster(fsync=True)
    cluster.start()
    sides: list[Side] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rundial-ab-") as tmp:
            for name, spec in trees.items():
                pair = CollectorPair(Path(tmp) / name, cluster.new_database(name),
                                     side_env(spec))
                sides.append(Side(name, pair))
                pair.start()
                sides[-1].project = project_id(pair.front)
            postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
            run_rounds(sides, postmaster, args)
    finally:
        for side in sides:
            side.pair.stop()
        cluster.destroy()
    report(sides)


def run_rounds(sides: list[Side], postmaster: int, args: argparse.Namespace) -> None:
    for round_no in range(args.rounds + 1):
        for side in sides if round_no % 2 == 0 else reversed(sides):
            figures = measure(side, postmaster, args.connections, args.batches, round_no,
                              args.format)
            if round_no:  # round 0 warms up
                side.rounds.append(figures)
            print(f"round {round_no} {side.name:10s} {figures[0]:12,.0f} points/s  collectors "
                  f"{figures[1]:6.2f} ms CPU/batch  PostgreSQL {figures[2]:6.2f} ms CPU/batch",
                  flush=True)


def report(sides: list[Side]) -> None:
    if not sides or not sides[0].rounds:
        return
    base = [statistics.median(x[i] for x in sides[0].rounds) for i in range(3)]
    for side in sides:
        med = [statistics.median(x[i] for x in side.rounds) for i in range(3)]
        print(f"{side.name:10s} medians: {med[0]:12,.0f} points/s ({med[0] / base[0]:.2f}x "
              f"{sides[0].name}), collectors {med[1]:6.2f} ms CPU/batch ({med[1] / base[1]:.2f}x),"
              f" PostgreSQL {med[2]:6.2f} ms CPU/batch ({med[2] / base[2]:.2f}x)")


if __name__ == "__main__":
    main()
