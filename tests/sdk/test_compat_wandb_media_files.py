"""rundial.compat.wandb: media conversions, tables, histograms, files, alerts, the summary's
sending schedule, and a crash that ends the run."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import rundial.compat.wandb as wandb
from rundial._media import Image as RdImage
from rundial._media import Table as RdTable
from tests.sdk.conftest import FakeClock
from tests.sdk.wandb_support import Recorder, make_run

np = pytest.importorskip("numpy")
PIL = pytest.importorskip("PIL.Image")


def pixels(image: RdImage) -> object:
    """The uint8 array an image would be encoded from (re-read from its PNG through Pillow)."""
    import io

    rendered = image.render()
    data = rendered.data if rendered.data is not None else Path(str(rendered.source)).read_bytes()
    return np.asarray(PIL.open(io.BytesIO(data)))


def test_images_from_paths_pil_and_arrays_convert_as_wandb_does(tmp_path: Path) -> None:
    floats = np.array([[0.0, 0.5], [1.0, 0.25]])
    assert pixels(wandb.Image(floats)).tolist() == [[0, 0], [1, 0]]  # wandb 0.31: cast as is
    assert pixels(wandb.Image(np.array([[3.7, 200.0]]))).tolist() == [[3, 200]]
    # normalize=True: older W&B releases' scaling
    assert pixels(wandb.Image(floats, normalize=True)).tolist() == [[0, 127], [255, 63]]
    signed = np.array([[-1.0, 1.0]])
    assert pixels(wandb.Image(signed, normalize=True)).tolist() == [[0, 255]]
    mask = np.array([[0, 1], [1, 0]], dtype=np.uint8)
    image = wandb.Image(mask, caption="mask")
    assert pixels(image).tolist() == [[0, 1], [1, 0]] and image.caption == "mask"
    assert pixels(wandb.Image(mask, normalize=True)).tolist() == [[0, 255], [255, 0]]
    rgb = np.zeros((1, 2, 5, 3), dtype=np.uint8) + 200      # a singleton batch is squeezed
    assert pixels(wandb.Image(rgb)).shape == (2, 5, 3)
    with pytest.raises(ValueError, match="unsupported shape"):
        wandb.Image(np.zeros((3, 2, 5)))                      # channel-first: W&B refuses it
    path = tmp_path / "x.png"
    PIL.fromarray(np.full((3, 4), 9, dtype=np.uint8)).save(path)
    assert wandb.Image(str(path)).render().width == 4
    assert pixels(wandb.Image(PIL.open(path), mode="RGB")).shape == (3, 4, 3)
    with pytest.raises(TypeError, match="path, a PIL image"):
        wandb.Image(3.5)
    with pytest.raises(NotImplementedError, match="docs/wandb-compat.md"):
        wandb.Image(floats, grouping=3)


def test_lists_of_images_tables_and_histograms_in_a_row() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    table = wandb.Table(columns=["id", "img"], data=[[1, wandb.Image(np.zeros((2, 2)))]])
    run.log({"loss": 1.0, "imgs": [wandb.Image(np.zeros((2, 2))), wandb.Image(np.ones((2, 2)))],
             "tbl": table, "h": wandb.Histogram(np_histogram=([1, 2], [0.0, 0.5, 1.0]))})
    table.add_data(2, "later")  # a logged table is a snapshot
    logged = [(step, key, value) for step, row in recorder.calls for key, value in row.items()]
    assert all(step == 0 for step, _k, _v in logged)
    assert [k for _s, k, _v in logged] == ["loss", "imgs", "imgs", "tbl/img", "tbl", "h"]
    cell_image, snapshot, hist = logged[3][2], logged[4][2], logged[5][2]
    assert cell_image.metadata == {"table": "tbl", "row": 0, "column": "img"}
    assert isinstance(snapshot, RdTable) and snapshot.rows == [[1, "media:tbl/img#0"]]
    assert hist.rows == [[0.0, 0.5, 1], [0.5, 1.0, 2]] and hist.metadata == {
        "rundial.kind": "histogram"}


def test_table_and_histogram_arguments() -> None:
    assert wandb.Table().columns == ["Input", "Output", "Expected"]
    table = wandb.Table(columns=["a"], rows=[[1], [2]])
    table.add_column("b", [3, 4])
    assert table.get_column("b") == [3, 4] and table.data == [[1, 3], [2, 4]]
    with pytest.raises(ValueError, match="2 columns"):
        table.add_data(1)
    hist = wandb.Histogram([1, 2, 2, 3, float("nan")], num_bins=3)
    assert hist.histogram == [1, 2, 1] and hist.bins[0] == 1.0 and hist.bins[-1] == 3.0
    with pytest.raises(ValueError, match="either a sequence or np_histogram"):
        wandb.Histogram()
    with pytest.raises(ValueError, match="num_bins"):
        wandb.Histogram([1], num_bins=513)
    with pytest.raises(ValueError, match="at most 512 bins"):
        wandb.Histogram(np_histogram=([1] * 513, list(range(514))))
    with pytest.raises(ValueError, match="one more edge"):
        wandb.Histogram(np_histogram=([1, 2], [0.0, 1.0]))


def test_save_policies_run_dir_and_log_code(tmp_path: Path) -> None:
    recorder = Recorder()
    run = make_run(recorder)
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "a.pt").write_bytes(b"a")
    (tmp_path / "ckpt" / "b.pt").write_bytes(b"b")
    assert run.save(str(tmp_path / "ckpt" / "*.pt"), base_path=str(tmp_path), policy="now") == [
        str(tmp_path / "ckpt" / "a.pt"), str(tmp_path / "ckpt" / "b.pt")]
    run.save(str(tmp_path / "late.txt"))  # live: evaluated at the end
    (tmp_path / "late.txt").write_text("final")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "same.log").write_text("1")
    (tmp_path / "logs" / "grows.log").write_text("1")
    run.save(str(tmp_path / "logs" / "*.log"))  # live: uploaded now, and at the end if changed
    (tmp_path / "logs" / "grows.log").write_text("12")
    Path(run.dir, "model.h5").write_bytes(b"m")
    with pytest.raises(ValueError, match="policy"):
        run.save("x", policy="sometimes")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print(1)")
    (tmp_path / "src" / "notes.txt").write_text("no")
    assert run.log_code(str(tmp_path / "src")) == "source-run_x"
    run.finish()
    names = [(opts["name"], opts["type"], opts["metadata"].get("path")) for _p, opts in
             recorder.artifacts]
    assert names == [("file-ckpt-a.pt", "run_file", "ckpt/a.pt"),
                     ("file-ckpt-b.pt", "run_file", "ckpt/b.pt"),
                     ("file-grows.log", "run_file", "grows.log"),
                     ("file-same.log", "run_file", "same.log"),
                     ("source-run_x", "code", None),
                     ("file-late.txt", "run_file", "late.txt"),
                     ("file-grows.log", "run_file", "grows.log"),
                     ("file-model.h5", "run_file", "model.h5")]
    code_dir = Path(recorder.artifacts[4][0])
    assert sorted(p.name for p in code_dir.rglob("*") if p.is_file()) == ["train.py"]


def test_alert_url_path_and_terminal_helpers(capsys: pytest.CaptureFixture[str]) -> None:
    recorder = Recorder()
    run = make_run(recorder)
    run.alert("slow", "step took 9 s", level=wandb.AlertLevel.ERROR)
    run.alert("note", "fine")
    assert recorder.lines == [("warn", "[ALERT ERROR] slow: step took 9 s"),
                              ("warn", "[ALERT INFO] note: fine")]
    with pytest.raises(ValueError, match="alert level"):
        run.alert("x", "y", level="LOUD")
    assert run.path == "ws/p/run_x"
    wandb.termwarn("careful")
    assert capsys.readouterr().err == "wandb: WARNING careful\n"
    assert wandb.Settings(start_method="thread").start_method == "thread"  # type: ignore[attr-defined]


def test_summary_is_sent_with_the_first_row_then_at_most_every_30_seconds() -> None:
    recorder, clock = Recorder(), FakeClock()
    run = make_run(recorder, clock)
    run.log({"loss": 3.0})
    clock.advance(10)
    run.log({"loss": 2.0})
    assert recorder.config == [{"summary.loss": 3.0}]
    clock.advance(25)
    run.log({"loss": 1.0, "acc": 0.5})
    assert recorder.config[-1] == {"summary.loss": 1.0, "summary.acc": 0.5}
    assert len(recorder.config) == 2
    run.summary["best"] = 1.0
    run.finish()
    assert recorder.config[-1] == {"summary.best": 1.0}  # only what changed


def test_a_large_summary_is_sent_in_patches_rundial_accepts() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    run.log({f"class_{i}/acc": i / 1000 for i in range(600)})
    assert [len(patch) for patch in recorder.config] == [256, 256, 88]
    merged = {k: v for patch in recorder.config for k, v in patch.items()}
    assert merged["summary.class_599/acc"] == 0.599


CRASH_SCRIPT = """
import rundial.compat.wandb as wandb
run = wandb.init(project="p", endpoint="http://127.0.0.1:9", spool_directory={spool!r},
                 system_metrics=False, mode="offline")
print(run.id, flush=True)
wandb.log({{"loss": 1.0}})
wandb.log({{"loss": 0.5}}, commit=False)
raise RuntimeError("diverged")
"""


def test_an_uncaught_exception_sends_the_open_row_and_summary_then_fails_the_run(
        tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "RUNDIAL_"))}
    env["HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", CRASH_SCRIPT.format(spool=str(spool))], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "RuntimeError: diverged" in out.stderr
    assert out.stderr.count("Traceback") == 1
    run_id = out.stdout.split()[0]
    doc = json.loads((spool / run_id / "run.json").read_text())
    assert doc["finalStatus"]["status"] == "failed"
    assert doc["config"]["summary.loss"] == 0.5
    bodies = [json.loads(gzip.decompress(seg.read_bytes()))
              for seg in (spool / run_id).rglob("*.json.gz")]
    assert sorted(row[0] for body in bodies for row in body.get("rows", [])) == [0, 1]


def test_name_notes_and_tags_are_run_edits_the_rest_stays_local_with_a_warning() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    run.name = "renamed"
    run.notes = "tried a lower lr"
    run.tags = ("a", "b")
    assert recorder.edits == [{"runName": "renamed"}, {"notes": "tried a lower lr"},
                              {"tags": ["a", "b"]}]
    with pytest.warns(RuntimeWarning, match="kept in this process only") as caught:
        run.group = "g2"
    assert run.group == "g2" and caught[0].filename == __file__
    with pytest.warns(RuntimeWarning, match="is below the current step") as caught:
        run.log({"a": 1}, step=3)
        run.log({"a": 1}, step=1)
    assert caught[0].filename == __file__


class FakeFigure:
    """Duck-types a matplotlib figure: draws a 3x2 red PNG."""

    def get_size_inches(self) -> tuple[float, float]:
        return (1.0, 1.0)

    def savefig(self, buf: object, format: str = "png") -> None:
        assert format == "png"
        rgb = np.zeros((2, 3, 3), dtype=np.uint8)
        rgb[..., 0] = 255
        PIL.fromarray(rgb).save(buf, format="PNG")  # type: ignore[arg-type]


class FakeFrame:
    """Duck-types a pandas DataFrame."""

    columns = ["a", "b"]
    iloc = None

    class values:  # noqa: N801 - mirrors DataFrame.values
        @staticmethod
        def tolist() -> list[list[object]]:
            return [[1, "x"], [2, "y"]]


def test_figures_and_dataframes_become_images_and_tables() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    run.log({"fig": FakeFigure(), "df": FakeFrame(), "wrapped": wandb.Image(FakeFigure())})
    logged = {k: v for _s, row in recorder.calls for k, v in row.items()}
    assert pixels(logged["fig"]).tolist()[0][0] == [255, 0, 0]
    assert pixels(logged["wrapped"]).shape == (2, 3, 3)
    assert logged["df"].columns == ["a", "b"] and logged["df"].rows == [[1, "x"], [2, "y"]]


def test_eval_tables_keep_their_column_roles() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    table = wandb.EvalTable(columns=["image", "label", "pred", "correct"],
                            data=[[wandb.Image(np.zeros((2, 2), dtype=np.uint8)), 1, 1, True]],
                            input_columns=["image", "label"], output_columns=["pred"],
                            score_columns=["correct"])
    run.log({"epoch": 1, "val_predictions": table})
    logged = {k: v for _s, row in recorder.calls for k, v in row.items()}
    assert logged["val_predictions"].metadata == {
        "rundial.kind": "eval_table", "inputColumns": ["image", "label"],
        "outputColumns": ["pred"], "scoreColumns": ["correct"]}
    assert logged["val_predictions"].rows == [["media:val_predictions/image#0", 1, 1, True]]
    assert "val_predictions/image" in logged
    with pytest.raises(ValueError, match="lacks"):
        wandb.EvalTable(columns=["a"], data=[[1]], input_columns=["b"])


def test_globs_match_prefixes_only_and_nan_is_not_aggregated() -> None:
    run = make_run(Recorder())
    run.define_metric("val/*", summary="max")
    run.define_metric("a*b", summary="min")        # a glob W&B never matches
    run.define_metric("acc[0]", summary="min")     # brackets are no glob
    run.log({"val/x": 1.0, "val/y/z": 2.0, "axb": 5.0, "acc[0]": 0.3, "_hidden": 1})
    run.log({"val/x": float("nan"), "acc[0]": 0.1})
    assert run.summary["val/y/z"] == {"max": 2.0} and run.summary["val/x"] == {"max": 1.0}
    assert run.summary["axb"] == 5.0 and run.summary["acc[0]"] == {"min": 0.1}


def test_incremental_tables_log_only_new_rows() -> None:
    recorder = Recorder()
    run = make_run(recorder)
    table = wandb.Table(columns=["step", "text"], log_mode="INCREMENTAL")
    table.add_data(0, "a")
    run.log({"samples": table})
    table.add_data(1, "b")
    table.add_data(2, "c")
    run.log({"samples": table})
    logged = [row["samples"].rows for _s, row in recorder.calls]
    assert logged == [[[0, "a"]], [[1, "b"], [2, "c"]]]
    with pytest.raises(ValueError, match="log_mode"):
        wandb.Table(log_mode="APPEND")


def test_copy_and_none_summaries() -> None:
    run = make_run(Recorder())
    run.define_metric("a", summary="copy")
    run.define_metric("b", summary="min,none")
    run.define_metric("c", summary="last,first")
    for value in (3.0, 1.0, 2.0):
        run.log({"a": value, "b": value, "c": value})
    assert dict(run.summary) == {"a": 2.0, "c": {"first": 3.0, "last": 2.0}}
