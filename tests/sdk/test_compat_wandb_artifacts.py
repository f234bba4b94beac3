"""``wandb.Artifact``, ``log_artifact``/``use_artifact``, ``log_model``/``use_model``/``link_model``
of ``rundial.compat.wandb`` over a stand-in rundial run (what reaches rundial's API, staged
files, refs and versions). tests/e2e/test_compat_wandb_artifacts.py runs them against the real
collector."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

import rundial.compat.wandb as wandb
from rundial.compat.wandb._artifact import ArtifactFinalizedError, ArtifactNotLoggedError
from rundial.compat.wandb._artifact_refs import rundial_ref
from tests.sdk.wandb_support import Recorder, make_run


class ArtifactRecorder(Recorder):
    """Also snapshots each queued directory, answers ``use_artifact`` and ``flush``."""

    def __init__(self, flushed: bool = True) -> None:
        super().__init__()
        self.staged: list[dict[str, bytes]] = []
        self.used: list[str] = []
        self.handles: dict[str, FakeHandle] = {}
        self.flushed = flushed

    def log_artifact(self, path: str | Path, **options: Any) -> bool:
        root = Path(path)
        self.staged.append({p.relative_to(root).as_posix(): p.read_bytes()
                            for p in sorted(root.rglob("*")) if p.is_file()})
        return super().log_artifact(path, **options)

    def use_artifact(self, ref: str) -> FakeHandle:
        self.used.append(ref)
        return self.handles[ref]

    def flush(self, timeout_seconds: float | None = None) -> bool:
        return self.flushed


class FakeHandle:
    """What rundial's ``use_artifact`` returns (``rundial._artifacts.handle``), in memory."""

    def __init__(self, name: str, version: int, files: dict[str, bytes], *,
                 artifact_type: str = "model", metadata: dict[str, Any] | None = None,
                 aliases: tuple[str, ...] = ("latest",)) -> None:
        self.name, self.version, self.aliases = name, version, list(aliases)
        self.metadata, self.contents = dict(metadata or {}), files
        self.artifact = {"artifactId": f"art_{name}_{version}", "artifactType": artifact_type}
        self.artifact_id = self.artifact["artifactId"]
        self.files = [{"path": p, "sizeBytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                      for p, b in files.items()]
        self.downloads: list[Path] = []

    def download(self, directory: str | os.PathLike[str]) -> Path:
        root = Path(directory).resolve()
        self.downloads.append(root)
        for rel, data in self.contents.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        return root


@pytest.fixture
def rec() -> ArtifactRecorder:
    return ArtifactRecorder()


def test_an_artifact_is_staged_as_one_directory_with_copies(rec: ArtifactRecorder,
                                                             tmp_path: Path) -> None:
    (tmp_path / "model.pt").write_bytes(b"weights-1")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("a,b\n")
    (data / "sub" / "b.csv").write_text("c,d\n")
    run = make_run(rec)
    art = wandb.Artifact("mnist-model", "model", description="a CNN", metadata={"lr": 0.1})
    art.add_file(str(tmp_path / "model.pt"))
    art.add_file(str(tmp_path / "model.pt"), name="ckpt/best.pt")
    art.add_dir(str(data), name="data")
    with art.new_file("notes.txt", mode="w") as f:
        f.write("hello")
    (tmp_path / "model.pt").write_bytes(b"changed later")  # the copy taken at add_file counts
    art.metadata["epochs"] = 3
    assert (art.file_count, art.size) == (5, 9 + 9 + 4 + 4 + 5)
    assert run.log_artifact(art, aliases=["best"]) is art
    assert rec.staged == [{"model.pt": b"weights-1", "ckpt/best.pt": b"weights-1",
                           "data/a.csv": b"a,b\n", "data/sub/b.csv": b"c,d\n",
                           "notes.txt": b"hello"}]
    [(staging, options)] = rec.artifacts
    assert options == {"name": "mnist-model", "type": "model", "aliases": ["best", "latest"],
                       "metadata": {"lr": 0.1, "epochs": 3, "wandb.description": "a CNN"}}
    assert art.aliases == ["best", "latest"] and not art.is_draft()
    with pytest.raises(ArtifactFinalizedError):
        art.add_file(str(tmp_path / "model.pt"))
    with pytest.raises(ValueError, match="logged or used already"):
        run.log_artifact(art)
    run.finish()  # every upload done (the stand-in's finish is True): the staging is removed
    assert not Path(staging).exists()


def test_a_path_is_an_artifact_named_after_the_run_and_file(rec: ArtifactRecorder,
                                                            tmp_path: Path) -> None:
    (tmp_path / "preds.json").write_text("[]")
    run = make_run(rec)
    logged = run.log_artifact(tmp_path / "preds.json")
    run.log_artifact(str(tmp_path), name="outputs", type="dataset", aliases="v-final")
    assert [opts["name"] for _, opts in rec.artifacts] == ["run-run_x-preds.json", "outputs"]
    assert [opts["type"] for _, opts in rec.artifacts] == ["unspecified", "dataset"]
    assert [opts["aliases"] for _, opts in rec.artifacts] == [["latest"], ["v-final", "latest"]]
    assert rec.staged == [{"preds.json": b"[]"}, {"preds.json": b"[]"}]
    assert logged.name == "run-run_x-preds.json" and logged.type == "unspecified"


@pytest.mark.parametrize("call, error, match", [
    (lambda: wandb.Artifact("bad name", "model"), ValueError, "alphanumeric"),
    (lambda: wandb.Artifact("m" * 129, "model"), ValueError, "longer than 128"),
    (lambda: wandb.Artifact("m", "raw data"), ValueError, "rundial takes 1-64"),
    (lambda: wandb.Artifact("m", "wandb-history"), ValueError, "reserved"),
    (lambda: wandb.Artifact("m", "model", metadata=[1]), TypeError, "metadata must be a dict"),
    (lambda: wandb.Artifact("m", "model").add_file("/no/such/file"), ValueError, "not a file"),
    (lambda: wandb.Artifact("m", "model").add_dir("/no/such/dir"), ValueError, "not a directory"),
    (lambda: wandb.Artifact("m", "model").add_reference("s3://b/k"), NotImplementedError,
     "docs/wandb-compat.md"),
    (lambda: wandb.Artifact("m", "model").download(), ArtifactNotLoggedError, "use_artifact"),
    (lambda: wandb.Artifact("m", "model").wait(), ArtifactNotLoggedError, "log it first"),
    (lambda: wandb.Artifact("m", "model").files(), NotImplementedError, "not supported"),
    (lambda: wandb.Artifact("m", "model").get_entry("x"), ArtifactNotLoggedError, "use_artifact"),
])
def test_artifact_misuse_gets_a_clear_error(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


def test_paths_inside_an_artifact_are_checked(tmp_path: Path) -> None:
    src = tmp_path / "f.txt"
    src.write_text("one")
    art = wandb.Artifact("m", "model")
    with pytest.raises(ValueError, match="unsafe artifact path"):
        art.add_file(str(src), name="../escape.txt")
    art.add_file(str(src))
    art.add_file(str(src))  # the same content again: accepted, as in W&B
    other = tmp_path / "g.txt"
    other.write_text("two")
    with pytest.raises(ValueError, match="same path twice"):
        art.add_file(str(other), name="f.txt")
    art.add_file(str(other), name="f.txt", overwrite=True)
    with pytest.raises(ValueError, match="already exists"), art.new_file("f.txt") as f:
        f.write("x")
    art.add_file(str(other), name="linked.txt", policy="immutable")
    assert os.path.islink(art._staging.root / "linked.txt")  # no copy: the original is uploaded
    art.remove("linked.txt")
    with pytest.raises(FileNotFoundError):
        art.remove("linked.txt")
    assert (art.file_count, (art._staging.root / "f.txt").read_text()) == (1, "two")
    assert not hasattr(art, "version")  # W&B: only a logged artifact has a version


def test_logging_refuses_empty_artifacts_missing_paths_references_and_bad_aliases(
        rec: ArtifactRecorder, tmp_path: Path) -> None:
    run = make_run(rec)
    with pytest.raises(ValueError, match="has no files"):
        run.log_artifact(wandb.Artifact("empty", "dataset"))
    with pytest.raises(ValueError, match="file or a directory"):
        run.log_artifact(str(tmp_path / "missing.pt"))
    with pytest.raises(NotImplementedError, match="references"):
        run.log_artifact("s3://bucket/model.pt")
    with pytest.raises(TypeError, match="wandb.Artifact"):
        run.log_artifact(42)
    (tmp_path / "m.pt").write_bytes(b"x")
    for alias in ("v3", "has space", "a" * 65):
        with pytest.raises(ValueError, match="invalid artifact alias"):
            run.log_artifact(str(tmp_path / "m.pt"), aliases=[alias])
    assert rec.artifacts == []


@pytest.mark.parametrize("ref, expected", [
    ("mnist", "mnist:latest"), ("mnist:latest", "mnist:latest"), ("mnist:best", "mnist:best"),
    ("mnist:v0", "mnist:v1"), ("mnist:v41", "mnist:v42"), ("p/mnist:v2", "mnist:v3"),
    ("ws/p/mnist:prod", "mnist:prod")])
def test_wandb_refs_map_onto_rundial_versions(ref: str, expected: str) -> None:
    assert rundial_ref(ref, "ws", "p") == ("mnist", expected)


def test_refs_of_other_projects_or_malformed_are_refused() -> None:
    with pytest.raises(NotImplementedError, match="another project"):
        rundial_ref("other/mnist:v0", "ws", "p")
    with pytest.raises(NotImplementedError, match="another project"):
        rundial_ref("team/p/mnist:v0", "ws", "p")
    for bad in ("", "a/b/c/d:v0", "bad name:v0"):
        with pytest.raises(ValueError):
            rundial_ref(bad, "ws", "p")


def test_use_artifact_resolves_wandb_versions_and_downloads(
        rec: ArtifactRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    handle = FakeHandle("mnist", 3, {"model.pt": b"w"}, aliases=("best",),
                        metadata={"acc": 0.9, "wandb.description": "a CNN"})
    rec.handles["mnist:v3"] = handle
    run = make_run(rec)
    art = run.use_artifact("mnist:v2", type="model")
    assert rec.used == ["mnist:v3"]  # W&B's v2 is rundial's version 3
    assert (art.name, art.version, art.type, art.aliases, art.id) == (
        "mnist:v2", "v2", "model", ["best"], "art_mnist_3")
    assert (art.metadata, art.description, art.state) == ({"acc": 0.9}, "a CNN", "COMMITTED")
    assert art.download() == str(tmp_path / "artifacts" / "mnist:v2")
    assert Path(art.file(str(tmp_path / "one"))).read_bytes() == b"w"
    monkeypatch.setenv("WANDB_ARTIFACT_DIR", str(tmp_path / "elsewhere"))
    assert art.download() == str(tmp_path / "elsewhere" / "mnist:v2")
    entry = art.get_path("model.pt")
    assert (entry.path, entry.size, entry.digest) == ("model.pt", 1,
                                                      hashlib.sha256(b"w").hexdigest())
    assert Path(entry.download(tmp_path / "entry")).read_bytes() == b"w"
    with pytest.raises(KeyError, match="not contained"):
        art.get_entry("other.pt")
    assert run.use_artifact(art) is not art and rec.used[-1] == "mnist:v3"  # used again
    with pytest.raises(ValueError, match="does not match type"):
        run.use_artifact("mnist:v2", type="dataset")
    with pytest.raises(ValueError, match="artifact name"):
        run.use_artifact(3.5)


def test_use_artifact_of_a_draft_logs_it_first(rec: ArtifactRecorder, tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"x")
    rec.handles["fresh:latest"] = FakeHandle("fresh", 1, {"x.bin": b"x"}, artifact_type="dataset")
    run = make_run(rec)
    draft = wandb.Artifact("fresh", "dataset")
    draft.add_file(str(tmp_path / "x.bin"))
    used = run.use_artifact(draft, aliases=["golden"])
    assert [o["aliases"] for _, o in rec.artifacts] == [["golden", "latest"]]
    assert rec.used == ["fresh:latest"] and used.version == "v0"
    stalled = ArtifactRecorder(flushed=False)
    late = wandb.Artifact("late", "dataset")
    late.add_file(str(tmp_path / "x.bin"))
    with pytest.raises(TimeoutError, match="not uploaded"):
        make_run(stalled).use_artifact(late)
    assert stalled.used == []  # never the version before it


def test_wait_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"x")
    stalled = ArtifactRecorder(flushed=False)
    art = make_run(stalled).log_artifact(str(tmp_path / "x.bin"))
    with pytest.raises(TimeoutError, match="timed out"):
        art.wait(timeout=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert art.wait() is art
    assert any("still running" in str(w.message) for w in caught)
    done = ArtifactRecorder()
    assert make_run(done).log_artifact(str(tmp_path / "x.bin")).wait() is not None


def test_models_log_use_and_link(rec: ArtifactRecorder, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.pt").write_bytes(b"net")
    run = make_run(rec)
    assert run.log_model(str(tmp_path / "net.pt"), name="net", aliases=["best"]) is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run.link_model(str(tmp_path / "net.pt"), "Digits") is None
    assert any("no model registry" in str(w.message) for w in caught)
    assert [(o["name"], o["type"], o["aliases"]) for _, o in rec.artifacts] == [
        ("net", "model", ["best", "latest"]), ("run-run_x-net.pt", "model", ["latest"])]
    with pytest.raises(AssertionError, match="only the name"):
        run.link_model(str(tmp_path / "net.pt"), "team/Digits")
    rec.handles["net:best"] = FakeHandle("net", 1, {"net.pt": b"net"})
    rec.handles["pair:latest"] = FakeHandle("pair", 1, {"a.pt": b"a", "b.pt": b"b"})
    rec.handles["data:latest"] = FakeHandle("data", 1, {"a": b"a"}, artifact_type="dataset")
    assert run.use_model("net:best") == str(tmp_path / "artifacts" / "net:v0" / "net.pt")
    assert run.use_model("pair") == str(tmp_path / "artifacts" / "pair:v0")
    with pytest.raises(AssertionError, match="'model' artifacts"):
        run.use_model("data")


def test_staging_is_kept_until_uploads_are_done(tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"x")
    rec = ArtifactRecorder()
    rec.finish = lambda: False  # type: ignore[method-assign]  # uploads still pending
    run = make_run(rec)
    run.log_artifact(str(tmp_path / "x.bin"))
    run.finish()
    [(staging, _)] = rec.artifacts
    assert Path(staging, "x.bin").read_bytes() == b"x"  # the journal still needs it


def test_module_functions_need_a_run_and_a_disabled_run_logs_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for call in (lambda: wandb.log_artifact("x"), lambda: wandb.use_artifact("x"),
                 lambda: wandb.log_model("x"), lambda: wandb.use_model("x"),
                 lambda: wandb.link_model("x", "y")):
        with pytest.raises(RuntimeError, match="call wandb.init"):
            call()
    (tmp_path / "x.bin").write_bytes(b"x")
    monkeypatch.setenv("HOME", str(tmp_path))
    with wandb.init(project="p", mode="disabled") as run:
        art = wandb.Artifact("m", "model")
        art.add_file(str(tmp_path / "x.bin"))
        staging = art._staging.root
        assert wandb.log_artifact(art) is art
        assert not staging.exists()  # nothing queued: nothing kept
        with pytest.raises(RuntimeError, match="not available"):
            wandb.use_artifact("m:latest")
    assert run.disabled



def test_tables_and_images_are_added_in_wandbs_layout(rec: ArtifactRecorder) -> None:
    np = pytest.importorskip("numpy")
    pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    table = wandb.Table(columns=["id", "img", "label"],
                        data=[[1, wandb.Image(pixels, caption="c"), "cat"]])
    art = wandb.Artifact("preds", "predictions")
    art.add(table, "my_table")
    art.add(wandb.Image(pixels), "solo")
    art["my_table"] = table  # the same content again: accepted
    with pytest.raises(NotImplementedError, match="wandb.Table and wandb.Image"):
        art.add({"a": 1}, "other")
    make_run(rec).log_artifact(art)
    [staged] = rec.staged
    [png] = [path for path in staged if path.startswith("media/images/")]
    sha256 = hashlib.sha256(staged[png]).hexdigest()
    assert png == f"media/images/{sha256[:20]}.png" and staged[png].startswith(b"\x89PNG")
    cell = {"_type": "image-file", "path": png, "sha256": sha256, "width": 6, "height": 4,
            "format": "png"}
    assert json.loads(staged["my_table.table.json"]) == {
        "_type": "table", "columns": ["id", "img", "label"], "log_mode": "IMMUTABLE",
        "ncols": 3, "nrows": 1, "data": [[1, {**cell, "caption": "c"}, "cat"]]}
    assert json.loads(staged["solo.image-file.json"]) == cell and len(staged) == 3
    with pytest.raises(ArtifactNotLoggedError, match="use_artifact"):
        art.get("my_table")


def test_save_needs_a_run(rec: ArtifactRecorder, tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"x")
    art = wandb.Artifact("m", "model")
    art.add_file(str(tmp_path / "x.bin"))
    with pytest.raises(NotImplementedError, match="wandb.init"):
        art.save()


def test_a_finalized_artifact_is_still_logged_once(rec: ArtifactRecorder, tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"x")
    rec.handles["done:latest"] = FakeHandle("done", 1, {"x.bin": b"x"})
    art = wandb.Artifact("done", "model")
    art.add_file(str(tmp_path / "x.bin"))
    art.finalize()  # W&B's log_artifact finalizes too; logging it still works
    with pytest.raises(ArtifactFinalizedError):
        art.add_file(str(tmp_path / "x.bin"), name="y.bin")
    run = make_run(rec)
    assert run.use_artifact(art).version == "v0"  # logged, uploaded, then used
    assert [opts["name"] for _, opts in rec.artifacts] == ["done"] and rec.used == ["done:latest"]


def test_link_artifact_logs_a_draft_links_nothing_and_warns(rec: ArtifactRecorder,
                                                            tmp_path: Path) -> None:
    """The wandb-automations example: log_artifact, then run.link_artifact to a registry."""
    (tmp_path / "m.pth").write_bytes(b"m")
    run = make_run(rec)
    logged = wandb.Artifact("ckpt", type="model")
    logged.add_file(str(tmp_path / "m.pth"))
    run.log_artifact(logged)
    draft = wandb.Artifact("draft", type="model")
    draft.add_file(str(tmp_path / "m.pth"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert run.link_artifact(logged, "model-registry/MNIST Classifier") is logged
        assert run.link_artifact(draft, "wandb-registry-model/digits", aliases=["x"]) is draft
    assert [str(w.message) for w in caught if "no model registry" in str(w.message)] == [
        "rundial.compat.wandb: link_artifact logged 'ckpt'; rundial has no model registry, so it "
        "is not linked to 'model-registry/MNIST Classifier' (see docs/wandb-compat.md)"]
    assert [(o["name"], o["aliases"]) for _, o in rec.artifacts] == [
        ("ckpt", ["latest"]), ("draft", ["latest"])]   # the draft logged once, the other kept
    with pytest.raises(TypeError, match="wandb.Artifact"):
        run.link_artifact("ckpt:latest", "model-registry/x")
    with pytest.raises(ValueError, match="target_path"):
        run.link_artifact(logged, "")
