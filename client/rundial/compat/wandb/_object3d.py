"""``wandb.Object3D`` and ``wandb.Molecule``: a 3-D scene, point cloud or molecule logged as one
file, a media item of type ``object3d`` or ``molecule`` (a protocol extension,
``docs/protocol.md`` §5.6; ``docs/wandb-compat.md``).

A :class:`Molecule` is a ``pdb``/``pqr``/``mmcif``/``mcif``/``cif``/``sdf``/``sd``/``gro``/
``mol2``/``mmtf`` path, or a file object with ``file_type=`` one of those, stored as it is
(``from_rdkit``/``from_smiles``, which need RDKit, raise ``NotImplementedError``). For an
:class:`Object3D`:

what W&B 0.31 stores, the same file:

* a path (``str``, ``pathlib.Path``, or a file object with a ``name``) ending in one of
  :data:`SUPPORTED_TYPES`: uploaded as it is (``ValueError`` for another extension);
* a file object without a name, with ``file_type=`` one of :data:`SUPPORTED_TYPES`: its
  content (``ValueError`` without or with another ``file_type``);
* a numpy array shaped (n, 3), (n, 4) or (n, 6) (``x y z``, ``x y z category``,
  ``x y z r g b``): the points as a JSON list of lists, ``points.pts.json``;
* a dict ``{"type": "lidar/beta", "points"?, "boxes"?, "vectors"?}`` (numpy arrays): the JSON
  object ``{"type", "vectors", "points", "boxes"}`` (absent ones ``[]``), ``scene.pts.json``.

Metadata: ``{"rundial.kind": "wandb_object3d", "format": <extension>}``. JSON is compact
(as W&B writes it); NaN coordinates become ``null`` (W&B writes ``NaN``). numpy is imported
only for ``from_point_cloud``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import orjson

from rundial._media import MediaFile

SUPPORTED_TYPES = ("obj", "gltf", "glb", "babylon", "stl", "pts.json")
POINT_CLOUD_TYPES = ("lidar/beta",)
POINT_COLUMNS = (3, 4, 6)
JSON_CONTENT_TYPE = "application/json"


class Object3D(MediaFile):
    """``wandb.Object3D(data_or_path, caption=None, file_type=None)``; see the module
    docstring. ``ValueError`` for anything W&B refuses."""

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any) -> None:
        data, file_type, cap = _arguments("Object3D", data_or_path, caption, kwargs)
        if isinstance(data, (str, os.PathLike)):
            fmt = _extension(os.fspath(data))
            super().__init__("object3d", path=data, caption=cap, metadata=_metadata(fmt))
        elif callable(getattr(data, "read", None)):
            _file_object(self, "object3d", data, file_type, SUPPORTED_TYPES, cap,
                         "Object 3D only supports numpy arrays or files of the type: ")
        elif isinstance(data, dict) and "type" in data:
            self._json(_scene(data), "scene.pts.json", cap)
        elif hasattr(data, "shape") and hasattr(data, "tolist"):
            if len(data.shape) != 2 or data.shape[1] not in POINT_COLUMNS:
                raise ValueError("The shape of the numpy array must be (n, 3) [x y z], (n, 4) "
                                 "[x y z category] or (n, 6) [x y z r g b]")
            self._json(data.tolist(), "points.pts.json", cap)
        else:
            raise ValueError("data must be a numpy array, dict or a file object")

    def _json(self, value: Any, filename: str, caption: str | None) -> None:
        super().__init__("object3d", data=orjson.dumps(value), filename=filename,
                         content_type=JSON_CONTENT_TYPE, caption=caption,
                         metadata=_metadata("pts.json"))

    @classmethod
    def from_file(cls, data_or_path: Any, file_type: str | None = None) -> Object3D:
        return cls(data_or_path, file_type=file_type)

    @classmethod
    def from_numpy(cls, data: Any) -> Object3D:
        if not (hasattr(data, "shape") and hasattr(data, "tolist")):
            raise ValueError("`data` must be a numpy array")
        return cls(data)

    @classmethod
    def from_point_cloud(cls, points: Sequence[Any], boxes: Sequence[Any],
                         vectors: Sequence[Any] | None = None,
                         point_cloud_type: str = "lidar/beta") -> Object3D:
        if point_cloud_type not in POINT_CLOUD_TYPES:
            raise ValueError("Point cloud type not supported")
        import numpy as np  # W&B builds arrays here too

        return cls({"type": point_cloud_type, "points": np.array(points),
                    "boxes": np.array(boxes),
                    "vectors": np.array(vectors) if vectors is not None else np.array([])})


MOLECULE_TYPES = ("pdb", "pqr", "mmcif", "mcif", "cif", "sdf", "sd", "gro", "mol2", "mmtf")


class Molecule(MediaFile):
    """``wandb.Molecule(data_or_path, caption=None, file_type=None)``; see the module docstring.
    ``ValueError`` for another extension or a file object without a supported ``file_type``."""

    def __init__(self, data_or_path: Any, caption: str | None = None, **kwargs: Any) -> None:
        data, file_type, cap = _arguments("Molecule", data_or_path, caption, kwargs)
        if isinstance(data, (str, os.PathLike)):
            fmt = os.path.splitext(os.fspath(data))[1][1:]
            if fmt not in MOLECULE_TYPES:
                raise ValueError(f"Molecule only supports files of the type: "
                                 f"{', '.join(MOLECULE_TYPES)}")
            super().__init__("molecule", path=data, caption=cap,
                             metadata={"rundial.kind": "wandb_molecule", "format": fmt})
        elif callable(getattr(data, "read", None)):
            _file_object(self, "molecule", data, file_type, MOLECULE_TYPES, cap,
                         "Molecule 3D only supports files of the type: ")
        else:
            raise ValueError("Data must be file name or a file object")

    @classmethod
    def from_rdkit(cls, data_or_path: Any, caption: str | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError("wandb.Molecule.from_rdkit needs RDKit conversions rundial does "
                                  "not make: write the molecule to a .pdb or .sdf file and pass "
                                  "its path (see docs/wandb-compat.md)")

    @classmethod
    def from_smiles(cls, data: str, caption: str | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError("wandb.Molecule.from_smiles needs RDKit conversions rundial "
                                  "does not make: write the molecule to a .pdb or .sdf file and "
                                  "pass its path (see docs/wandb-compat.md)")


def _arguments(name: str, data: Any, caption: str | None, kwargs: dict[str, Any]
               ) -> tuple[Any, str | None, str | None]:
    """(the source, ``file_type``, the caption as str): a named file object becomes its path (W&B
    copies it from there); a keyword other than ``file_type`` is a ``TypeError``."""
    file_type = kwargs.pop("file_type", None)
    if kwargs:
        raise TypeError(f"wandb.{name} got unexpected arguments: {sorted(kwargs)}")
    if hasattr(data, "name") and not isinstance(data, (str, os.PathLike)):
        data = data.name
    return data, file_type, None if caption is None else str(caption)


def _file_object(media: MediaFile, media_type: str, data: Any, file_type: str | None,
                 supported: tuple[str, ...], caption: str | None, refusal: str) -> None:
    """Initialise ``media`` with the content of the file object ``data`` (W&B's rules: it needs
    a ``file_type`` in ``supported``, ``ValueError`` otherwise; read from its start)."""
    if file_type is None:
        raise ValueError("Must pass file_type keyword argument when using io objects.")
    if file_type not in supported:
        raise ValueError(refusal + ", ".join(supported))
    if callable(getattr(data, "seek", None)):
        data.seek(0)
    content = data.read()
    body = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    MediaFile.__init__(media, media_type, data=body, filename=f"{media_type}.{file_type}",
                       content_type="application/octet-stream", caption=caption,
                       metadata={"rundial.kind": f"wandb_{media_type}", "format": file_type})


def _extension(path: str) -> str:
    for fmt in SUPPORTED_TYPES:
        if path.endswith(fmt):
            return fmt
    raise ValueError(f"File '{path}' is not compatible with Object3D: supported types are: "
                     f"{', '.join(SUPPORTED_TYPES)}")


def _scene(data: dict[str, Any]) -> dict[str, Any]:
    if data["type"] not in POINT_CLOUD_TYPES:
        raise ValueError("Type not supported, only 'lidar/beta' is currently supported")
    return {"type": data["type"], **{part: _listed(data[part]) if part in data else []
                                     for part in ("vectors", "points", "boxes")}}


def _listed(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _metadata(fmt: str) -> dict[str, Any]:
    return {"rundial.kind": "wandb_object3d", "format": fmt}
