"""Collectors sharing one data directory (issue 16) create the artifact signing secret at most
once between them, and none ever reads a half-written one.

Before the fix the secret file was created empty (O_EXCL) and written afterwards: a second
collector starting in that window read the empty file and failed to start ("does not hold a
32-byte hex secret").
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from rundial_collector.artifacts import signing


def test_a_collector_starting_while_another_creates_the_secret_reads_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_token_hex = signing.secrets.token_hex
    inside, release = threading.Event(), threading.Event()

    def slow_for_the_first(n: int | None = None) -> str:
        if n == signing.SECRET_BYTES and threading.current_thread().name == "first":
            inside.set()
            assert release.wait(10)
        return real_token_hex(n)

    monkeypatch.setattr(signing.secrets, "token_hex", slow_for_the_first)
    results: dict[str, bytes] = {}
    first = threading.Thread(name="first", target=lambda: results.update(
        first=signing.load_or_create_secret(tmp_path)))
    first.start()
    try:
        assert inside.wait(10)  # the first collector is generating its secret right now
        results["second"] = signing.load_or_create_secret(tmp_path)
    finally:
        release.set()
        first.join(10)
    assert results["first"] == results["second"]
    assert len(results["first"]) == signing.SECRET_BYTES
    assert (tmp_path / signing.SECRET_FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [signing.SECRET_FILE_NAME]  # no temp files
