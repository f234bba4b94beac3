"""SDK unit-test fixtures: an in-memory collector double, a fake clock, and manual-mode runs.

Manual-mode runs have no worker thread: a test drives the worker with ``run._worker.cycle()``
and ``finish`` runs inline, so every test is deterministic and instant.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rundial import MockTransport, Request, Response, TransportError
from rundial._config import build_settings
from rundial._run.init import batch_header, run_document
from rundial._run.run import Run


class FakeClock:
    """A monotonic clock tests move by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Scripted = tuple[int, dict[str, str], bytes] | Exception


@dataclass
class CollectorDouble:
    """Answers like the collector: stores wide rows once per Idempotency-Key.

    ``script[path_suffix]`` is a list of answers (status, headers, body) or exceptions to use
    before falling back to success.
    """

    rows: list[tuple[str, int, int, dict[str, Any]]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    script: dict[str, list[Scripted]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    lines: list[dict[str, Any]] = field(default_factory=list)
    spans: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        with self.lock:
            return self._handle(request)

    def _handle(self, request: Request) -> Response:
        doc = self._decode(request)
        self.calls.append((request.method, request.path, doc))
        for suffix, answers in self.script.items():
            if request.path.endswith(suffix) and answers:
                answer = answers.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                status, headers, body = answer
                return Response(status, body, headers)
        if request.path.endswith("/ingest/metrics"):
            return self._ingest(request, doc or {})
        if request.path.endswith(("/ingest/logs", "/ingest/traces")):
            return self._ingest_items(request, doc or {})
        if request.path.endswith("/runs/resolve-target"):
            return Response(200, json.dumps({"projectId": "prj_000000000001"}).encode())
        if request.path.endswith("/runs/start"):
            return Response(201, json.dumps({"runId": doc["runId"], "projectId": doc["projectId"]}).encode())
        return Response(200, b"{}")

    @staticmethod
    def _decode(request: Request) -> dict[str, Any] | None:
        if not request.body:
            return None
        raw = request.body
        if request.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw)

    def _ingest(self, request: Request, doc: dict[str, Any]) -> Response:
        key = request.headers["idempotency-key"]
        self.keys.append(key)
        points = sum(len(r[2]) for r in doc["rows"])
        if key in self.seen:
            return Response(200, json.dumps({"accepted": points, "duplicate": True}).encode())
        self.seen.add(key)
        self.bodies.append(doc)
        self.rows.extend((doc["runId"], r[0], r[1], r[2]) for r in doc["rows"])
        return Response(202, json.dumps({"accepted": points, "rejected": 0}).encode())

    def _ingest_items(self, request: Request, doc: dict[str, Any]) -> Response:
        """Log lines and spans: items inherit the body's ``runId`` (docs/protocol.md §4.7)."""
        key = request.headers["idempotency-key"]
        field_name = "lines" if "lines" in doc else "spans"
        items = [{"runId": doc.get("runId"), **item} for item in doc[field_name]]
        if key not in self.seen:
            self.seen.add(key)
            getattr(self, field_name).extend(items)
        return Response(202, json.dumps({"accepted": len(items), "rejected": 0}).encode())

    def steps(self, run_id: str | None = None) -> list[int]:
        """Steps of the training rows received, in order. System-metric rows (epoch-second
        steps, ``system/`` keys) are left out: the sampler's first sample is taken when the run
        starts, so whether it arrives before ``finish`` depends on thread timing."""
        return [step for rid, step, _ts, row in self.rows
                if (run_id is None or rid == run_id)
                and not all(key.startswith("system/") for key in row)]

    def paths(self) -> list[str]:
        return [path for _m, path, _d in self.calls]


def refused(message: str = "connection refused") -> TransportError:
    return TransportError(message)


@pytest.fixture(autouse=True)
def _fresh_warning_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-key "warn once" state starts empty in every test."""
    from rundial._wire import batch

    monkeypatch.setattr(batch, "_warned", set())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def double() -> CollectorDouble:
    return CollectorDouble()


@pytest.fixture
def transport(double: CollectorDouble) -> MockTransport:
    return MockTransport(double)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No RUNDIAL_* variables and an empty HOME, so config resolution is deterministic."""
    import os

    for name in list(os.environ):
        if name.startswith("RUNDIAL_") or name in ("RANK", "LOCAL_RANK", "SLURM_PROCID",
                                                   "OMPI_COMM_WORLD_RANK", "PMI_RANK"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


MakeRun = Callable[..., Run]


@pytest.fixture
def make_run(tmp_path: Path, transport: MockTransport, clock: FakeClock, wall: FakeClock,
             isolated_env: Path) -> Iterator[MakeRun]:
    """Build a manual-mode run (no thread) on the double, fake clocks and a tmp spool."""
    made: list[Run] = []

    def make(*, run_id: str = "run_test", minted: bool = True, rank: int = 0,
             registering: bool = True, transport_: Any = None, **options: Any) -> Run:
        options.setdefault("project", "test-proj")
        options.setdefault("spool_directory", str(tmp_path / "spool"))
        options.setdefault("endpoint", "http://collector.test")
        settings = build_settings(options)
        doc = run_document(settings, run_id, "allow" if minted else settings.resume)
        run = Run(settings, doc, batch_header(settings, run_id, rank), rank=rank,
                  registering=registering, transport=transport_ or transport, clock=clock,
                  wall=wall, manual=True)
        made.append(run)
        return run

    yield make
    for run in made:
        if run._end.status is None:
            run.abort("test teardown", timeout_s=0)
