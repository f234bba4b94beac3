"""``rd.replay_spool``: upload what earlier processes left in a spool directory (``rundial sync``).

Adopts every orphan writer (its owner gone: the ``.lock`` is free) of runs recorded for the
endpoint, registers runs that never were, sends their batches FIFO with their stored
Idempotency-Keys (a batch the collector already has is answered ``duplicate`` and stored once),
deletes each file after a 2xx, sends recorded final statuses and removes emptied directories.
Retryable failures are retried with tenacity (full jitter, ``Retry-After`` honoured) until
``timeout_s``; ``timeout_s=0`` makes a single pass. Live writers are never touched, and nothing is
evicted: replay only ever deletes delivered files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rundial._config import (REQUEST_TIMEOUT_S, RETRY_BASE_DELAY_S, RETRY_MAX_DELAY_S,
                             default_spool_directory, resolve_target)
from rundial._diagnostics import Counters
from rundial._http.retry import full_jitter_wait
from rundial._http.transport import HttpTransport, Transport
from rundial._pipeline.sender import PumpStop, SpoolPump
from rundial._spool.disk import DiskSpool


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What one :func:`replay_spool` call did."""

    batches_sent: int
    batches_rejected: int
    batches_corrupt: int
    batches_pending: int
    last_error: str | None


class _Retryable(Exception):
    def __init__(self, stop: PumpStop) -> None:
        super().__init__(stop.message)
        self.retry_after = stop.retry_after


def _wait_strategy(base_s: float, cap_s: float) -> Callable[[Any], float]:
    jitter = full_jitter_wait(base_s, cap_s)

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hint = getattr(exc, "retry_after", None) or 0.0
        return max(jitter(state), hint)

    return wait


def replay_spool(spool_directory: str | Path | None = None, *, endpoint: str | None = None,
                 api_key: str | None = None, run_id: str | None = None, timeout_s: float = 30.0,
                 include_blocked: bool = False, transport: Transport | None = None,
                 request_timeout_seconds: float = REQUEST_TIMEOUT_S,
                 retry_base_delay_seconds: float = RETRY_BASE_DELAY_S,
                 retry_max_delay_seconds: float = RETRY_MAX_DELAY_S,
                 sleep: Callable[[float], None] = time.sleep) -> ReplayResult:
    """Upload orphaned spooled batches for ``endpoint`` (see the module docstring).

    ``endpoint``/``api_key`` resolve like ``rd.init``; ``run_id`` limits replay to one run;
    ``include_blocked`` also retries runs whose registration was refused. Never raises for
    network or HTTP failures: they show in the result (``batches_pending``, ``last_error``).
    """
    target = resolve_target(endpoint, api_key, None, None)
    root = Path(spool_directory or default_spool_directory()).expanduser()
    counters = Counters()
    spool = DiskSpool(root, "", "", counters, max_bytes=1 << 62, max_age_s=float("inf"),
                      memory_max_records=0)
    transport = transport or HttpTransport(str(target["endpoint"]), request_timeout_seconds)
    pump = SpoolPump(spool, transport, target["api_key"], counters, request_timeout_seconds)
    if timeout_s > 0:
        pump.deadline = time.monotonic() + timeout_s
    pump.adopt_orphans(str(target["endpoint"]), include_blocked=include_blocked, run_id=run_id)
    try:
        _pump_with_retries(pump, timeout_s, sleep,
                           _wait_strategy(retry_base_delay_seconds, retry_max_delay_seconds))
    finally:
        pending = len(spool) + pump.blocked_batches  # a refused run's files stay: still pending
        pump.release_all()
        transport.close()
    return ReplayResult(pump.replayed_batches, counters.batches_rejected,
                        counters.batches_corrupt, pending, counters.last_error)


def _pump_with_retries(pump: SpoolPump, timeout_s: float, sleep: Callable[[float], None],
                       wait: Callable[[Any], float]) -> None:
    """Pump until done; retry retryable stops with tenacity until ``timeout_s`` has passed."""
    import tenacity  # lazy: pulls in asyncio

    retrying = tenacity.Retrying(wait=wait, stop=tenacity.stop_after_delay(max(0.0, timeout_s)),
                                 sleep=sleep, retry=tenacity.retry_if_exception_type(_Retryable),
                                 reraise=False)
    try:
        for attempt in retrying:
            with attempt:
                stop = pump.pump(lambda: True) or pump.finish_idle_runs()
                if stop is not None:
                    raise _Retryable(stop)
    except tenacity.RetryError:
        pass
