"""Failure classification (protocol §1.5) and full-jitter exponential backoff (tenacity).

* :func:`classify` maps an HTTP answer to an ingest request to OK, RETRY, SPLIT (413) or REJECT
  (the error envelope, the §1.5 rule and ``Retry-After`` are read by :mod:`rundial._http.calls`).
* :class:`Backoff` is the worker's non-blocking retry clock: after the n-th consecutive failure
  the next attempt waits ``U(0, min(cap, base * 2**(n-1)))`` seconds (tenacity's
  ``wait_random_exponential``, "full jitter"), or the server's ``Retry-After`` when longer.
  There is no attempt limit: the spool's size and age bound what a long outage can cost.
tenacity is imported on first use (it pulls in asyncio), so ``import rundial`` stays light.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rundial._http.calls import (parse_envelope, parse_retry_after, retryable_by_protocol,
                                 status_text)


class Outcome(enum.Enum):
    """What to do with a batch after one attempt."""

    OK = "ok"
    RETRY = "retry"
    SPLIT = "split"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classified answer: outcome, HTTP status (None for network errors), hint, message."""

    outcome: Outcome
    status: int | None
    retry_after: float | None = None
    message: str = ""


def classify(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Verdict:
    """Classify an HTTP answer to an ingest request per protocol §1.5 (413 means SPLIT)."""
    if 200 <= status < 300:
        return Verdict(Outcome.OK, status)
    envelope = parse_envelope(body)
    text = status_text(status, envelope)
    if retryable_by_protocol(status, envelope):
        return Verdict(Outcome.RETRY, status, parse_retry_after((headers or {}).get("retry-after")),
                       text)
    if status == 413:
        return Verdict(Outcome.SPLIT, status, None, text)
    return Verdict(Outcome.REJECT, status, None, text)


def network_error(exc: BaseException) -> Verdict:
    """A request that got no HTTP answer is always retryable."""
    return Verdict(Outcome.RETRY, None, None, f"network error: {exc}")


@dataclass(slots=True)
class _AttemptState:
    """The one field tenacity's wait strategies read from a ``RetryCallState``."""

    attempt_number: int


def full_jitter_wait(base_s: float, cap_s: float,
                     rng: random.Random | None = None) -> Callable[[Any], float]:
    """Full jitter: ``U(0, min(cap, base * 2**(attempt-1)))``, the ceiling from tenacity's
    ``wait_exponential``. The draw comes from ``rng`` (default: a private generator), never the
    global ``random``: retries during an outage must not shift a seeded training script's
    ``random.random()`` sequence (tenacity's ``wait_random_exponential`` draws from the global
    one)."""
    import tenacity  # lazy: pulls in asyncio

    ceiling = tenacity.wait_exponential(multiplier=base_s, max=cap_s, exp_base=2, min=0)
    draw = rng or random.Random()
    return lambda state: draw.uniform(0.0, ceiling(state))


class Backoff:
    """Non-blocking backoff for one destination; ``clock`` is monotonic seconds (injectable).

    Not thread-safe: owned by the worker thread.
    """

    def __init__(self, base_s: float, cap_s: float, clock: Callable[[], float] = time.monotonic,
                 wait: Callable[[Any], float] | None = None) -> None:
        self._base_s = base_s
        self._cap_s = cap_s
        self._clock = clock
        self._wait = wait
        self.failures = 0
        self.until = 0.0
        self.hint_until = 0.0
        self.last_delay = 0.0

    def ready(self) -> bool:
        """True when the next attempt may go out now."""
        return self._clock() >= self.until

    def remaining(self) -> float:
        """Seconds until :meth:`ready` (0 when ready)."""
        return max(0.0, self.until - self._clock())

    def failed(self, retry_after: float | None = None) -> float:
        """Record a failure; returns the delay before the next attempt."""
        self.failures += 1
        if self._wait is None:
            self._wait = full_jitter_wait(self._base_s, self._cap_s)
        delay = float(self._wait(_AttemptState(self.failures)))
        if retry_after is not None:
            delay = max(delay, retry_after)
            self.hint_until = self._clock() + retry_after
        self.last_delay = delay
        self.until = self._clock() + delay
        return delay

    def succeeded(self) -> None:
        """Reset after a success."""
        self.failures = 0
        self.until = 0.0
