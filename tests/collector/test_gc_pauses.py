"""A started collector keeps its start-up objects out of the garbage collector's scans
(rundial_collector/gc_pauses.py): full collections then scan only what serving allocated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Runs the real ``serve`` in a fresh interpreter (freezing is process-wide), on SQLite under a
# temporary data directory, and reports once the port file is written (the collector is up).
_SERVE_AND_REPORT = """
import asyncio, gc, sys
from pathlib import Path
from rundial_collector.__main__ import serve
from rundial_collector.config import CollectorConfig

async def main():
    data = Path(sys.argv[1])
    port_file = data.parent / "port"
    task = asyncio.create_task(serve(CollectorConfig(host="127.0.0.1", port=0, data_dir=data),
                                     port_file))
    for _ in range(600):
        if port_file.exists():
            break
        await asyncio.sleep(0.05)
    print("GC", gc.get_freeze_count(), len(gc.get_objects(generation=2)), flush=True)
    task.cancel()

asyncio.run(main())
"""


def test_serve_freezes_startup_objects(tmp_path: Path) -> None:
    """Once listening, tens of thousands of objects (the imported modules, the app) are frozen,
    and generation 2 holds only a small fraction of that."""
    done = subprocess.run([sys.executable, "-c", _SERVE_AND_REPORT, str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = [line for line in done.stdout.splitlines() if line.startswith("GC ")]
    assert report, done.stdout[-3000:]
    frozen, in_gen2 = (int(x) for x in report[-1].split()[1:])
    assert frozen > 20_000, done.stdout
    assert in_gen2 < frozen // 10, done.stdout


def test_freeze_keeps_collecting_new_cycles() -> None:
    """Freezing disables nothing: a reference cycle created afterwards is still freed by a
    collection (run in a fresh interpreter: freezing is process-wide)."""
    script = ("import gc, weakref\n"
              "from rundial_collector.gc_pauses import freeze_startup_objects\n"
              "assert freeze_startup_objects() > 0\n"
              "class Node: pass\n"
              "a, b = Node(), Node(); a.other, b.other = b, a\n"
              "ref = weakref.ref(a); del a, b\n"
              "gc.collect(); print(ref() is None)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "True"
