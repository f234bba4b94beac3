"""Benchmark: checkpoint upload throughput next to a plain file copy, and log() latency meanwhile.

    .venv/bin/python benchmarks/artifact_upload.py [--size-mb 1024] [--concurrency 2]

One run, on one disk (a temporary directory holds the source, the copy and the collector's
data dir):

1. Two plain copies of the checkpoint, no fsync: ``shutil.copyfile`` (an in-kernel copy) and a
   1 MiB read/write loop (user space, like any server receiving the bytes).
2. ``ArtifactUploader.checkpoint`` of the same file to a local collector subprocess, timed
   from the call to the end of ``flush`` (client hashing, parallel multipart PUTs, server
   hashing, finalize: everything). The hashing pass alone is reported for context.
3. ``run.log()`` latency of a real ``rd.init`` run in this process, one call per 0.5 ms
   "training step" (a sleep, as a GPU-bound loop waits with the GIL released): first with no
   upload (the normal figure), then during the upload.

Prints a JSON document; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rundial as rd  # noqa: E402
from rundial._artifacts import sha256_file  # noqa: E402
from rundial._uploader import ArtifactUploader  # noqa: E402
from tests.helpers.collector_proc import CollectorProcess  # noqa: E402

MiB = 1024 * 1024
STEP_WORK_S = 0.0005  # simulated training work between two log() calls


def write_random(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        for _ in range(size // (8 * MiB)):
            fh.write(os.urandom(8 * MiB))
        fh.write(os.urandom(size % (8 * MiB)))


def copy_loop(src: Path, dst: Path) -> None:
    """A user-space copy in 1 MiB reads and writes: what a receiving server can do at best."""
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(MiB):
            fout.write(chunk)


def timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def log_latencies(run: Any, stop: threading.Event, limit: int) -> list[float]:
    """log() durations in µs, one call per simulated step, until ``stop`` or ``limit`` calls."""
    out: list[float] = []
    step = 0
    while not stop.is_set() and step < limit:
        started = time.perf_counter_ns()
        run.log({"loss": 1.0 / (step + 1), "acc": 0.5, "lr": 1e-3}, step=step)
        out.append((time.perf_counter_ns() - started) / 1000)
        step += 1
        time.sleep(STEP_WORK_S)  # GPU-bound training: the loop waits with the GIL released
    return out


def summary(us: list[float]) -> dict[str, float]:
    ordered = sorted(us)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"calls": len(us), "p50_us": round(statistics.median(ordered), 2),
            "p99_us": round(pick(0.99), 2), "p999_us": round(pick(0.999), 2),
            "max_us": round(ordered[-1], 2)}


def upload_with_latency(collector: CollectorProcess, source: Path, spool: Path,
                        concurrency: int) -> dict[str, Any]:
    run = rd.init(workspace=collector.workspace, project=collector.project,
                  endpoint=collector.url, api_key=collector.api_key,
                  spool_directory=str(spool / "metrics"), system_metrics=False)
    try:
        baseline = log_latencies(run, threading.Event(), 5000)
        uploader = ArtifactUploader(collector.url, collector.api_key,
                                    {"workspace": collector.workspace,
                                     "project": collector.project}, run.run_id, spool,
                                    concurrency)
        stop = threading.Event()
        during: list[float] = []
        probe = threading.Thread(target=lambda: during.extend(log_latencies(run, stop, 10**7)))
        started = time.perf_counter()
        probe.start()
        assert uploader.checkpoint(source, step=1)
        assert uploader.flush(600), uploader.diagnostics()
        upload_s = time.perf_counter() - started
        stop.set()
        probe.join()
        uploader.close(5)
        return {"upload_s": upload_s, "baseline": summary(baseline), "during": summary(during),
                "uploader": uploader.diagnostics()}
    finally:
        run.finish()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    size = args.size_mb * MiB
    with tempfile.TemporaryDirectory(prefix="rd-bench-") as tmp:
        root = Path(tmp)
        source = root / "checkpoint.bin"
        write_random(source, size)
        copy_s = timed(shutil.copyfile, source, root / "copy.bin")
        loop_s = timed(copy_loop, source, root / "copy-loop.bin")
        (root / "copy.bin").unlink()
        (root / "copy-loop.bin").unlink()
        hash_s = timed(sha256_file, source)
        collector = CollectorProcess(root / "collector")
        collector.start()
        try:
            result = upload_with_latency(collector, source, root / "spool", args.concurrency)
        finally:
            collector.stop()
        mb = size / 1e6
        print(json.dumps({
            "size_mb": round(mb), "concurrency": args.concurrency,
            "copy_mb_s": round(mb / copy_s), "copy_loop_mb_s": round(mb / loop_s),
            "sha256_mb_s": round(mb / hash_s),
            "upload_mb_s": round(mb / result["upload_s"]),
            "upload_vs_copy": round(copy_s / result["upload_s"], 2),
            "upload_vs_copy_loop": round(loop_s / result["upload_s"], 2),
            "log_latency_baseline": result["baseline"],
            "log_latency_during_upload": result["during"],
            "uploaded_bytes": result["uploader"]["uploaded_bytes"]}, indent=2))


if __name__ == "__main__":
    main()
