"""Fixtures shared by the live-event tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.collector_proc import CollectorProcess


@pytest.fixture(scope="module")
def quick_poll(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector polling streams every 0.2 s (keepalive after 1 s of silence)."""
    proc = CollectorProcess(Path(tmp_path_factory.mktemp("quick-poll")) / "data",
                            extra_env={"RUNDIAL_COLLECTOR_EVENTS_POLL_SECONDS": "0.2"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()
