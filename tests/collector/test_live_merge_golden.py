"""Golden vectors of the UI's live chart merge (charts/merge.js ``mergeTail``), made by the server.

Each case logs a series in two parts through the real collector: the chart reply after part 1
is the vector's ``entry``; part 2 as the live stream delivered it (``cursor=tail`` opened after
that read) is its ``points``; the chart reply after part 2 is its ``expected``. Where the merged
entry keeps its grid past the first read's range, the second read asks for that grid (twice the
buckets over twice the span, see docs/ui.md "Live updates") and its ``lastStep`` (the range it
was asked for) is replaced by the last step logged. The test checks that the server still
produces tests/golden/merge.json exactly, then runs ``mergeTail`` in node on every vector
(tests/js/live.test.mjs checks the same file). ``RUNDIAL_REGEN_GOLDEN=1`` rewrites the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.events.streaming import call, connect, of_type, receive_until, replayed, start_run
from tests.helpers.collector_proc import CollectorProcess

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "merge.json"
MERGE_JS = ROOT / "collector" / "rundial_collector" / "ui" / "static" / "charts" / "merge.js"
KEY = "train/loss"


def _value(step: int) -> float:
    """A wiggly, exactly representable value per step (no bucket is monotonic)."""
    return ((step * 7) % 11) / 4 - 1


# name, buckets, part 1 steps, part 2 steps (commit order), second read: (buckets, span) or None
# for the plain read; ``values2`` overrides part 2 values by step.
CASES: list[dict[str, Any]] = [
    {"name": "raw grows and stays raw", "buckets": 10, "part1": list(range(5)),
     "part2": [5, 6, 7], "read2": None},
    {"name": "raw becomes buckets of the server's cells", "buckets": 8,
     "part1": list(range(6)), "part2": list(range(6, 30)), "read2": None},
    {"name": "raw: a repeated step supersedes", "buckets": 10, "part1": list(range(6)),
     "part2": [3, 6, 3], "values2": {3: 9.5}, "read2": None},
    {"name": "raw: out-of-order steps", "buckets": 10, "part1": [0, 2, 4, 6],
     "part2": [5, 1, 7], "read2": None},
    {"name": "buckets extend with new cells", "buckets": 8, "part1": list(range(40)),
     "part2": list(range(40, 60)), "read2": (16, 80)},
    {"name": "buckets pair up past twice the cells", "buckets": 8, "part1": list(range(40)),
     "part2": list(range(40, 120)), "read2": (16, 160)},
    {"name": "buckets: the last step superseded by a non-extreme value", "buckets": 8,
     "part1": list(range(40)), "part2": [39], "values2": {39: 0.0}, "read2": None},
    {"name": "buckets: steps in empty cells inside the range", "buckets": 8,
     "part1": [*range(10), *range(30, 40)], "part2": [20, 12, 21], "read2": None},
]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _log(session: aiohttp.ClientSession, proc: CollectorProcess, pid: str, rid: str,
               steps: list[int], values: dict[int, float]) -> None:
    points = [{"projectId": pid, "runId": rid, "metricKey": KEY, "step": step,
               "timestampMs": 1_000_000 + 10 * i + step, "value": values.get(step, _value(step))}
              for i, step in enumerate(steps)]
    for point in points:  # one request per point: one stored chunk each, commit order = list
        status, reply = await call(session, proc, "POST", "/ingest/metrics", {"points": [point]})
        assert status == 202, reply


async def _chart(session: aiohttp.ClientSession, proc: CollectorProcess, pid: str, rid: str,
                 buckets: int, span: int | None = None, first: int = 0) -> dict[str, Any]:
    body: dict[str, Any] = {"projectId": pid, "buckets": buckets,
                            "series": [{"runId": rid, "metricKey": KEY}]}
    if span is not None:
        body.update(startStep=first, endStep=first + span - 1)
    status, reply = await call(session, proc, "POST", "/query/chart", body)
    assert status == 200, reply
    entry: dict[str, Any] = reply["series"][0]
    entry["runId"] = "run"
    return entry


def _streamed(messages: list[dict[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"steps": [], "timestampsMs": [], "values": []}
    for message in of_type(messages, "metrics"):
        for series in message["series"]:
            if series["metricKey"] == KEY:
                for field in out:
                    out[field].extend(series[field])
    return out


async def _vector(session: aiohttp.ClientSession, proc: CollectorProcess,
                  case: dict[str, Any]) -> dict[str, Any]:
    pid, rid = await start_run(session, proc)
    await _log(session, proc, pid, rid, case["part1"], {})
    ws = await connect(session, proc, rid, cursor="tail")
    await receive_until(ws, replayed)
    entry = await _chart(session, proc, pid, rid, case["buckets"])
    values2 = {int(k): v for k, v in case.get("values2", {}).items()}
    await _log(session, proc, pid, rid, case["part2"], values2)
    count = len(case["part2"])
    points = _streamed(await receive_until(
        ws, lambda ms: len(_streamed(ms)["steps"]) >= count))
    await ws.close()
    read2 = case["read2"]
    if read2 is None:
        expected = await _chart(session, proc, pid, rid, case["buckets"])
    else:
        expected = await _chart(session, proc, pid, rid, read2[0], read2[1], entry["firstStep"])
        expected["lastStep"] = max(case["part1"] + case["part2"])
    return {"name": case["name"], "buckets": case["buckets"], "entry": entry,
            "points": points, "expected": expected}


def _run_node(vectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``mergeTail(entry, points, buckets)`` of every vector, computed by node."""
    script = (f"import {{ mergeTail }} from {json.dumps(MERGE_JS.as_uri())};"
              "let input = ''; process.stdin.on('data', (d) => { input += d; });"
              "process.stdin.on('end', () => { const vs = JSON.parse(input);"
              "process.stdout.write(JSON.stringify(vs.map((v) => "
              "mergeTail(v.entry, v.points, v.buckets)))); });")
    node = shutil.which("node")
    assert node is not None, "node is needed for the UI's JS tests"
    done = subprocess.run([node, "--input-type=module", "-e", script], check=True,
                          input=json.dumps(vectors), capture_output=True, text=True,
                          timeout=60)
    merged: list[dict[str, Any]] = json.loads(done.stdout)
    return merged


async def test_server_makes_the_golden_vectors(shared_collector: CollectorProcess,
                                               session: aiohttp.ClientSession) -> None:
    """The checked-in vectors are what the server produces today."""
    vectors = [await _vector(session, shared_collector, case) for case in CASES]
    if os.environ.get("RUNDIAL_REGEN_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps({"about": __doc__.split("\n")[0], "vectors": vectors},
                                     indent=1) + "\n")
    assert json.loads(GOLDEN.read_text())["vectors"] == vectors


def test_merge_tail_matches_the_server() -> None:
    """mergeTail(reply after part 1, part 2 as streamed) == the reply after part 2."""
    vectors = json.loads(GOLDEN.read_text())["vectors"]
    for vector, merged in zip(vectors, _run_node(vectors), strict=True):
        merged.pop("grid", None)
        assert merged == vector["expected"], vector["name"]
