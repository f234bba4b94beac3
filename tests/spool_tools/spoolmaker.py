"""Build spool directories in the SDK's format for tests (fast, deterministic, no SDK thread).

The layout and encoding come from the SDK's own helpers (``entry_name``, ``gzip_bytes``,
``write_run_file``), so these files are byte-for-byte what ``rundial._spool.disk`` writes. A test
that needs the real writer uses :func:`write_offline_run`, which runs the SDK in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

from rundial._spool.layout import entry_name
from rundial._spool.runfile import write_run_file
from rundial._wire.batch import gzip_bytes

WRITER_ID = "w_0123456789ab"


def rows_body(run_id: str, steps: range, seq: int, keys: tuple[str, ...] = ("loss",),
              workspace: str = "test-ws", project: str = "test-proj") -> bytes:
    """A gzip'd wide-row metrics body; value of key ``k`` at step ``s`` is ``s + index(k)/10``."""
    rows = [[s, 1_700_000_000_000 + s, {k: s + i / 10 for i, k in enumerate(keys)}] for s in steps]
    doc = {"workspace": workspace, "project": project, "runId": run_id, "writerId": WRITER_ID,
           "seq": seq, "rows": rows}
    return gzip_bytes(json.dumps(doc, separators=(",", ":")).encode())


def add_run(root: Path, run_id: str, endpoint: str, **info: Any) -> Path:
    """Create ``<root>/<run_id>/run.json`` as the SDK does; returns the run directory."""
    doc = {"endpoint": endpoint, "runId": run_id, "workspace": "test-ws", "project": "test-proj",
           "kind": "training", "resume": "allow", "registered": False, "blocked": None, **info}
    write_run_file(root / run_id, doc)
    return root / run_id


def add_batch(root: Path, run_id: str, seq: int, body: bytes, writer_id: str = WRITER_ID,
              batch_id: str | None = None) -> Path:
    """Write one batch file; returns its path."""
    directory = root / run_id / writer_id
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / entry_name(seq, batch_id or uuid.uuid4().hex)
    path.write_bytes(body)
    return path


def make_run(root: Path, run_id: str, endpoint: str, batches: int = 3, steps_per_batch: int = 10,
             keys: tuple[str, ...] = ("loss",), **info: Any) -> list[Path]:
    """A run with ``batches`` consecutive batches of ``steps_per_batch`` steps each."""
    add_run(root, run_id, endpoint, **info)
    return [add_batch(root, run_id, seq,
                      rows_body(run_id, range((seq - 1) * steps_per_batch, seq * steps_per_batch),
                                seq, keys))
            for seq in range(1, batches + 1)]


OFFLINE_WRITER = textwrap.dedent("""
    import sys, rundial as rd
    endpoint, spool, steps, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    run = rd.init(workspace="test-ws", project="test-proj", endpoint=endpoint, mode="offline",
                  spool_directory=spool, system_metrics=False, flush_interval_seconds=0.05)
    print(run.run_id, flush=True)
    for step in range(steps):
        run.log({"loss": 1.0 / (step + 1), "acc": step / steps}, step=step)
    if mode == "finish":
        run.finish()
    else:
        run.flush()
        print("SPOOLED", flush=True)
        sys.stdin.read()  # wait to be killed
""")


def write_offline_run(spool: Path, endpoint: str, steps: int) -> str:
    """Run an offline SDK run to completion in a subprocess; returns its run id."""
    proc = subprocess.run([sys.executable, "-c", OFFLINE_WRITER, endpoint, str(spool), str(steps),
                           "finish"], capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout.split()[0]
