"""Shared fixtures: a real collector process on 127.0.0.1 with an ephemeral port.

Every end-to-end test uses :func:`collector` (function scope, fresh data dir) or
:func:`shared_collector` (session scope, for read-only or run-isolated tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.collector_proc import CollectorProcess


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    """A fresh collector with its own data dir; stopped at the end of the test."""
    proc = CollectorProcess(tmp_path / "collector-data")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def shared_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """One collector for the whole session; tests must use their own run ids."""
    proc = CollectorProcess(tmp_path_factory.mktemp("shared-collector"))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
