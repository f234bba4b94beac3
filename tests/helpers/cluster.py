"""Two real collectors behind a real nginx, for the end-to-end tests and the benchmarks; and
the SDK helpers of the several-collector tests (a run through nginx, exactly-once checks).

:class:`CollectorPair` starts collector A, then B (same admin key, workspace and project), then
nginx in front of both; :meth:`CollectorPair.stop` stops them all. On PostgreSQL both share the
database and one data directory (blobs, the artifact signing secret): each collector gets its
own name for it (a symlink), so its port file and log stay its own. On SQLite each has its own
data directory (two separate stores: only useful to test the load balancer itself).
"""

from __future__ import annotations

import os
from pathlib import Path

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.nginx import NginxProcess
from tests.helpers.waiting import wait_until
from tests.sdk.e2e_support import read_points, series_stats

FAST_RETRY = {"retry_base_delay_seconds": 0.05, "retry_max_delay_seconds": 0.5,
              "flush_interval_seconds": 0.1, "system_metrics": False}


def behind(nginx: NginxProcess, proc: CollectorProcess) -> CollectorProcess:
    """A handle with ``proc``'s credentials addressed through ``nginx`` (never started itself),
    so helpers that take a collector talk to the load balancer."""
    view = CollectorProcess(proc.data_dir)
    view.port = nginx.port
    view.api_key, view.workspace, view.project = proc.api_key, proc.workspace, proc.project
    return view


class CollectorPair:
    """Collectors ``a`` and ``b`` and ``nginx`` in front; ``front`` addresses nginx."""

    def __init__(self, base: Path, database_url: str = "",
                 extra_env: dict[str, str] | None = None) -> None:
        base.mkdir(parents=True, exist_ok=True)
        if database_url:
            shared = base / "shared-data"
            shared.mkdir(exist_ok=True)
            for name in ("a-data", "b-data"):
                if not (base / name).exists():
                    os.symlink(shared, base / name)
        self.a = CollectorProcess(base / "a-data", extra_env, database_url)
        self.b = CollectorProcess(base / "b-data", extra_env, database_url)
        self.b.api_key = self.a.api_key
        self.nginx: NginxProcess | None = None

    @property
    def front(self) -> CollectorProcess:
        assert self.nginx is not None, "not started"
        return behind(self.nginx, self.a)

    def start(self) -> None:
        """A first (it migrates and bootstraps), then B, then nginx; all stopped on failure."""
        try:
            self.a.start()
            self.b.start()
            self.nginx = NginxProcess([f"127.0.0.1:{self.a.port}", f"127.0.0.1:{self.b.port}"])
            self.nginx.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        self.a.stop()
        self.b.stop()

    def __enter__(self) -> CollectorPair:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sdk_run(front: CollectorProcess, tmp_path: Path) -> rd.Run:
    """An SDK run logging to ``front`` (fast retries, no system metrics), once registered."""
    run = rd.init(workspace=front.workspace, project=front.project, endpoint=front.url,
                  api_key=front.api_key, spool_directory=str(tmp_path / "spool"), **FAST_RETRY)
    assert isinstance(run, rd.Run)
    wait_until(lambda: run.state == "running", 30, message="run registered through nginx")
    return run


def count_through(proc: CollectorProcess, run_id: str) -> int:
    """Resolved points of key ``a`` read through ``proc`` (0 while unreachable)."""
    try:
        return series_stats(proc, run_id, ["a"])["a"][0]
    except (OSError, AssertionError, KeyError):
        return 0


def assert_exactly_once(proc: CollectorProcess, run_id: str, steps: int) -> None:
    """Every step 0..steps-1 resolved once with its own value, and no raw duplicate stored."""
    assert series_stats(proc, run_id, ["a"]) == {"a": (steps, 0)}
    assert read_points(proc, run_id, ["a"])["a"] == {s: float(s) for s in range(steps)}
