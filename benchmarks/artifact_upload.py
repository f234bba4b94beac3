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
4. The control: the same upload (a fresh copy of the file, so nothing is deduplicated) run by
   ``ArtifactUploader`` in *another* process, with ``log()`` timed here meanwhile. It shares
   nothing with this interpreter (no GIL, no threads), so whatever it does to ``log()`` is the
   machine's cost of moving the bytes (two cores, the collector on the same box, loopback and
   disk); the gap between step 3 and this step is what the in-process uploader adds.

Prints a JSON document; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import rundial as rd  # noqa: E402
from rundial._artifacts.journal import sha256_file  # noqa: E402
from rundial._artifacts.uploader import ArtifactUploader  # noqa: E402
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


CHILD_UPLOAD = """
import sys
sys.path.insert(0, sys.argv[1])
from rundial._artifacts.uploader import ArtifactUploader
url, key, workspace, project, source, spool, run_id, concurrency = sys.argv[2:10]
uploader = ArtifactUploader(url, key, {"workspace": workspace, "project": project}, run_id,
                            spool, int(concurrency))
assert uploader.checkpoint(source, step=1) and uploader.flush(600), uploader.diagnostics()
uploader.close(5)
"""


def upload_in_process(collector: CollectorProcess, source: Path, spool: Path, run_id: str,
                      concurrency: int) -> dict[str, Any]:
    uploader = ArtifactUploader(collector.url, collector.api_key,
                                {"workspace": collector.workspace, "project": collector.project},
                                run_id, spool, concurrency)
    assert uploader.checkpoint(source, step=1)
    assert uploader.flush(600), uploader.diagnostics()
    uploader.close(5)
    return uploader.diagnostics()


def upload_in_child(collector: CollectorProcess, source: Path, spool: Path, run_id: str,
                    concurrency: int) -> dict[str, Any]:
    subprocess.run([sys.executable, "-c", CHILD_UPLOAD, str(Path(__file__).resolve().parents[1]),
                    collector.url, collector.api_key or "", collector.workspace, collector.project,
                    str(source), str(spool), run_id, str(concurrency)], check=True)
    return {}


def upload_with_latency(run: Any, upload: Any) -> dict[str, Any]:
    """(upload seconds, log() latency before, log() latency during, uploader diagnostics)."""
    baseline = log_latencies(run, threading.Event(), 5000)
    stop = threading.Event()
    during: list[float] = []
    probe = threading.Thread(target=lambda: during.extend(log_latencies(run, stop, 10**7)))
    started = time.perf_counter()
    probe.start()
    diagnostics = upload()
    upload_s = time.perf_counter() - started
    stop.set()
    probe.join()
    return {"upload_s": upload_s, "baseline": summary(baseline), "during": summary(during),
            "uploader": diagnostics}


def both_uploads(collector: CollectorProcess, root: Path, source: Path,
                 concurrency: int) -> tuple[dict[str, Any], dict[str, Any]]:
    run = rd.init(workspace=collector.workspace, project=collector.project,
                  endpoint=collector.url, api_key=collector.api_key,
                  spool_directory=str(root / "spool" / "metrics"), system_metrics=False)
    try:
        ours = upload_with_latency(run, lambda: upload_in_process(
            collector, source, root / "spool", run.run_id, concurrency))
        other = source.with_name("checkpoint-control.bin")
        control = upload_with_latency(run, lambda: upload_in_child(
            collector, other, root / "spool-control", run.run_id, concurrency))
        return ours, control
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
        write_random(root / "checkpoint-control.bin", size)  # same bytes count, not deduplicated
        copy_s = timed(shutil.copyfile, source, root / "copy.bin")
        loop_s = timed(copy_loop, source, root / "copy-loop.bin")
        (root / "copy.bin").unlink()
        (root / "copy-loop.bin").unlink()
        hash_s = timed(sha256_file, source)
        collector = CollectorProcess(root / "collector")
        collector.start()
        try:
            result, control = both_uploads(collector, root, source, args.concurrency)
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
            "uploaded_bytes": result["uploader"]["uploaded_bytes"],
            "control_upload_in_another_process": {
                "upload_mb_s": round(mb / control["upload_s"]),
                "log_latency_baseline": control["baseline"],
                "log_latency_during_upload": control["during"]},
            "in_process_vs_other_process_log_p50": round(
                result["during"]["p50_us"] / control["during"]["p50_us"], 2),
            "in_process_vs_other_process_log_p99": round(
                result["during"]["p99_us"] / control["during"]["p99_us"], 2)}, indent=2))


if __name__ == "__main__":
    main()
