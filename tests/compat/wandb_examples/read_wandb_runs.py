"""Read back what the real wandb recorded offline, with wandb's own reader, as one JSON list.

Usage (under the interpreter that has wandb): ``python read_wandb_runs.py WANDB_DIR``. Each
``offline-run-*`` directory's transaction log is decoded by ``wandb leet inspect --json`` (one
JSON record a line) and reduced to, per run in start order::

    {"project", "name", "notes", "config", "summary", "history": {step: {key: number}},
     "media": {step: {key: description}}, "alerts": [line], "exit_code"}

``config``/``summary`` are flat (nested dicts joined by ``.``, as rundial stores them), without
W&B's own ``_``-keys; ``history`` holds the scalar values of each committed row (``_step`` is the
step; ``_runtime``/``_timestamp`` are left out); ``media`` describes each media value: histogram
counts and edges, a table's columns and rows (image cells read ``<image WxH:hash>``
from the run-table artifact W&B stages, else ``<image>``), an image list's count,
captions and pixels (size and a hash of the RGBA pixels), and a video, audio or html value's
(or list's) count, captions and content (:func:`file_content`).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

HIDDEN = ("_runtime", "_timestamp", "_step", "_wandb")
# one file ("video-file") or a list ("videos", entries under "videos") -> rundial's media type
FILE_KINDS = {"video-file": "video", "audio-file": "audio", "html-file": "html",
              "object3D-file": "object3d", "molecule-file": "molecule"}
LIST_KINDS = {"videos": ("video", "videos"), "audio": ("audio", "audio"), "html": ("html", "html"),
              "object3D": ("object3d", "objects")}
# W&B injects its own stylesheet into html; rundial leaves it out (docs/wandb-compat.md)
WANDB_STYLESHEET = ('<link rel="stylesheet" type="text/css" '
                    'href="https://app.wandb.ai/normalize.css" />')
NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def number(value: Any) -> Any:
    """leet prints NaN and infinities as strings; they are floats."""
    return NON_FINITE.get(value, value) if isinstance(value, str) else value


def records(run_dir: Path) -> list[dict[str, Any]]:
    wandb_cli = Path(sys.executable).with_name("wandb")
    out = subprocess.run([str(wandb_cli), "leet", "inspect", "--json", str(run_dir)],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def media_keys(item: dict[str, Any]) -> set[str]:
    """The history keys of media values (an image's ``boxes.<g>``/``masks.<g>`` are its own)."""
    typed = {key[: -len("._type")] for key in item if key.endswith("._type")}
    return {key for key in typed if not any(key.startswith(other + ".") for other in typed)}


def overlay(boxes: dict[str, Any] | None, masks: dict[str, Any] | None,
            files: Path) -> dict[str, Any] | None:
    """One image's boxes (each group's JSON file) and masks (each group's pixels), or None."""
    if not boxes and not masks:
        return None
    return {"boxes": {g: json.loads((files / v["path"]).read_text())
                      for g, v in (boxes or {}).items()},
            "masks": {g: pixels(files / v["path"]) for g, v in (masks or {}).items()}}


def nested(fields: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    """``{"boxes.pred.path": p}`` as ``{"pred": {"path": p}}`` for ``prefix`` ``boxes``."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in fields.items():
        if key.startswith(prefix + "."):
            group, _, field = key[len(prefix) + 1:].rpartition(".")
            out.setdefault(group, {})[field] = value
    return out


def with_overlays(entry: dict[str, Any], found: list[dict[str, Any] | None]) -> dict[str, Any]:
    return {**entry, "overlays": found} if any(found) else entry


def pixels(path: Path) -> str:
    """``WxH:<sha256 of the RGBA pixels>`` of an image file (independent of PNG encoding)."""
    import hashlib

    from PIL import Image

    with Image.open(path) as image:
        rgba = image.convert("RGBA")
        return f"{rgba.width}x{rgba.height}:{hashlib.sha256(rgba.tobytes()).hexdigest()[:16]}"


def staged_table(fields: dict[str, Any], staged: dict[str, dict[str, str]]) -> Any:
    """The table as W&B's run-table artifact holds it (image cells as ``<image WxH:hash>``), or
    None when that artifact's staged files are not on disk."""
    client_id, _, inner = fields.get("artifact_path", "").removeprefix(
        "wandb-client-artifact://").partition("/")
    files = staged.get(client_id)
    if not files or inner not in files:
        return None
    table = json.loads(Path(files[inner]).read_text())

    def cell(value: Any) -> Any:
        if isinstance(value, dict) and value.get("_type") == "image-file":
            return f"<image {pixels(Path(files[value['path']]))}>"
        return value

    return {"type": "table", "columns": table["columns"],
            "rows": [[cell(v) for v in row] for row in table["data"]]}


def file_content(media_type: str, data: bytes) -> str:
    """What a video, audio or html file holds: an html page's text (without W&B's
    stylesheet), a WAV file's rate, channels and a hash of its samples (not of its header
    layout), else a hash of the bytes. Also used for the shim's files (records.py)."""
    if media_type == "html":
        return data.decode("utf-8").replace(WANDB_STYLESHEET, "")
    if media_type == "audio":
        with wave.open(io.BytesIO(data)) as w:
            frames = w.readframes(w.getnframes())
            return (f"{w.getframerate()}x{w.getnchannels()}x{w.getsampwidth()}:"
                    f"{hashlib.sha256(frames).hexdigest()[:16]}")
    return hashlib.sha256(data).hexdigest()[:16]


def file_media(media_type: str, entries: list[dict[str, Any]], files: Path,
               captions: Any = None) -> dict[str, Any]:
    found = captions if captions else [entry.get("caption") for entry in entries]
    return {"type": media_type, "count": len(entries),
            "captions": found if any(found) else None,
            "content": [file_content(media_type, (files / e["path"]).read_bytes())
                        for e in entries]}


def describe(kind: str, fields: dict[str, Any], files: Path,
             staged: dict[str, dict[str, str]]) -> dict[str, Any]:
    if kind == "histogram":
        return {"type": "histogram", "counts": fields["values"], "edges": fields["bins"]}
    if kind == "table-file":
        found = staged_table(fields, staged)
        if found is not None:
            return dict(found)
        table = json.loads((files / fields["path"]).read_text())
        rows = [["<image>" if cell == "Image" else cell for cell in row] for row in table["data"]]
        return {"type": "table", "columns": table["columns"], "rows": rows}
    if kind == "images/separated":
        count = fields["count"]
        found = [overlay(b, m, files) for b, m in zip(fields.get("all_boxes") or [None] * count,
                                                      fields.get("all_masks") or [None] * count)]
        return with_overlays({
            "type": "images", "count": count, "captions": fields.get("captions"),
            "pixels": [pixels(files / name) for name in fields["filenames"]]}, found)
    if kind == "image-file":
        return with_overlays({
            "type": "images", "count": 1, "captions": [fields["caption"]]
            if "caption" in fields else None, "pixels": [pixels(files / fields["path"])]},
            [overlay(nested(fields, "boxes"), nested(fields, "masks"), files)])
    if kind in FILE_KINDS:
        return file_media(FILE_KINDS[kind], [fields], files)
    if kind in LIST_KINDS:
        media_type, entries = LIST_KINDS[kind]
        return file_media(media_type, fields[entries], files, fields.get("captions"))
    return {"type": kind}


def split_row(item: dict[str, Any], files: Path,
              staged: dict[str, dict[str, str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(scalars, media descriptions) of one history item as leet prints it (dotted keys)."""
    found = media_keys(item)
    media: dict[str, Any] = {}
    for key in found:
        fields = {k[len(key) + 1:]: v for k, v in item.items() if k.startswith(key + ".")}
        media[key] = describe(fields["_type"], fields, files, staged)
    scalars = {k: number(v) for k, v in item.items()
               if not k.startswith(HIDDEN) and not any(k.startswith(m + ".") for m in found)}
    return scalars, media


def reduce_run(run_dir: Path) -> dict[str, Any]:
    files = run_dir / "files"
    out: dict[str, Any] = {"config": {}, "summary": {}, "history": {}, "media": {},
                           "alerts": [], "exit_code": None}
    staged: dict[str, dict[str, str]] = {}  # artifact client id -> {path: staged local file}
    for rec in records(run_dir):
        kind = rec["type"]
        if kind == "artifact":
            art = rec["artifact"]
            staged[art["client_id"]] = {c["path"]: c.get("local_path", "")
                                        for c in art["manifest"]["contents"]}
        if kind == "run":
            run = rec["run"]
            out.update(project=run.get("project"), name=run.get("display_name"),
                       notes=run.get("notes"), start=run.get("start_time"))
            out["config"].update(run.get("config", {}).get("update", {}))
        elif kind == "config":
            out["config"].update(rec["config"].get("update", {}))
        elif kind == "summary":
            out["summary"].update(rec["summary"].get("update", {}))
            for key in rec["summary"].get("remove", []):
                out["summary"].pop(key, None)
        elif kind == "history":
            item = rec["history"]["item"]
            scalars, media = split_row(item, files, staged)
            out["history"][item["_step"]] = scalars
            if media:
                out["media"][item["_step"]] = media
        elif kind == "exit":
            out["exit_code"] = rec["exit"].get("exit_code", 0)
        elif kind == "alert":
            alert = rec["alert"]
            out["alerts"].append(f"[ALERT {alert.get('level', 'INFO')}] {alert.get('title')}: "
                                 f"{alert.get('text')}")
    out["config"] = {k: v for k, v in out["config"].items() if not k.startswith(HIDDEN)}
    summary = out["summary"]
    summary_media = media_keys(summary)
    out["summary"] = {k: number(v) for k, v in summary.items() if not k.startswith(HIDDEN)
                      and not any(k == m or k.startswith(m + ".") for m in summary_media)}
    return out


def main() -> None:
    runs = [reduce_run(d) for d in sorted(Path(sys.argv[1]).glob("offline-run-*"))]
    runs.sort(key=lambda r: r.get("start") or "")
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
