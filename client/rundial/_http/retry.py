"""Failure classification (protocol §1.5) and full-jitter exponential backoff (tenacity).

* :func:`classify` maps an HTTP answer to OK, RETRY, SPLIT (413) or REJECT.
* :class:`Backoff` is the worker's non-blocking retry clock: after the n-th consecutive failure
  the next attempt waits ``U(0, min(cap, base * 2**(n-1)))`` seconds (tenacity's
  ``wait_random_exponential``, "full jitter"), or the server's ``Retry-After`` when longer.
  There is no attempt limit: the spool's size and age bound what a long outage can cost.
tenacity is imported on first use (it pulls in asyncio), so ``import rundial`` stays light.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RECOGNISED_CODES = frozenset({
    "INVALID_REQUEST", "REQUEST_TIMEOUT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_ENCODING",
    "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMITED", "INTERNAL_ERROR",
    "DEV_MODE_REQUIRED",
})
NON_RETRYABLE_CODES = frozenset({
    "INVALID_REQUEST", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_ENCODING", "UNAUTHORIZED", "FORBIDDEN",
    "NOT_FOUND", "CONFLICT", "DEV_MODE_REQUIRED",
})
RETRY_AFTER_MAX_S = 3600.0  # never park a batch longer than an hour on one server hint


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


def error_code(body: bytes) -> tuple[str | None, str]:
    """``(error.code, error.message)`` from the v1 error envelope; ``(None, "")`` if absent."""
    try:
        doc = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None, body[:200].decode("utf-8", "replace")
    err = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(err, dict):
        return None, ""
    code = err.get("code")
    return (code if code in RECOGNISED_CODES else None), str(err.get("message") or "")


def classify(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Verdict:
    """Classify an HTTP answer to an ingest request per protocol §1.5 (413 means SPLIT)."""
    if 200 <= status < 300:
        return Verdict(Outcome.OK, status)
    code, message = error_code(body)
    text = f"HTTP {status}" + (f" ({code}: {message})" if code or message else "")
    retry_after = parse_retry_after((headers or {}).get("retry-after"))
    if status in RETRYABLE_STATUSES or (code is None and status >= 500) or (
            code is not None and code not in NON_RETRYABLE_CODES):
        return Verdict(Outcome.RETRY, status, retry_after, text)
    if status == 413:
        return Verdict(Outcome.SPLIT, status, None, text)
    return Verdict(Outcome.REJECT, status, None, text)


def network_error(exc: BaseException) -> Verdict:
    """A request that got no HTTP answer is always retryable."""
    return Verdict(Outcome.RETRY, None, None, f"network error: {exc}")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # lazy: only HTTP-date hints need it

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


@dataclass(slots=True)
class _AttemptState:
    """The one field tenacity's wait strategies read from a ``RetryCallState``."""

    attempt_number: int


def full_jitter_wait(base_s: float, cap_s: float) -> Callable[[Any], float]:
    """tenacity's full-jitter strategy: ``U(0, min(cap, base * 2**(attempt-1)))``."""
    import tenacity  # lazy: pulls in asyncio

    return tenacity.wait_random_exponential(multiplier=base_s, max=cap_s, exp_base=2, min=0)


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
