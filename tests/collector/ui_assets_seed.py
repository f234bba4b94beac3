"""Data for the UI artifacts/media tests, logged through the real SDK against a real collector.

Two runs: ``producer`` logs the dataset ``data`` (alias ``golden``, two files) and ``many``
(:data:`MANY_FILES` files); ``consumer`` uses ``data:golden``, logs the model ``model``,
images under ``samples`` at :data:`IMAGE_STEPS` (each a solid colour coded by its step, with a
caption) and a table ``preds``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rundial as rd
from tests.helpers.collector_proc import CollectorProcess

MANY_FILES = 1500
IMAGE_STEPS = (0, 5, 10, 20)
TABLE_COLUMNS = ["id", "label", "score"]
TABLE_ROWS = [[1, "cat", 0.5], [2, "dog", 10.0], [3, "ant", 2.25], [10, "bee", None]]
DATA_FILES = {"a.txt": b"alpha bytes\n", "sub/b.bin": bytes(range(256)) * 3}
MODEL_BYTES = b"model weights " * 100


@dataclass(frozen=True)
class Seeded:
    producer: str
    consumer: str


def step_pixel(step: int) -> int:
    """The grey level of the image logged at ``step`` (distinct per step)."""
    return (step * 11 + 7) % 256


def _write_dir(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _init(proc: CollectorProcess, spool: Path, name: str) -> rd.Run:
    run = rd.init(workspace=proc.workspace, project=proc.project, endpoint=proc.url,
                  api_key=proc.api_key, spool_directory=str(spool), name=name)
    assert isinstance(run, rd.Run)
    return run


def seed_assets(proc: CollectorProcess, base: Path) -> Seeded:
    """Log both runs; each run's uploads are finished when its ``finish`` returns."""
    producer = _init(proc, base / "spool-p", "producer")
    assert producer.log_artifact(_write_dir(base / "dataset", DATA_FILES), name="data",
                                 type="dataset", aliases=["golden"])
    many = {f"part-{i:05d}.txt": b"x" for i in range(MANY_FILES)}
    assert producer.log_artifact(_write_dir(base / "many-files", many), name="many", type="dataset")
    assert producer.flush(timeout_s=60)
    assert producer.finish(timeout_s=60)
    consumer = _init(proc, base / "spool-c", "consumer")
    consumer.use_artifact("data:golden")
    for step in IMAGE_STEPS:
        pixels = np.full((8, 12), step_pixel(step), dtype=np.uint8)
        consumer.log({"samples": rd.Image(pixels, caption=f"sample at {step}")}, step=step)
    consumer.log({"preds": rd.Table(columns=TABLE_COLUMNS, rows=TABLE_ROWS)}, step=3)
    (base / "model.bin").write_bytes(MODEL_BYTES)
    assert consumer.log_artifact(base / "model.bin", name="model", type="model")
    assert consumer.flush(timeout_s=60)
    assert consumer.finish(timeout_s=60)
    return Seeded(producer.run_id, consumer.run_id)


@contextmanager
def seeded_collector(base: Path, database_url: str = ""
                     ) -> Iterator[tuple[CollectorProcess, Seeded]]:
    """A fresh collector under ``base`` (on PostgreSQL at ``database_url`` when given) holding
    :func:`seed_assets`' runs; stopped on exit."""
    proc = CollectorProcess(base / "data", database_url=database_url)
    proc.start()
    try:
        yield proc, seed_assets(proc, base)
    finally:
        proc.stop()
