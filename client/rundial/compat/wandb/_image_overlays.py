"""``wandb.Image(boxes=..., masks=..., classes=...)`` and ``wandb.Classes``: validated as
wandb 0.31 validates them, then kept with the image (``docs/wandb-compat.md``, "Media"):

* boxes go into the image item's metadata, ``{"boxes": {group: {"box_data": [...],
  "class_labels": {"<id>": name}}}}`` (what W&B writes to the group's ``.boxes2D.json``:
  ``class_labels`` only when given; torch and numpy numbers made plain JSON);
* each mask becomes its own grey image item (one pixel per class id, 0-255, stored exactly)
  logged under ``<image key>/masks/<group>`` at the image's step, with metadata
  ``{"rundial.kind": "wandb_mask", "image": <image key>, "index": i, "group", "class_labels"}``;
  the image's metadata names it in ``{"masks": {group: {"key", "class_labels"}}}``;
* the classes of the boxes, the masks and ``classes`` merged (W&B's order: boxes, masks, then
  ``classes``) are ``{"classes": [{"id", "name"}]}`` in the image's metadata.

Bad input raises the ``TypeError``/``ValueError`` W&B raises. numpy is imported only for a
mask given as an array.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from rundial._media import Image as _RdImage
from rundial._values import plain_json

MASK_KIND = "wandb_mask"
_POSITION_ERROR = ("Each box must contain a position with: middle, width, and height or "
                   "minX, maxX, minY, maxY.")


class Classes:
    """``wandb.Classes(class_set)``: a list of ``{"id": int, "name": str}`` dicts."""

    def __init__(self, class_set: Sequence[Mapping[str, Any]]) -> None:
        for entry in class_set:
            if not isinstance(entry, Mapping) or "id" not in entry or "name" not in entry:
                raise TypeError('wandb.Classes needs dicts with "id" and "name"')
        self._class_set = [dict(entry) for entry in class_set]


def _has_number(position: Mapping[str, Any], name: str) -> bool:
    return name in position and isinstance(position[name], numbers.Number)


def _class_labels(val: Mapping[str, Any], ids: Any) -> dict[Any, str]:
    """The given ``class_labels`` (numbers to str, else ``TypeError``), or ``class_<id>``."""
    if "class_labels" not in val:
        return {i: f"class_{i}" for i in sorted(set(ids))}
    labels = val["class_labels"]
    for k, v in labels.items():
        if not isinstance(k, numbers.Number) or not isinstance(v, str):
            raise TypeError("Class labels must be a dictionary of numbers to string")
    return dict(labels)


def _checked_box(box: Mapping[str, Any]) -> dict[str, Any]:
    position = box.get("position")
    if not isinstance(position, Mapping):
        raise TypeError(_POSITION_ERROR)
    position = dict(position)
    if hasattr(position.get("middle"), "tolist"):
        position["middle"] = position["middle"].tolist()
    corners = all(_has_number(position, n) for n in ("minX", "maxX", "minY", "maxY"))
    middle = ("middle" in position and len(position["middle"]) == 2
              and _has_number(position, "width") and _has_number(position, "height"))
    if not (middle or corners):
        raise TypeError(_POSITION_ERROR)
    scores = box.get("scores")
    if scores is not None and not isinstance(scores, Mapping):
        raise TypeError("Box scores must be a dictionary")
    for k, v in (scores or {}).items():
        if not isinstance(k, str) or not isinstance(v, numbers.Number):
            raise TypeError("Box scores must map str to numbers")
    if "class_id" in box and not isinstance(box["class_id"], int):
        raise TypeError("A box's class_id must be an integer")
    if "box_caption" in box and not isinstance(box["box_caption"], str):
        raise TypeError("A box's caption must be a string")
    return {**box, "position": position}


def checked_boxes(group: str, val: Mapping[str, Any]) -> tuple[dict[str, Any], dict[Any, str]]:
    """One group of boxes as plain JSON for the metadata, and its class labels."""
    if not isinstance(val, Mapping) or "box_data" not in val:
        raise TypeError(f'boxes[{group!r}] needs "box_data" (a list of boxes)')
    if not isinstance(val["box_data"], list):
        raise TypeError("Boxes must be a list")
    boxes = [_checked_box(box) for box in val["box_data"]]
    labels = _class_labels(val, (box["class_id"] for box in boxes if "class_id" in box))
    stored: dict[str, Any] = {"box_data": plain_json(boxes)}
    if "class_labels" in val:  # W&B's defaults are not written with the boxes, only the classes
        stored["class_labels"] = plain_json(labels)
    return stored, labels


def checked_mask(group: str, val: Mapping[str, Any]) -> tuple[_RdImage, dict[Any, str]]:
    """One mask as a grey image of its class ids (a path: the file as it is), and its labels."""
    if not isinstance(val, Mapping):
        raise TypeError(f"masks[{group!r}] must be a dict")
    if "path" in val:
        return _RdImage(val["path"]), _class_labels(val, ()) if "class_labels" in val else {}
    if "mask_data" not in val:
        raise TypeError('Missing key "mask_data": An image mask requires mask data: a 2D array '
                        "representing the predictions")
    import numpy as np  # a mask array: numpy is needed now

    data = val["mask_data"]
    if hasattr(data, "detach"):
        data = data.detach().cpu().numpy()
    data = np.asarray(data)
    if data.ndim != 2:
        raise TypeError("mask_data must be a 2D array")
    if not ((data >= 0).all() and (data <= 255).all()):
        raise TypeError("Mask data must be integers between 0 and 255")
    labels = _class_labels(val, np.unique(data).astype(np.int32).tolist())
    return _RdImage(data.astype(np.uint8)), labels


def overlays(boxes: Any, masks: Any, classes: Any
             ) -> tuple[dict[str, Any], dict[str, tuple[_RdImage, dict[Any, str]]]]:
    """The image's metadata for ``boxes``/``masks``/``classes`` and its masks by group.

    ``ValueError`` when ``boxes`` or ``masks`` is not a dict (as in W&B)."""
    metadata: dict[str, Any] = {}
    total: dict[Any, str] = {}
    mask_images: dict[str, tuple[_RdImage, dict[Any, str]]] = {}
    if boxes:
        if not isinstance(boxes, Mapping):
            raise ValueError('Images "boxes" argument must be a dictionary')
        metadata["boxes"] = {}
        for group, val in boxes.items():
            metadata["boxes"][str(group)], labels = checked_boxes(str(group), val)
            total.update(labels)
    if masks:
        if not isinstance(masks, Mapping):
            raise ValueError('Images "masks" argument must be a dictionary')
        for group, val in masks.items():
            mask_images[str(group)] = checked_mask(str(group), val)
            total.update(mask_images[str(group)][1])
    if classes is not None:
        class_set = classes._class_set if isinstance(classes, Classes) else classes
        total.update({entry["id"]: entry["name"] for entry in class_set})
    if total:
        metadata["classes"] = plain_json([{"id": k, "name": v} for k, v in total.items()])
    return metadata, mask_images


def mask_items(key: str, index: int, image: Any) -> list[tuple[str, Any]]:
    """``image`` (logged under ``key`` as the ``index``-th image of its step) followed by its
    masks as items under ``<key>/masks/<group>``; the image's metadata names them."""
    masks: dict[str, tuple[_RdImage, dict[Any, str]]] = getattr(image, "masks", {})
    if not masks:
        return [(key, image)]
    items: list[tuple[str, Any]] = []
    named: dict[str, Any] = {}
    for group, (mask, labels) in masks.items():
        mask_key = f"{key}/masks/{group}"
        plain_labels = plain_json(labels)
        item = _RdImage(mask._path if mask._path is not None else mask._array, metadata={
            "rundial.kind": MASK_KIND, "image": key, "index": index, "group": group,
            "class_labels": plain_labels})
        items.append((mask_key, item))
        named[group] = {"key": mask_key, "class_labels": plain_labels}
    shown = _copy_with_metadata(image, {**image.metadata, "masks": named})
    return [(key, shown), *items]


def _copy_with_metadata(image: Any, metadata: dict[str, Any]) -> Any:
    import copy

    out = copy.copy(image)  # the caller's image keeps its own metadata
    out.metadata = metadata
    return out
