"""Helpers for the Neptune/goodseed shim unit tests: what a run sent to the collector double,
and a subprocess that ends without stopping its run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from rundial import MockTransport
from tests.sdk.conftest import CollectorDouble

REPO_ROOT = Path(__file__).resolve().parents[2]


def options(double: CollectorDouble, tmp_path: Path) -> dict[str, Any]:
    """rundial options for a shim run on the double (no threads beyond the worker)."""
    return {"transport": MockTransport(double), "spool_directory": str(tmp_path / "spool"),
            "endpoint": "http://collector.test", "system_metrics": False}


def sent_config(double: CollectorDouble) -> dict[str, Any]:
    """The run's config as the collector would hold it: runs/start, then every config patch."""
    config: dict[str, Any] = {}
    for _method, path, doc in double.calls:
        if path.endswith("/runs/start"):
            config.update((doc or {}).get("config") or {})
        elif path.endswith("/config"):
            config.update((doc or {}).get("config") or {})
    return config


def start_body(double: CollectorDouble) -> dict[str, Any]:
    return next(doc or {} for _m, path, doc in double.calls if path.endswith("/runs/start"))


def run_meta(double: CollectorDouble) -> tuple[str | None, set[str]]:
    """``(name, tags)`` as the collector ends up with them: the start, then run edits (PATCH)."""
    body = start_body(double)
    name, tags = body.get("runName"), set(body.get("tags") or ())
    for method, _path, doc in double.calls:
        if method == "PATCH" and doc:
            name = doc.get("runName", name)
            tags = set(doc["tags"]) if "tags" in doc else tags
    return name, tags


def final_status(double: CollectorDouble) -> str | None:
    found = [(doc or {}).get("status") for _m, path, doc in double.calls if path.endswith("/status")]
    return found[-1] if found else None


def points(double: CollectorDouble, key: str) -> list[tuple[int, Any]]:
    """``(step, value)`` of ``key`` in the order the rows were received."""
    return [(step, row[key]) for _rid, step, _ts, row in double.rows if key in row]


def messages(double: CollectorDouble) -> list[str]:
    return [line["message"] for line in double.lines]


def run_offline_script(tmp_path: Path, body: str) -> dict[str, Any]:
    """Run ``body`` in a fresh interpreter (offline mode, spool under ``tmp_path``); return the
    spooled ``run.json`` of the one run it made. The script never stops its run itself."""
    spool = tmp_path / "spool"
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    env = {**os.environ, "RUNDIAL_SPOOL_DIR": str(spool), "RUNDIAL_MODE": "offline",
           "RUNDIAL_PROJECT": "test-proj", "PYTHONPATH": str(REPO_ROOT / "client")}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    docs = list(spool.glob("run_*/run.json"))
    assert len(docs) == 1, (docs, done.stderr.decode())
    return dict(json.loads(docs[0].read_text()))
