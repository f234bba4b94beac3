"""rundial.compat.wandb: ``wandb.Image(boxes=, masks=, classes=)``, ``wandb.Classes`` and
``wandb.util.make_artifact_name_safe`` (docs/wandb-compat.md, "Media")."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

import rundial.compat.wandb as wandb
from rundial._media import Image as RdImage
from rundial._media import Table as RdTable
from tests.sdk.wandb_support import Recorder, make_run

np = pytest.importorskip("numpy")
PIL = pytest.importorskip("PIL.Image")

BOX = {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6}, "class_id": 1,
       "box_caption": "cat", "scores": {"acc": 0.9}}


def pixels(image: RdImage) -> Any:
    rendered = image.render()
    data = rendered.data if rendered.data is not None else Path(str(rendered.source)).read_bytes()
    return np.asarray(PIL.open(io.BytesIO(data)))


def logged(recorder: Recorder) -> list[tuple[int, str, Any]]:
    return [(step, key, value) for step, row in recorder.calls for key, value in row.items()]


def test_boxes_and_classes_are_kept_in_the_image_metadata() -> None:
    middle = {"position": {"middle": np.array([3.0, 4.0]), "width": 2, "height": 1},
              "class_id": 2, "domain": "pixel"}
    image = wandb.Image(np.zeros((8, 8)), boxes={
        "predictions": {"box_data": [BOX, middle], "class_labels": {1: "cat", 2: "dog"}},
        "truth": {"box_data": [{**BOX, "class_id": 7}]}},
        classes=wandb.Classes([{"id": 9, "name": "bird"}]))
    boxes = image.metadata["boxes"]
    assert boxes["predictions"]["box_data"][0] == BOX
    assert boxes["predictions"]["box_data"][1]["position"]["middle"] == [3.0, 4.0]
    assert boxes["predictions"]["class_labels"] == {"1": "cat", "2": "dog"}
    assert "class_labels" not in boxes["truth"]  # W&B's default labels: only in the classes
    assert image.metadata["classes"] == [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"},
                                         {"id": 7, "name": "class_7"}, {"id": 9, "name": "bird"}]
    assert wandb.Image(np.zeros((2, 2)), classes=[{"id": 0, "name": "bg"}]).metadata == {
        "classes": [{"id": 0, "name": "bg"}]}


@pytest.mark.parametrize(("boxes", "error", "match"), [
    ([BOX], ValueError, "must be a dictionary"),
    ({"p": {"box_data": BOX}}, TypeError, "Boxes must be a list"),
    ({"p": {"boxes": [BOX]}}, TypeError, "box_data"),
    ({"p": {"box_data": [{"class_id": 1}]}}, TypeError, "position"),
    ({"p": {"box_data": [{**BOX, "position": {"minX": 0, "maxX": 1}}]}}, TypeError, "position"),
    ({"p": {"box_data": [{**BOX, "class_id": 1.5}]}}, TypeError, "class_id"),
    ({"p": {"box_data": [{**BOX, "box_caption": 3}]}}, TypeError, "caption"),
    ({"p": {"box_data": [{**BOX, "scores": [1]}]}}, TypeError, "scores"),
    ({"p": {"box_data": [BOX], "class_labels": {"a": "cat"}}}, TypeError, "numbers to string"),
])
def test_bad_boxes_raise_what_wandb_raises(boxes: Any, error: type[Exception],
                                           match: str) -> None:
    with pytest.raises(error, match=match):
        wandb.Image(np.zeros((2, 2)), boxes=boxes)


def test_a_mask_is_an_image_of_its_class_ids_logged_after_its_image() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    mask = np.array([[0, 1], [2, 255]])
    first = wandb.Image(np.zeros((2, 2)), caption="a")
    second = wandb.Image(np.ones((2, 2)), masks={
        "pred": {"mask_data": mask, "class_labels": {0: "bg", 1: "cat"}},
        "truth": {"mask_data": mask.astype(np.uint8)}})
    run.log({"seg": [first, second]})
    items = logged(recorder)
    assert [key for _s, key, _v in items] == ["seg", "seg", "seg/masks/pred", "seg/masks/truth"]
    assert all(step == 0 for step, _k, _v in items)
    shown, pred, truth = items[1][2], items[2][2], items[3][2]
    assert pixels(pred).tolist() == [[0, 1], [2, 255]]          # class ids, not rescaled
    assert pred.metadata == {"rundial.kind": "wandb_mask", "image": "seg", "index": 1,
                             "group": "pred", "class_labels": {"0": "bg", "1": "cat"}}
    assert truth.metadata["class_labels"] == {
        "0": "class_0", "1": "class_1", "2": "class_2", "255": "class_255"}
    assert shown.metadata["masks"] == {
        "pred": {"key": "seg/masks/pred", "class_labels": {"0": "bg", "1": "cat"}},
        "truth": {"key": "seg/masks/truth", "class_labels": truth.metadata["class_labels"]}}
    assert "masks" not in second.metadata and items[0][2].metadata == {}
    assert [c["id"] for c in shown.metadata["classes"]] == [0, 1, 2, 255]


def test_masks_from_a_path_and_in_a_table_cell(tmp_path: Path) -> None:
    path = tmp_path / "mask.png"
    PIL.fromarray(np.array([[3, 4]], dtype=np.uint8)).save(path)
    recorder = Recorder()
    run = make_run(recorder)
    cell = wandb.Image(np.zeros((1, 2)), masks={"m": {"path": str(path)}})
    run.log({"t": wandb.Table(columns=["img"], data=[[cell]])})
    items = logged(recorder)
    assert [key for _s, key, _v in items] == ["t/img", "t/img/masks/m", "t"]
    assert pixels(items[1][2]).tolist() == [[3, 4]]
    assert items[1][2].metadata["index"] == 0 and items[0][2].metadata["table"] == "t"
    assert isinstance(items[2][2], RdTable) and items[2][2].rows == [["media:t/img#0"]]


@pytest.mark.parametrize(("masks", "error", "match"), [
    ({"m": {"mask_data": np.zeros((2, 2, 3))}}, TypeError, "2D array"),
    ({"m": {"mask_data": np.array([[0, 256]])}}, TypeError, "between 0 and 255"),
    ({"m": {"mask_data": np.array([[-1, 0]])}}, TypeError, "between 0 and 255"),
    ({"m": {"class_labels": {0: "a"}}}, TypeError, "mask_data"),
    ({"m": {"mask_data": np.zeros((2, 2)), "class_labels": {0: 1}}}, TypeError, "numbers to"),
    ([np.zeros((2, 2))], ValueError, "must be a dictionary"),
])
def test_bad_masks_raise_what_wandb_raises(masks: Any, error: type[Exception],
                                           match: str) -> None:
    with pytest.raises(error, match=match):
        wandb.Image(np.zeros((2, 2)), masks=masks)


def test_torch_masks_and_box_positions_are_converted() -> None:
    torch = pytest.importorskip("torch")
    image = wandb.Image(np.zeros((2, 2)), masks={"m": {"mask_data": torch.tensor([[1, 0]])}},
                        boxes={"b": {"box_data": [{"position": {
                            "middle": torch.tensor([1.0, 2.0]), "width": 1, "height": 1},
                            "class_id": 0}]}})
    assert pixels(image.masks["m"][0]).tolist() == [[1, 0]]
    assert image.metadata["boxes"]["b"]["box_data"][0]["position"]["middle"] == [1.0, 2.0]


def test_classes_need_ids_and_names_and_util_names_artifacts_as_wandb() -> None:
    with pytest.raises(TypeError, match='"id" and "name"'):
        wandb.Classes([{"id": 1}])
    assert wandb.util.make_artifact_name_safe("run 1/ckpt:best") == "run_1_ckpt_best"
    long = "a" * 100 + "b" * 100
    assert wandb.util.make_artifact_name_safe(long) == "a" * 63 + ".." + "b" * 63
    with pytest.raises(NotImplementedError, match="wandb.util.generate_id"):
        wandb.util.generate_id()  # type: ignore[attr-defined]


def test_log_code_filters_take_the_path_alone_or_with_the_root(tmp_path: Path) -> None:
    """W&B passes ``root`` only to a filter of two parameters (the wandb-automations example's
    ``include_fn=lambda path: ...``)."""
    recorder = Recorder()
    recorder.id = f"run_{tmp_path.name}"  # a code directory of its own (it is per run id)
    run = make_run(recorder)
    (tmp_path / "keep").mkdir()
    for name in ("train.py", "req.txt", "notes.md", "keep/skip.py"):
        (tmp_path / name).write_text("x")
    seen_roots: list[str] = []

    def exclude(path: str, root: str) -> bool:
        seen_roots.append(root)
        return path.endswith("skip.py")

    name = run.log_code(str(tmp_path), name="train", exclude_fn=exclude,
                        include_fn=lambda path: path.endswith((".py", ".txt")))
    assert name == "train" and set(seen_roots) == {str(tmp_path)}
    run.finish()
    code_dir = Path(next(p for p, opts in recorder.artifacts if opts["type"] == "code"))
    assert sorted(p.name for p in code_dir.rglob("*") if p.is_file()) == ["req.txt", "train.py"]
    shutil.rmtree(code_dir.parent, ignore_errors=True)


def test_log_code_never_takes_files_an_earlier_process_left(tmp_path: Path) -> None:
    """A run id used again (a resumed run) finds its former code directory: it is left alone."""
    recorder = Recorder()
    recorder.id = f"run_{tmp_path.name}_again"
    run = make_run(recorder)
    stale = Path(tempfile.gettempdir()) / "rundial-wandb" / recorder.id / "code"
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "old.py").write_text("old")
    (tmp_path / "new.py").write_text("new")
    try:
        assert run.log_code(str(tmp_path)) == f"source-{recorder.id}"
        [(code_dir, _opts)] = recorder.artifacts
        assert Path(code_dir) != stale
        assert sorted(p.name for p in Path(code_dir).rglob("*") if p.is_file()) == ["new.py"]
        assert (stale / "old.py").read_text() == "old"
    finally:
        run.finish()
        shutil.rmtree(stale.parent, ignore_errors=True)
