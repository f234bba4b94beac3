"""W&B objects inside artifacts: ``artifact.add(obj, name)`` and ``artifact.get(name)``.

The files follow W&B's layout (checked against wandb 0.31's ``Artifact.add``):

* a ``wandb.Table`` is ``<name>.table.json``: ``{"_type": "table", "columns": [...],
  "data": [[...]], "log_mode": ..., "ncols": n, "nrows": m}``; cells are numbers, strings,
  booleans and None (other values as their text, as a logged table's cells);
* an image (alone, or in a table cell) is its PNG (or the file it was made from) at
  ``media/images/<first 20 hex of its sha256><suffix>``, described by
  ``{"_type": "image-file", "path", "sha256", "width", "height", "format"}`` (plus
  ``caption``); an image alone is that description in ``<name>.image-file.json``. W&B writes
  the same keys (and a ``column_types`` schema, which is left out).

``get(name)`` reads them back: a ``wandb.Table`` (image cells as ``wandb.Image`` of the
downloaded files) or a ``wandb.Image``; None when the artifact has no object of that name, as
in W&B. Other objects raise ``NotImplementedError``; a path leaving the artifact ``ValueError``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rundial._artifacts.handle import safe_destination
from rundial.compat.wandb._errors import DOCS, Unsupported
from rundial.compat.wandb._history import _cell
from rundial.compat.wandb._media import Image, Table

TABLE_SUFFIX = ".table.json"
IMAGE_SUFFIX = ".image-file.json"
IMAGE_DIR = "media/images"
IMAGE_TYPE = "image-file"


def object_files(obj: Any, name: str) -> list[tuple[str, bytes]]:
    """``(path inside the artifact, content)`` of ``obj`` added under ``name``."""
    files: list[tuple[str, bytes]] = []
    if isinstance(obj, Table):
        rows = [[_written_cell(value, files) for value in row] for row in obj.data]
        doc: dict[str, Any] = {"_type": "table", "columns": list(obj.columns), "data": rows,
                               "log_mode": obj.log_mode, "ncols": len(obj.columns),
                               "nrows": len(rows)}
        files.append((name + TABLE_SUFFIX, _json(doc)))
    elif isinstance(obj, Image):
        files.append((name + IMAGE_SUFFIX, _json(_written_image(obj, files))))
    else:
        raise Unsupported(f"artifact.add() of {type(obj).__name__} is not supported: rundial "
                          f"stores wandb.Table and wandb.Image objects in artifacts (see {DOCS})")
    return files


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _written_cell(value: Any, files: list[tuple[str, bytes]]) -> Any:
    return _written_image(value, files) if isinstance(value, Image) else _cell(value)


def _written_image(image: Image, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    rendered = image.render()
    data = rendered.data if rendered.data is not None else Path(str(rendered.source)).read_bytes()
    suffix = Path(rendered.filename).suffix.lower() or ".png"
    sha256 = hashlib.sha256(data).hexdigest()
    path = f"{IMAGE_DIR}/{sha256[:20]}{suffix}"
    files.append((path, data))
    entry: dict[str, Any] = {"_type": IMAGE_TYPE, "path": path, "sha256": sha256,
                             "width": rendered.width, "height": rendered.height,
                             "format": suffix.lstrip(".")}
    if image.caption is not None:
        entry["caption"] = image.caption
    return entry


def read_object(root: Path, name: str) -> Table | Image | None:
    """The table or image stored as ``name`` under ``root`` (None when there is none)."""
    table = root / (name + TABLE_SUFFIX)
    if table.is_file():
        doc = json.loads(table.read_text())
        out = Table(columns=doc["columns"])
        for row in doc["data"]:
            out.add_data(*[_read_cell(root, value) for value in row])
        return out
    image = root / (name + IMAGE_SUFFIX)
    if image.is_file():
        cell = _read_cell(root, json.loads(image.read_text()))
        return cell if isinstance(cell, Image) else None
    return None


def _read_cell(root: Path, value: Any) -> Any:
    if isinstance(value, dict) and value.get("_type") == IMAGE_TYPE:
        return Image(str(safe_destination(root.resolve(), str(value["path"]))),
                     caption=value.get("caption"))
    return value
