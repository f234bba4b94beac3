"""Data for the UI benchmark (``benchmarks/ui.py``), loaded fast into a real collector.

* Runs are registered over HTTP (``runs/start`` with our own run ids and configs, 4 keep-alive
  connections in parallel), so the runs table and the project page see them as any run.
* Long series are then written with the collector stopped, straight into its database through
  the collector's own chunk writer (``write_chunks``, what the ingest route runs, so every chunk
  gets its chart aggregates), batch by batch as ``benchmarks/chart_data.py`` does: batches of
  up to 10,000 steps, every 10th re-logging the previous batch's steps. A series of N points
  thus holds N logged points of which 10% re-log an earlier step (0.9 N distinct steps).
"""

from __future__ import annotations

import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.chart_data import BATCH, Client, batches
from rundial_collector.store.data_base import SeriesChunk
from rundial_collector.store.sqlite.metrics import write_chunks
from tests.helpers.collector_proc import CollectorProcess

PARALLEL = 4
OPTIMIZERS = ("adamw", "sgd", "lion", "adafactor")


@dataclass(frozen=True)
class Sizes:
    """How much data each figure gets (``--quick`` shrinks every one)."""

    dash_runs: int = 20
    dash_keys: int = 16
    dash_points: int = 100_000
    big_points: int = 1_000_000
    small_points: int = 1_000
    table_runs: int = 10_000
    table_config_keys: int = 20


QUICK = Sizes(dash_runs=4, dash_keys=4, dash_points=10_000, big_points=100_000,
              small_points=1_000, table_runs=300, table_config_keys=20)


def dash_runs(sizes: Sizes) -> list[str]:
    return [f"dash-{r:02d}" for r in range(sizes.dash_runs)]


def dash_keys(sizes: Sizes) -> list[str]:
    return [f"train/m{k:02d}" for k in range(sizes.dash_keys)]


def project_id(client: Client, workspace: str, project: str) -> str:
    reply = client.json("POST", "/api/v1/runs/resolve-target",
                        {"workspace": workspace, "project": project})
    return str(reply["projectId"])


def create_project(client: Client, workspace: str, slug: str) -> str:
    client.json("POST", f"/api/v1/workspaces/{workspace}/projects", {"slug": slug, "name": slug})
    return project_id(client, workspace, slug)


def start_runs(proc: CollectorProcess, pid: str, runs: list[tuple[str, dict[str, Any]]]) -> None:
    """Register ``(run id, config)`` runs in ``pid``, :data:`PARALLEL` connections at once."""
    clients = [Client(proc) for _ in range(PARALLEL)]

    def register(index: int) -> None:
        for run_id, config in runs[index::PARALLEL]:
            clients[index].json("POST", "/api/v1/runs/start", {
                "projectId": pid, "runId": run_id, "runName": run_id, "kind": "training",
                "resume": "never", "config": config,
                "client": {"name": "rundial-ui-bench", "version": "0"}})

    with ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(register, range(PARALLEL)))


def finish_runs(proc: CollectorProcess, run_ids: list[str]) -> None:
    """Mark runs completed: a finished run's charts are read once, with no live stream to
    follow first."""
    client = Client(proc)
    for run_id in run_ids:
        client.json("POST", f"/api/v1/runs/{run_id}/status", {"status": "completed"})


def table_config(index: int, keys: int) -> dict[str, Any]:
    """A seeded config of ``keys`` entries: floats, ints, strings and booleans."""
    rng = random.Random(index)
    config: dict[str, Any] = {"lr": round(10 ** rng.uniform(-5, -1), 8),
                              "batch_size": rng.choice([16, 32, 64, 128, 256]),
                              "optimizer": rng.choice(OPTIMIZERS), "use_amp": rng.random() < 0.5}
    for k in range(len(config), keys):
        config[f"hp{k:02d}"] = round(rng.random(), 6) if k % 2 else rng.randrange(1000)
    return config


def batch_steps(points: int) -> int:
    """Steps per logged batch: 10,000, fewer for short series so they get their 10% too."""
    return min(BATCH, max(1, points // 10))


def write_series(db_path: Path, pid: str, series: list[tuple[str, str, int]]) -> None:
    """Write ``(run id, key, points)`` series as chunks (the collector must be stopped)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    try:
        for number, (run_id, key, points) in enumerate(series):
            conn.execute("BEGIN")
            for chunk in batches(points, number, batch_steps(points)):
                write_chunks(conn, [SeriesChunk(pid, run_id, key, chunk)], now_ms=0)
            conn.execute("COMMIT")
    finally:
        conn.close()


def chart_runs(sizes: Sizes, with_dashboard: bool = True) -> list[str]:
    """The run ids of :func:`load_chart_data`."""
    return ["big", "small", *(dash_runs(sizes) if with_dashboard else [])]


def load_chart_data(proc: CollectorProcess, sizes: Sizes, with_dashboard: bool = True,
                    finished: bool = True) -> str:
    """The chart project's runs and series (the bootstrap project); returns its id.

    ``big`` holds ``train/loss`` of ``big_points`` points, ``small`` the same key with
    ``small_points`` (the baseline), and (``with_dashboard``) the ``dash-NN`` runs the
    dashboard's keys. The runs are left running unless ``finished`` (then completed)."""
    client = Client(proc)
    pid = project_id(client, proc.workspace, proc.project)
    runs = chart_runs(sizes, with_dashboard)
    start_runs(proc, pid, [(run_id, {"lr": 1e-3}) for run_id in runs])
    if finished:
        finish_runs(proc, runs)
    series = [("big", "train/loss", sizes.big_points), ("small", "train/loss", sizes.small_points)]
    if with_dashboard:
        series += [(r, k, sizes.dash_points) for r in dash_runs(sizes) for k in dash_keys(sizes)]
    proc.stop()
    write_series(proc.data_dir / "rundial.sqlite3", pid, series)
    proc.start()
    return pid


def load_table_runs(proc: CollectorProcess, sizes: Sizes, slug: str) -> str:
    """A project ``slug`` of ``table_runs`` runs with ``table_config_keys`` config keys each."""
    pid = create_project(Client(proc), proc.workspace, slug)
    start_runs(proc, pid, [(f"t{i:05d}", table_config(i, sizes.table_config_keys))
                           for i in range(sizes.table_runs)])
    return pid
