"""Upload/download round trips through our SDK against the real collector: size, memory, dedup."""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from rundial._artifacts.journal import sha256_file
from rundial._artifacts.uploader import ArtifactUploader
from tests.artifacts.conftest import blob_files, versions, write_random
from tests.helpers.collector_proc import CollectorProcess

MiB = 1024 * 1024
BIG_FILE_BYTES = 100 * MiB
COLLECTOR_RSS_GROWTH_MAX = 48 * MiB  # parts are streamed: far below the 100 MB moved
CLIENT_PEAK_MAX = 8 * MiB


@contextmanager
def peak_rss(pid: int) -> Iterator[dict[str, int]]:
    """Sample the RSS of ``pid`` every 10 ms inside the block; yields {'base', 'peak'}."""
    proc = psutil.Process(pid)
    result = {"base": proc.memory_info().rss, "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result["peak"] = max(result["peak"], proc.memory_info().rss)
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        stop.set()
        sampler.join()


@contextmanager
def traced_peak() -> Iterator[dict[str, int]]:
    """tracemalloc's peak of Python allocations (all threads) inside the block."""
    result = {"peak": 0}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def test_100mb_multipart_round_trip_with_bounded_memory(
        collector: CollectorProcess, make_uploader: Callable[..., ArtifactUploader],
        tmp_path: Path) -> None:
    """100 MB goes up in parallel parts and back verified, without either side buffering it."""
    source = tmp_path / "big" / "model.bin"
    digest = write_random(source, BIG_FILE_BYTES)
    warm = tmp_path / "warm.bin"
    write_random(warm, MiB)
    uploader = make_uploader(collector, concurrency=4)
    assert uploader.log_artifact(warm) and uploader.flush(30)
    with peak_rss(collector.pid) as server, traced_peak() as client_up:
        started = time.perf_counter()
        assert uploader.checkpoint(source, step=1)
        assert uploader.flush(60), uploader.diagnostics()
        upload_s = time.perf_counter() - started
    with peak_rss(collector.pid) as server_down, traced_peak() as client_down:
        out = uploader.use_artifact("checkpoint:latest").download(tmp_path / "out")
    assert sha256_file(out / "model.bin") == digest
    assert uploader.diagnostics()["uploaded_bytes"] >= BIG_FILE_BYTES
    assert server["peak"] - server["base"] < COLLECTOR_RSS_GROWTH_MAX, (server, upload_s)
    assert server_down["peak"] - server_down["base"] < COLLECTOR_RSS_GROWTH_MAX, server_down
    assert client_up["peak"] < CLIENT_PEAK_MAX, client_up
    assert client_down["peak"] < CLIENT_PEAK_MAX, client_down


def test_identical_files_are_stored_once(
        small_parts_collector: CollectorProcess,
        make_uploader: Callable[..., ArtifactUploader], tmp_path: Path) -> None:
    """The same bytes under other names, runs and artifacts are uploaded and stored once."""
    first = tmp_path / "a" / "weights.bin"
    write_random(first, 3 * MiB + 5)
    second = tmp_path / "b" / "copy.bin"
    second.parent.mkdir()
    second.write_bytes(first.read_bytes())
    both = tmp_path / "dir"
    both.mkdir()
    (both / "x.bin").write_bytes(first.read_bytes())
    (both / "y.bin").write_bytes(first.read_bytes())
    one = make_uploader(small_parts_collector, run_id="run-one")
    assert one.log_artifact(first, name="weights") and one.flush(30)
    other = make_uploader(small_parts_collector, run_id="run-two")
    assert other.log_artifact(second, name="copy") and other.log_artifact(both, name="pair")
    assert other.flush(30)
    stats = other.diagnostics()
    assert stats["completed_jobs"] == 2 and stats["uploaded_bytes"] == 0
    assert stats["deduplicated_bytes"] == 2 * first.stat().st_size
    assert len(blob_files(small_parts_collector)) == 1
    pair = versions(small_parts_collector, "pair")[0]
    assert [f["path"] for f in pair["files"]] == ["x.bin", "y.bin"]


def test_directory_artifact_round_trip_keeps_the_tree(
        small_parts_collector: CollectorProcess,
        make_uploader: Callable[..., ArtifactUploader], tmp_path: Path) -> None:
    """A directory uploads every file under its relative path and downloads the same tree."""
    src = tmp_path / "eval"
    files = {"summary.json": 10, "preds/part-0.bin": 2 * MiB + 3, "preds/deep/x.txt": 0}
    digests = {rel: write_random(src / rel, size) for rel, size in files.items()}
    uploader = make_uploader(small_parts_collector)
    assert uploader.log_artifact(src, name="eval-out", type="dataset", aliases=["golden"])
    assert uploader.flush(30), uploader.diagnostics()
    handle = uploader.use_artifact("eval-out:golden")
    assert handle.version == 1 and set(handle.aliases) == {"golden", "latest"}
    out = handle.download(tmp_path / "restored")
    assert {rel: sha256_file(out / rel) for rel in files} == digests
