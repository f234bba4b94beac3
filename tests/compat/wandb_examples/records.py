"""What the shim's runs recorded in a real collector, read back over HTTP in the shape
``read_wandb_runs.py`` gives the real wandb's offline runs, and the comparison of the two.

Shape of one run: ``{"project", "name", "config", "summary", "history": {step: {key: number}},
"media": {step: {key: description}}}`` (see read_wandb_runs.py). rundial's side: the run's
``summary.<key>`` config entries are the summary, its metric points (``system/`` keys left out:
W&B's system metrics are not history either) plus its ``[<key> step=<n>] <text>`` log lines
(strings logged with ``wandb.log``) the history, its media items the media.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from typing import Any

from tests.compat.wandb_examples.read_wandb_runs import file_content
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.http import request

V1 = "/api/v1"
STRING_LINE = re.compile(r"\[(.+) step=(\d+)\] (.*)\Z", re.S)  # a string history value


def _get(c: CollectorProcess, path: str) -> Any:
    status, _, body = request("GET", c.url + path, api_key=c.api_key)
    assert status == 200, (path, body)
    return body


def _post(c: CollectorProcess, path: str, body: dict[str, Any]) -> Any:
    status, _, payload = request("POST", c.url + path, body, api_key=c.api_key)
    assert status in (200, 201), (path, payload)
    return payload


def create_project(c: CollectorProcess, slug: str) -> str:
    """The id of a new project ``slug`` in the collector's workspace."""
    return str(_post(c, f"{V1}/workspaces/{c.workspace}/projects",
                     {"slug": slug, "name": slug})["projectId"])


def shim_runs(c: CollectorProcess, projects: dict[str, str]) -> list[dict[str, Any]]:
    """Every run of ``projects`` (slug -> id), oldest first, in read_wandb_runs.py's shape."""
    found: list[tuple[int, dict[str, Any]]] = []
    for slug, project_id in projects.items():
        table = _get(c, f"{V1}/workspaces/{c.workspace}/projects/{slug}/runs-table")
        cols = table["columns"]
        for i, run_id in enumerate(cols["runId"]):
            run = _read_run(c, slug, project_id, run_id, table["config"][i])
            run.update(project=slug, name=cols["runName"][i], status=cols["status"][i],
                       notes=_notes(c, project_id, run_id))
            found.append((cols["startedAtMs"][i], run))
    return [run for _, run in sorted(found, key=lambda pair: pair[0])]


def _read_run(c: CollectorProcess, slug: str, project_id: str, run_id: str,
              stored: dict[str, Any]) -> dict[str, Any]:
    config = {k: v for k, v in stored.items() if not k.startswith("summary.")}
    summary = {k[len("summary."):]: v for k, v in stored.items() if k.startswith("summary.")}
    history = _history(c, project_id, run_id)
    for step, key, text in string_values(c, project_id, run_id):
        history.setdefault(step, {})[key] = text
    return {"config": config, "summary": summary, "history": history,
            "media": _media(c, slug, project_id, run_id),
            "alerts": alerts(c, project_id, run_id)}


def _notes(c: CollectorProcess, project_id: str, run_id: str) -> Any:
    runs = _post(c, f"{V1}/query/runs", {"projectId": project_id, "runIds": [run_id]})["runs"]
    return (runs[0].get("notes") or None) if runs else None  # the collector shows none as ""


def _history(c: CollectorProcess, project_id: str, run_id: str) -> dict[int, dict[str, Any]]:
    keys = _post(c, f"{V1}/query/keys", {"projectId": project_id, "runIds": [run_id]})
    wanted = [k for k in keys["runs"][0]["keys"] if not k.startswith("system/")] if keys[
        "runs"] else []
    rows: dict[int, dict[str, Any]] = {}
    cursor = None
    while wanted:
        body: dict[str, Any] = {"projectId": project_id, "runId": run_id, "metricKeys": wanted,
                                "maxPointsPerSeries": 100_000, "mode": "full"}
        if cursor:
            body["cursor"] = cursor
        page = _post(c, f"{V1}/query/series", body)
        for series in page["series"]:
            for point in series["points"]:
                rows.setdefault(point["step"], {})[series["metricKey"]] = point["value"]
        cursor = (page.get("page") or {}).get("nextCursor")
        if not cursor:
            break
    return rows


def _media(c: CollectorProcess, slug: str, project_id: str, run_id: str) -> dict[int, dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = _get(c, f"{V1}/media?projectId={project_id}&runId={run_id}&limit=1000{cursor}")
        items += page["items"]
        if not page.get("nextCursor"):
            break
        cursor = f"&cursor={page['nextCursor']}"
    out: dict[int, dict[str, Any]] = {}
    cells = {(item["step"], f"media:{item['mediaKey']}#{item['metadata']['row']}"): item
             for item in items if "table" in (item.get("metadata") or {})}
    masks: dict[tuple[int, str, int], dict[str, str]] = {}
    for item in items:
        meta = item.get("metadata") or {}
        if "table" in meta:  # an image cell of a table: read with that table
            continue
        if meta.get("rundial.kind") == "wandb_mask":  # read with its image
            masks.setdefault((item["step"], meta["image"], meta["index"]), {})[meta["group"]] = \
                _pixels(_download_bytes(c, slug, item))
            continue
        row = out.setdefault(item["step"], {})
        key = item["mediaKey"]
        if item["mediaType"] == "image":
            entry = row.setdefault(key, {"type": "images", "count": 0, "captions": [],
                                         "pixels": []})
            entry["count"] += 1
            entry["captions"].append(item.get("caption"))
            entry["pixels"].append(_pixels(_download_bytes(c, slug, item)))
            entry.setdefault("overlays", []).append(
                (meta.get("boxes"), (item["step"], key, entry["count"] - 1)))
        elif item["mediaType"] in ("video", "audio", "html", "object3d", "molecule"):
            entry = row.setdefault(key, {"type": item["mediaType"], "count": 0, "captions": [],
                                         "content": []})
            entry["count"] += 1
            entry["captions"].append(item.get("caption"))
            entry["content"].append(file_content(item["mediaType"],
                                                 _download_bytes(c, slug, item)))
        elif meta.get("rundial.kind") == "histogram":
            table = _download(c, slug, item)
            edges = [r[0] for r in table["rows"]] + [table["rows"][-1][1]]
            row[key] = {"type": "histogram", "counts": [r[2] for r in table["rows"]],
                        "edges": edges}
        else:
            table = _download(c, slug, item)
            rows = [[_cell(c, slug, cells, item["step"], v) for v in r] for r in table["rows"]]
            row[key] = {"type": "table", "columns": table["columns"], "rows": rows}
    for row in out.values():
        for entry in row.values():
            if "captions" in entry and not any(entry["captions"]):
                entry["captions"] = None
            if "overlays" in entry:
                _attach_overlays(entry, masks)
    return out


def _cell(c: CollectorProcess, slug: str, cells: dict[tuple[int, str], dict[str, Any]],
          step: int, value: Any) -> Any:
    """A table cell; an image cell (``media:<key>/<column>#<row>``) as ``<image WxH:hash>``."""
    if not (isinstance(value, str) and value.startswith("media:")):
        return value
    item = cells.get((step, value))
    return f"<image {_pixels(_download_bytes(c, slug, item))}>" if item else f"<missing {value}>"


def _download(c: CollectorProcess, slug: str, item: dict[str, Any]) -> Any:
    return _get(c, f"{V1}/workspaces/{c.workspace}/projects/{slug}/artifacts/"
                   f"{item['artifactId']}/file?path={item['artifactPath']}")


def _attach_overlays(entry: dict[str, Any],
                     masks: dict[tuple[int, str, int], dict[str, str]]) -> None:
    """Each image's boxes (from its metadata) and masks (their items' pixels), as
    read_wandb_runs.py's ``overlays``; left out when no image has either."""
    found = [None if not boxes and where not in masks else
             {"boxes": boxes or {}, "masks": masks.get(where, {})}
             for boxes, where in entry.pop("overlays")]
    if any(found):
        entry["overlays"] = found


def _download_bytes(c: CollectorProcess, slug: str, item: dict[str, Any]) -> bytes:
    """The file's bytes as stored (a JSON file too, which ``request`` would parse)."""
    import urllib.request

    url = (f"{c.url}{V1}/workspaces/{c.workspace}/projects/{slug}/artifacts/"
           f"{item['artifactId']}/file?path={item['artifactPath']}")
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {c.api_key}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        body: bytes = resp.read()
    return body


def _pixels(png: bytes) -> str:
    """``WxH:<sha256 of the RGBA pixels>``, as read_wandb_runs.py describes an image."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgba = image.convert("RGBA")
        return f"{rgba.width}x{rgba.height}:{hashlib.sha256(rgba.tobytes()).hexdigest()[:16]}"


def _log_messages(c: CollectorProcess, project_id: str, run_id: str) -> list[str]:
    body = {"projectId": project_id, "runId": run_id, "limit": 10_000, "order": "asc"}
    return [row["message"] for row in _post(c, f"{V1}/query/logs", body)["rows"]]


def alerts(c: CollectorProcess, project_id: str, run_id: str) -> list[str]:
    """The run's ``[ALERT ...]`` log lines (what ``wandb.alert`` becomes), oldest first."""
    return [m for m in _log_messages(c, project_id, run_id) if m.startswith("[ALERT ")]


def string_values(c: CollectorProcess, project_id: str, run_id: str) -> list[tuple[int, str, str]]:
    """``(step, key, text)`` of the run's string history values (their log lines)."""
    found = (STRING_LINE.match(m) for m in _log_messages(c, project_id, run_id))
    return [(int(m.group(2)), m.group(1), m.group(3)) for m in found if m]


# -- comparison ---------------------------------------------------------------------------------
def flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested dict's leaves under ``.``-joined keys."""
    if not isinstance(value, dict):
        return {prefix[:-1]: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(flat(item, f"{prefix}{key}."))
    return out


def same_value(a: Any, b: Any, rel: float = 0.0) -> bool:
    """Equal, with NaN equal to NaN and floats within ``rel`` (0: exact)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or (rel > 0 and math.isclose(a, b, rel_tol=rel))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], rel) for k in a)
    return bool(a == b)


def differences(real: dict[str, Any], shim: dict[str, Any], edge_rel: float) -> list[str]:
    """Every way ``shim`` differs from ``real`` (one run each), as readable lines."""
    out: list[str] = []
    if real.get("notes") != shim.get("notes"):
        out.append(f"notes: real {real.get('notes')!r} shim {shim.get('notes')!r}")
    _diff_map(out, "config", flat(real["config"]), shim["config"])
    _diff_map(out, "summary", flat(real["summary"]), shim["summary"])
    real_hist = {int(s): row for s, row in real["history"].items() if row}
    _diff_rows(out, "history", real_hist, shim["history"], 0.0)
    real_media = {int(s): row for s, row in real["media"].items()}
    _diff_rows(out, "media", real_media, shim["media"], edge_rel)
    if real["alerts"] != shim["alerts"]:
        out.append(f"alerts: real {real['alerts']} shim {shim['alerts']}")
    return out


def _diff_rows(out: list[str], what: str, real: dict[int, dict[str, Any]],
               shim: dict[int, dict[str, Any]], rel: float) -> None:
    if sorted(real) != sorted(shim):
        out.append(f"{what} steps: real {sorted(real)[:20]} shim {sorted(shim)[:20]}")
    for step in sorted(set(real) & set(shim)):
        _diff_map(out, f"{what}[{step}]", real[step], shim[step], rel)


def _diff_map(out: list[str], what: str, real: dict[str, Any], shim: dict[str, Any],
              rel: float = 0.0) -> None:
    if real.keys() != shim.keys():
        out.append(f"{what} keys: only real {sorted(real.keys() - shim.keys())}, "
                   f"only shim {sorted(shim.keys() - real.keys())}")
    for key in sorted(real.keys() & shim.keys()):
        if not same_value(real[key], shim[key], rel):
            out.append(f"{what}[{key!r}]: real {repr(real[key])[:300]} shim {repr(shim[key])[:300]}")
