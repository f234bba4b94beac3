"""One online step of the worker: register the run if needed, then send the spool FIFO.

A retryable failure (of registration or of a send) is counted (``retry_attempts``; a failed
registration also sets ``last_error``), backs off (full jitter, ``Retry-After`` honoured) and
emits ``retry_scheduled``; success resets the back-off. A registration refused for good blocks
only this writer's own batches (adopted runs keep sending). Never raises for a network failure.
"""

from __future__ import annotations

from collections.abc import Callable

from rundial._diagnostics import Counters
from rundial._http.retry import Backoff
from rundial._http.transport import Transport
from rundial._pipeline.registrar import FAILED, Registrar
from rundial._pipeline.sender import SpoolPump


def network_step(registrar: Registrar, pump: SpoolPump, transport: Transport, backoff: Backoff,
                 counters: Counters, emit: Callable[..., None],
                 keep_going: Callable[[], bool]) -> None:
    """Register (if needed), then send while ``keep_going()`` and finish idle adopted runs."""
    failure = registrar.step(transport, pump.timeout)
    if failure is None:
        pump.own_blocked = registrar.state == FAILED
        stop = pump.pump(keep_going) or pump.finish_idle_runs()
        if stop is None:
            backoff.succeeded()
            return
        failure_message, retry_after = stop.message, stop.retry_after
    else:
        failure_message, retry_after = failure.message, failure.retry_after
        counters.error(failure_message, transient=True)
    delay = backoff.failed(retry_after)
    counters.retry_attempts += 1
    emit("retry_scheduled", delay_s=delay, error=failure_message)
