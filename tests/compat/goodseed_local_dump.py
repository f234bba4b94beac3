"""Print, as JSON, what the real ``goodseed`` stored locally under ``<root>/home``.

Runs inside the cached goodseed venv (tests/compat/test_goodseed_real_examples.py). Each run is
one SQLite file ``projects/<project>/runs/<run id>.sqlite``; it is read with goodseed's own
``LocalStorage`` and ``deserialize_value`` (configs keep goodseed's type tags).

Output: ``{"runs": [record, ...]}`` ordered by the runs' ``created_at``; a record is described
in tests/compat/real_examples.py, plus ``runId``, ``project`` and ``status`` from the run's meta.
"""

from __future__ import annotations

import json
import sys
from datetime import timezone
from pathlib import Path
from typing import Any

from goodseed.storage import LocalStorage
from goodseed.utils import deserialize_value

TYPES = {"bool": "bool", "int": "int", "float": "float", "str": "str", "datetime": "datetime",
         "string_set": "string_set", "null": "null"}


def _field(tag: str, raw: str) -> list[Any]:
    value = deserialize_value(tag, raw)
    if tag == "datetime":  # the instant in UTC (a naive datetime is local time)
        return ["datetime", value.astimezone(timezone.utc).isoformat()]
    if tag == "string_set":
        return ["string_set", sorted(value)]
    return [TYPES.get(tag, tag), value]


def _steps(points: list[dict[str, Any]], key: str) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for point in points:
        step = point["step"]
        step = int(step) if float(step).is_integer() else step
        out.setdefault(point["path"], []).append([step, point[key]])
    return out


def read_run(db_path: Path) -> dict[str, Any]:
    storage = LocalStorage(db_path)
    try:
        return {"fields": {p: _field(*tv) for p, tv in storage.get_configs().items()},
                "series": _steps(storage.get_metric_points(), "y"),
                "strings": _steps(storage.get_string_points(), "value"),
                "images": {}, "files": {},
                "runId": storage.get_meta("run_id"), "project": storage.get_meta("project"),
                "status": storage.get_meta("status"), "created": storage.get_meta("created_at")}
    finally:
        storage.close()


def main(root: Path) -> None:
    runs = [read_run(p) for p in sorted((root / "home" / "projects").glob("**/runs/*.sqlite"))]
    print(json.dumps({"runs": sorted(runs, key=lambda r: r["created"] or "")}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
