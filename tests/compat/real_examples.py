"""Differential harness: public Neptune/goodseed example scripts run twice, compared.

(a) The script as published runs under the real library in its cached venv (offline/local);
the library's own storage is read back by a dump script run in that venv
(``neptune_offline_dump.py``, ``goodseed_local_dump.py``). (b) The same text with only its
imports swapped to ``rundial.compat.*`` runs under our interpreter against a real collector,
and the runs are read back over HTTP. Both sides become **records** of one shape::

    {"fields":  {path: [type, value]},        # type: bool int float str datetime (UTC ISO)
                                              #       string_set null
     "series":  {path: [[step, number], ...]},  # numeric series, steps as recorded
     "strings": {path: [[step, text], ...]},    # string series
     "images":  {path: [[step, None], ...]},    # image series (steps only)
     "files":   {path: [file name, size in bytes]}}

:func:`differences` lists every mismatch between two records as text, so a test shows all of
them at once. Scripts run through ``seeded_runner.py`` (random, numpy, torch seeded; torch on one
thread) so both sides compute the same numbers.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rundial.compat._typed import restore_types
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "seeded_runner.py"
SCRIPT_TIMEOUT_SECONDS = 600
REL_TOLERANCE = 1e-5  # torch in two venvs: same wheel, same thread count; float text round-trip
_LINE = re.compile(r"^\[(?P<path>[^\]]*?) step=(?P<step>-?\d+)\] (?P<text>.*)$", re.DOTALL)
_V1 = "/api/v1"

Record = dict[str, Any]


def swap_imports(text: str, swaps: list[tuple[str, str]]) -> str:
    """``text`` with each import line ``old`` replaced by ``new`` (whole lines only);
    ``AssertionError`` when an ``old`` line is missing (the script changed under us)."""
    lines = text.splitlines(keepends=True)
    for old, new in swaps:
        hits = [i for i, line in enumerate(lines) if line.rstrip("\n") == old]
        assert hits, f"import line {old!r} not found"
        for i in hits:
            lines[i] = new + "\n"
    return "".join(lines)


def run_script(python: Path, script: str, cwd: Path, env: dict[str, str]) -> str:
    """Write ``script`` to ``cwd/train.py`` and run it seeded under ``python`` with a clean
    environment plus ``env``; asserts exit 0 and returns its output."""
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "train.py").write_text(script)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("RUNDIAL_", "NEPTUNE_", "GOODSEED_", "PYTHON"))}
    base["HOME"] = str(cwd)
    done = subprocess.run([str(python), str(RUNNER), "train.py"], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_SECONDS)
    output = f"stdout={done.stdout[-3000:]}\nstderr={done.stderr[-5000:]}"
    assert done.returncode == 0, output
    return output


def dump(python: Path, dumper: str, cwd: Path, *args: str) -> list[Record]:
    """The records the real library stored under ``cwd``, read by ``dumper`` in its venv."""
    done = subprocess.run([str(python), str(HERE / dumper), str(cwd), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_SECONDS)
    assert done.returncode == 0, done.stderr[-4000:]
    return list(json.loads(done.stdout)["runs"])


def shim_env(proc: CollectorProcess, cwd: Path) -> dict[str, str]:
    """Where our shim sends: ``proc`` by environment only."""
    return {"RUNDIAL_ENDPOINT": proc.url, "RUNDIAL_API_KEY": proc.api_key,
            "RUNDIAL_SPOOL_DIR": str(cwd / "spool")}


def project_view(proc: CollectorProcess, workspace: str, project: str) -> CollectorProcess:
    """``proc`` seen through ``workspace/project``, both created when missing (as the user of a
    script naming that project would create it)."""
    request("POST", proc.url + _V1 + "/workspaces", {"slug": workspace}, api_key=proc.api_key)
    status, _, body = request("POST", f"{proc.url}{_V1}/workspaces/{workspace}/projects",
                              {"slug": project}, api_key=proc.api_key)
    assert status in (201, 409), body
    view = copy.copy(proc)
    view.workspace, view.project = workspace, project
    return view


# -- reading our runs back over HTTP -------------------------------------------------------
def _get(proc: CollectorProcess, path: str) -> Any:
    base = f"{proc.url}{_V1}/workspaces/{proc.workspace}/projects/{proc.project}"
    status, _, body = request("GET", base + path, api_key=proc.api_key)
    assert status == 200, body
    return body


def run_ids(proc: CollectorProcess) -> list[str]:
    """Every run of ``proc``'s project, oldest first."""
    body = _get(proc, "/runs/query?order=asc&orderBy=startedAtMs&limit=500")
    return [run["runId"] for run in body["runs"]]


def _points(proc: CollectorProcess, run_id: str) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    cursor = None
    while True:
        body: dict[str, Any] = {"projectId": proc.project, "runId": run_id, "mode": "full",
                                "maxPointsPerSeries": 100_000}
        if cursor:
            body["cursor"] = cursor
        status, _, reply = request("POST", proc.url + _V1 + "/query/series", body,
                                   api_key=proc.api_key)
        assert status == 200, reply
        for series in reply["series"]:
            if not series["metricKey"].startswith("system/"):
                out.setdefault(series["metricKey"], []).extend(
                    [p["step"], p["value"]] for p in series["points"])
        page = reply.get("page") or {}
        cursor = page.get("nextCursor") if page.get("hasMore") else None
        if not cursor:
            return out


def _strings(proc: CollectorProcess, run_id: str) -> dict[str, list[list[Any]]]:
    body = {"projectId": proc.project, "runId": run_id, "limit": 10_000, "order": "asc"}
    status, _, reply = request("POST", proc.url + _V1 + "/query/logs", body, api_key=proc.api_key)
    assert status == 200, reply
    out: dict[str, list[list[Any]]] = {}
    for row in reply["rows"]:
        match = _LINE.match(row["message"])
        if match:
            out.setdefault(match["path"], []).append([int(match["step"]), match["text"]])
    return out


def _images(proc: CollectorProcess, run_id: str) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for key in _get(proc, f"/runs/{run_id}/media/keys")["keys"]:
        steps = _get(proc, f"/runs/{run_id}/media/steps?mediaKey={key['mediaKey']}")["steps"]
        out[key["mediaKey"]] = [[step, None] for step in steps]
    return out


def _files(proc: CollectorProcess, run_id: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for artifact in _get(proc, f"/runs/{run_id}/artifacts")["produced"]:
        [file] = _get(proc, f"/artifacts/{artifact['artifactId']}/files")["files"]
        out[artifact["metadata"]["field"]] = [Path(file["path"]).name, file["sizeBytes"]]
    return out


def typed(value: Any) -> list[Any]:
    """``[type, value]`` of a Python config value (JSON-ready)."""
    if value is None:
        return ["null", None]
    if isinstance(value, (set, frozenset)):
        return ["string_set", sorted(value)]
    if isinstance(value, datetime):  # the instant in UTC (a naive datetime is local time)
        return ["datetime", value.astimezone(timezone.utc).isoformat()]
    return [type(value).__name__, value]


def shim_record(proc: CollectorProcess, run_id: str) -> Record:
    """One of our runs as a record, plus ``runName``, ``tags`` and ``status``."""
    status, _, run = request("GET", f"{proc.url}{_V1}/workspaces/{proc.workspace}/projects/"
                             f"{proc.project}/runs/{run_id}", api_key=proc.api_key)
    assert status == 200, run
    config = restore_types(run["config"])
    return {"fields": {k: typed(v) for k, v in config.items()},
            "series": _points(proc, run_id), "strings": _strings(proc, run_id),
            "images": _images(proc, run_id), "files": _files(proc, run_id),
            "runName": run["runName"], "tags": sorted(run["tags"]), "status": run["status"]}


# -- comparing -----------------------------------------------------------------------------
def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                and math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-12))
    return bool(a == b)


def differences(real: Record, ours: Record, keep: Callable[[str], bool]) -> list[str]:
    """Every mismatch between ``real`` and ``ours`` over the paths ``keep`` accepts."""
    out: list[str] = []
    for section in ("fields", "series", "strings", "images", "files"):
        theirs = {k: v for k, v in real[section].items() if keep(k)}
        mine = {k: v for k, v in ours[section].items() if keep(k)}
        for path in sorted(theirs.keys() - mine.keys()):
            out.append(f"{section} {path}: only the real library has it ({theirs[path]!r:.120})")
        for path in sorted(mine.keys() - theirs.keys()):
            out.append(f"{section} {path}: only the shim has it ({mine[path]!r:.120})")
        for path in sorted(theirs.keys() & mine.keys()):
            out.extend(f"{section} {path}: {d}" for d in _diff_value(section, theirs[path],
                                                                      mine[path]))
    return out


def _diff_value(section: str, theirs: Any, mine: Any) -> list[str]:
    if section == "fields":
        kind_ok = theirs[0] == mine[0]
        value_ok = (sorted(theirs[1]) == sorted(mine[1]) if theirs[0] == "string_set"
                    else _same(theirs[1], mine[1]))
        return [] if kind_ok and value_ok else [f"real {theirs!r:.100} != shim {mine!r:.100}"]
    if section == "files":
        return [] if theirs == mine else [f"real {theirs!r} != shim {mine!r}"]
    steps_real, steps_mine = [p[0] for p in theirs], [p[0] for p in mine]
    if steps_real != steps_mine:
        return [f"steps real {steps_real[:8]}..({len(steps_real)}) != shim "
                f"{steps_mine[:8]}..({len(steps_mine)})"]
    bad = [(s, a[1], b[1]) for s, a, b in zip(steps_real, theirs, mine) if not _same(a[1], b[1])]
    return [f"{len(bad)} values differ, first at step {bad[0][0]}: real {bad[0][1]!r:.60} "
            f"!= shim {bad[0][2]!r:.60}"] if bad else []


if __name__ == "__main__":  # pragma: no cover - a debugging aid: diff two JSON records
    first, second = (json.loads(Path(p).read_text()) for p in sys.argv[1:3])
    print("\n".join(differences(first, second, lambda _: True)))
