"""Retry classification (protocol §1.5) and full-jitter backoff with Retry-After."""

from __future__ import annotations

import json
import random

import pytest

from rundial._http.calls import parse_retry_after
from rundial._http.retry import Backoff, Outcome, classify
from tests.sdk.conftest import FakeClock


def envelope(code: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": "m"}}).encode()


@pytest.mark.parametrize("status,body,outcome", [
    (200, b"", Outcome.OK), (202, b"{}", Outcome.OK),
    (408, b"", Outcome.RETRY), (429, envelope("RATE_LIMITED"), Outcome.RETRY),
    (500, b"", Outcome.RETRY), (502, b"", Outcome.RETRY), (503, b"", Outcome.RETRY),
    (504, b"", Outcome.RETRY), (507, b"", Outcome.RETRY),
    (400, envelope("RATE_LIMITED"), Outcome.RETRY), (400, envelope("INTERNAL_ERROR"), Outcome.RETRY),
    (400, envelope("INVALID_REQUEST"), Outcome.REJECT), (400, b"", Outcome.REJECT),
    (401, envelope("UNAUTHORIZED"), Outcome.REJECT), (403, envelope("FORBIDDEN"), Outcome.REJECT),
    (404, envelope("NOT_FOUND"), Outcome.REJECT), (409, envelope("CONFLICT"), Outcome.REJECT),
    (415, envelope("UNSUPPORTED_ENCODING"), Outcome.REJECT),
    (413, envelope("PAYLOAD_TOO_LARGE"), Outcome.SPLIT), (413, b"", Outcome.SPLIT),
])
def test_classification(status: int, body: bytes, outcome: Outcome) -> None:
    """Each status/code pair maps to the protocol's retry class; 413 means split."""
    assert classify(status, body).outcome is outcome


def test_retry_after_is_parsed_from_seconds_and_dates() -> None:
    """Delta-seconds and HTTP-dates both work; garbage is ignored."""
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert classify(429, b"", {"retry-after": "3"}).retry_after == 3.0


def test_backoff_is_full_jitter_exponential_with_a_cap() -> None:
    """The n-th delay lies in [0, min(cap, base * 2**(n-1))]."""
    clock = FakeClock()
    backoff = Backoff(1.0, 60.0, clock)
    for attempt in range(1, 12):
        delay = backoff.failed()
        assert 0.0 <= delay <= min(60.0, 2.0 ** (attempt - 1))
        assert backoff.until == pytest.approx(clock.now + delay)
    backoff.succeeded()
    assert backoff.ready() and backoff.failures == 0


def test_backoff_leaves_the_global_random_state_alone() -> None:
    """Retries during an outage must not shift a seeded script's ``random`` sequence."""
    random.seed(7)
    state = random.getstate()
    backoff = Backoff(1.0, 60.0, FakeClock())
    delays = [backoff.failed() for _ in range(20)]
    assert random.getstate() == state
    assert len(set(delays)) > 1  # still jittered


def test_backoff_honours_retry_after() -> None:
    """A Retry-After longer than the jitter wins."""
    clock = FakeClock()
    backoff = Backoff(1.0, 60.0, clock)
    assert backoff.failed(retry_after=30.0) >= 30.0
    assert not backoff.ready()
    clock.advance(30.0)
    assert backoff.ready()
