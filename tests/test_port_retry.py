"""The test servers' port retry (tests/helpers/postgres.py ``start_on_a_free_port``), used by the
PostgreSQL and nginx harnesses: a port taken before the server binds it is retried, any other
failure is not."""

from __future__ import annotations

import pytest

from tests.helpers import postgres
from tests.helpers.postgres import start_on_a_free_port


def test_a_taken_port_is_retried_on_another() -> None:
    tried: list[int] = []

    def start(port: int) -> None:
        tried.append(port)
        if len(tried) < postgres.PORT_ATTEMPTS:
            raise RuntimeError("bind: Address already in use")

    assert start_on_a_free_port(start) == tried[-1]
    assert len(tried) == postgres.PORT_ATTEMPTS


def test_other_failures_and_the_last_attempt_are_raised() -> None:
    calls: list[int] = []

    def broken(port: int) -> None:
        calls.append(port)
        raise RuntimeError("initdb failed")

    with pytest.raises(RuntimeError, match="initdb failed"):
        start_on_a_free_port(broken)
    assert len(calls) == 1

    def always_taken(port: int) -> None:
        raise RuntimeError("Address already in use")

    with pytest.raises(RuntimeError, match="Address already in use"):
        start_on_a_free_port(always_taken)
