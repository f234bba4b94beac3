"""rundial.compat.wandb: ``wandb.Object3D`` files as W&B 0.31 writes them (the expected bytes are
what wandb 0.31 wrote for the same inputs) and the errors it raises."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import rundial.compat.wandb as wandb
from tests.sdk.wandb_support import Recorder, make_run

np = pytest.importorskip("numpy")

POINTS = [[0.5, 1.0, -2.25], [3.0, 4.0, 5.0]]


def written(obj: Any) -> tuple[str, bytes]:
    rendered = obj.render()
    assert rendered.media_type == "object3d"
    data = rendered.data if rendered.data is not None else Path(str(rendered.source)).read_bytes()
    return rendered.filename, data


def test_point_clouds_are_wandb_pts_json() -> None:
    assert written(wandb.Object3D(np.array(POINTS))) == (
        "points.pts.json", b"[[0.5,1.0,-2.25],[3.0,4.0,5.0]]")
    scene = b'{"type":"lidar/beta","vectors":[],"points":[[0.5,1.0,-2.25],[3.0,4.0,5.0]],' \
            b'"boxes":[]}'
    assert written(wandb.Object3D({"type": "lidar/beta", "points": np.array(POINTS),
                                   "boxes": np.array([])}))[1] == scene
    assert written(wandb.Object3D.from_point_cloud(points=POINTS, boxes=[]))[1] == scene
    cloud = wandb.Object3D.from_numpy(np.zeros((1, 6)))
    assert cloud.metadata == {"rundial.kind": "wandb_object3d", "format": "pts.json"}


def test_files_are_uploaded_as_they_are(tmp_path: Path) -> None:
    mesh = tmp_path / "cube.obj"
    mesh.write_text("v 0 0 0\n")
    obj = wandb.Object3D(str(mesh), caption="cube")
    assert written(obj) == ("cube.obj", b"v 0 0 0\n") and obj.caption == "cube"
    with open(mesh) as named:  # a named file object: its path
        assert written(wandb.Object3D(named))[0] == "cube.obj"
    stream = wandb.Object3D.from_file(io.StringIO("v 1 1 1\n"), file_type="obj")
    assert written(stream) == ("object3d.obj", b"v 1 1 1\n")
    assert stream.metadata["format"] == "obj"


@pytest.mark.parametrize(("value", "kwargs", "match"), [
    (np.zeros((2, 5)), {}, "shape of the numpy array"),
    (np.zeros(3), {}, "shape of the numpy array"),
    ("scene.ply", {}, "not compatible with Object3D"),
    (io.StringIO("x"), {}, "Must pass file_type"),
    (io.StringIO("x"), {"file_type": "ply"}, "only supports"),
    (3, {}, "numpy array, dict or a file object"),
    ({"type": "other"}, {}, "only 'lidar/beta'"),
])
def test_what_wandb_refuses_is_a_value_error(value: Any, kwargs: dict[str, Any],
                                             match: str) -> None:
    with pytest.raises(ValueError, match=match):
        wandb.Object3D(value, **kwargs)


def test_objects_are_media_items_of_their_key_at_the_row_step() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    run.log({"cloud": [wandb.Object3D(np.zeros((1, 3))), wandb.Object3D(np.ones((1, 3)))]},
            step=2)
    run.finish()
    assert [(step, key, type(value).__name__) for step, row in recorder.calls
            for key, value in row.items()] == [(2, "cloud", "Object3D"), (2, "cloud", "Object3D")]
    with pytest.raises(ValueError, match="Point cloud type not supported"):
        wandb.Object3D.from_point_cloud(POINTS, [], point_cloud_type="radar")


def test_molecules_are_files_as_they_are(tmp_path: Path) -> None:
    pdb = tmp_path / "water.pdb"
    pdb.write_text("HETATM    1  O   HOH A   1       0.000   0.000   0.000\nEND\n")
    mol = wandb.Molecule(str(pdb), caption="water")
    rendered = mol.render()
    assert (rendered.media_type, rendered.filename, mol.caption) == ("molecule", "water.pdb",
                                                                     "water")
    assert mol.metadata == {"rundial.kind": "wandb_molecule", "format": "pdb"}
    stream = wandb.Molecule(io.StringIO("x\n"), file_type="sdf").render()
    assert (stream.filename, stream.data) == ("molecule.sdf", b"x\n")
    for value, kwargs, match in [(str(tmp_path / "m.xyz"), {}, "only supports files"),
                                 (io.StringIO("x"), {}, "Must pass file_type"),
                                 (io.StringIO("x"), {"file_type": "xyz"}, "only supports"),
                                 (3, {}, "file name or a file object")]:
        with pytest.raises(ValueError, match=match):
            wandb.Molecule(value, **kwargs)
    with pytest.raises(NotImplementedError, match="RDKit"):
        wandb.Molecule.from_smiles("CCO")
    with pytest.raises(NotImplementedError, match="RDKit"):
        wandb.Molecule.from_rdkit("resveratrol.mol")
