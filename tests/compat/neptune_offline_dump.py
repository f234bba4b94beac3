"""Print, as JSON, what the real ``neptune`` client recorded in offline mode under ``./.neptune``.

Runs inside the cached neptune venv (tests/compat/neptune_real.py). It reads each
offline run's operation log with neptune's own disk queue and ``Operation.from_dict`` (what
``neptune sync`` replays to the server), and applies the operations as the server would:

* ``Assign*`` → a field ``[type, value]``; ``AddStrings``/``RemoveStrings`` → a string set;
* ``LogFloats``/``LogStrings``/``LogImages`` → series points; a value without a step gets one
  past the series' last step (0 first), the server's rule;
* ``UploadFile`` → the uploaded file's name and size; an in-memory file (``from_content``,
  ``as_html``, …, saved under a temporary name) is named as Neptune's download names it:
  ``<last path segment>.<extension>``;
* ``TrackFilesToArtifact`` (``track_files``, hashed by Neptune only when synced) → a field
  ``["str", hash]``: the artifact hash without file metadata, computed here with neptune's own
  ``LocalArtifactDriver`` and ``FileHasher`` over the files still on disk (the shim stores
  that hash as text; docs/neptune-compat.md).

Output: ``{"runs": [record, ...]}`` in creation order; a record is described in
tests/compat/real_examples.py.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from neptune.core.components.queue.disk_queue import DiskQueue
from neptune.internal.artifacts.drivers.local import LocalArtifactDriver
from neptune.internal.artifacts.file_hasher import FileHasher
from neptune.internal.operation import Operation

SCALARS = {"AssignFloat": "float", "AssignInt": "int", "AssignBool": "bool",
           "AssignString": "str", "AssignDatetime": "datetime"}
SERIES = {"LogFloats": "series", "LogStrings": "strings", "LogImages": "images"}


def _step(record: dict[str, Any], kind: str, path: str, step: Any) -> float:
    points = record[kind].setdefault(path, [])
    if step is None:
        step = points[-1][0] + 1 if points else 0
    return int(step) if float(step).is_integer() else float(step)


def _apply(record: dict[str, Any], op: Any, data_dir: Path) -> None:
    name, path = type(op).__name__, "/".join(op.path)
    if name in SCALARS:
        value = op.value
        if name == "AssignDatetime":  # the instant, as Neptune stores it (epoch milliseconds)
            value = datetime.fromtimestamp(value.timestamp(), timezone.utc).isoformat()
        record["fields"][path] = [SCALARS[name], value]
    elif name in ("AddStrings", "RemoveStrings"):
        current = set(record["fields"].get(path, ["string_set", []])[1])
        current = current | set(op.values) if name == "AddStrings" else current - set(op.values)
        record["fields"][path] = ["string_set", sorted(current)]
    elif name in SERIES:
        kind = SERIES[name]
        for item in op.values:
            value = None if kind == "images" else item.value
            record[kind].setdefault(path, []).append(
                [_step(record, kind, path, item.step), value])
    elif name == "UploadFile":
        file = Path(op.file_path) if op.file_path else data_dir / "upload_path" / op.tmp_file_name
        name = file.name if op.file_path else op.path[-1] + file.suffix
        record["files"][path] = [name, file.stat().st_size]
    elif name == "TrackFilesToArtifact":
        files = record.setdefault("tracked", {}).setdefault(path, {})
        for location, destination in op.entries:
            files.update((f.file_path, f) for f in LocalArtifactDriver.get_tracked_files(
                location, destination))
        record["fields"][path] = ["str", FileHasher.get_artifact_hash_without_metadata(
            list(files.values()))]
    else:
        record["other"].setdefault(name, []).append(path)


def read_run(data_dir: Path) -> dict[str, Any]:
    """One offline run's record (``tracked``: the files of each artifact field, dropped)."""
    record: dict[str, Any] = {"fields": {}, "series": {}, "strings": {}, "images": {},
                              "files": {}, "other": {}, "dir": data_dir.name}
    queue: DiskQueue[Operation] = DiskQueue(data_path=data_dir, to_dict=lambda op: op.to_dict(),
                                            from_dict=Operation.from_dict,
                                            lock=threading.RLock())
    while (element := queue.get()) is not None:
        _apply(record, element.obj, data_dir)
    queue.close()
    record.pop("tracked", None)
    return record


def main(root: Path) -> None:
    os.environ["HOME"] = str(root)  # neptune's file-hash cache (~/.neptune/files.db) stays here
    dirs = sorted({log.parent for log in root.glob(".neptune/offline/**/data-*.log")},
                  key=lambda d: d.stat().st_ctime)
    print(json.dumps({"runs": [read_run(d) for d in dirs]}))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
