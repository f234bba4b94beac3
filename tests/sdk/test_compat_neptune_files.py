"""Neptune's in-memory ``File`` values in the shim (``from_content``, ``from_stream``,
``as_html``, ``as_pickle``) and their staging directory: the bytes and extensions neptune
1.14 produces, and the errors for what it refuses."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest

import rundial.compat.neptune as neptune
from rundial.compat.neptune._content import ContentDir, html_chart
from rundial.compat.neptune.types import File
from tests.sdk.compat_support import options, sent_config
from tests.sdk.conftest import CollectorDouble


def test_from_content_encodes_text_and_keeps_bytes() -> None:
    """Text is UTF-8 with extension txt, bytes keep theirs as bin, unless one is given."""
    text = File.from_content("zażółć")
    assert (text.content, text.extension) == ("zażółć".encode(), "txt")
    raw = File.from_content(b"\x00\x01")
    assert (raw.content, raw.extension) == (b"\x00\x01", "bin")
    assert File.from_content("<p/>", extension="html").extension == "html"
    with pytest.raises(TypeError, match="str or bytes, not int"):
        File.from_content(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="extension must be a str"):
        File.from_content("x", extension=3)  # type: ignore[arg-type]


def test_from_stream_reads_from_seek() -> None:
    """The stream is read from ``seek`` (0 by default; None leaves it where it is); a text
    stream is UTF-8 (txt), a binary one bin; anything but a stream is a TypeError."""
    assert File.from_stream(io.BytesIO(b"0123456789"), seek=4).content == b"456789"
    text = io.StringIO("héllo")
    text.read()
    made = File.from_stream(text)
    assert (made.content, made.extension) == ("héllo".encode(), "txt")
    moved = io.BytesIO(b"abcdef")
    moved.read(2)
    assert File.from_stream(moved, seek=None, extension="csv").content == b"cdef"
    with pytest.raises(TypeError, match="io stream, not bytes"):
        File.from_stream(b"abc")


def test_as_pickle_and_as_html_of_a_dataframe() -> None:
    """as_pickle is pickle.dumps (pkl); as_html of a DataFrame is its to_html() (html); a value
    as_html cannot convert is a ValueError naming its type."""
    pd = pytest.importorskip("pandas")
    assert pickle.loads(File.as_pickle({"a": [1, 2]}).content or b"") == {"a": [1, 2]}
    frame = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    html = File.as_html(frame)
    assert (html.content, html.extension) == (frame.to_html().encode(), "html")
    with pytest.raises(ValueError, match="not list"):
        File.as_html([1, 2])
    assert not html_chart(frame)


def test_staging_writes_each_file_apart_and_removes_only_when_delivered() -> None:
    """Two files of the same name do not overwrite each other; close(False) keeps them (the
    spooled uploads read them later), close(True) removes them."""
    staged = ContentDir()
    first, second = staged.stage("a.txt", b"1"), staged.stage("a.txt", b"2")
    assert first != second and (first.read_bytes(), second.read_bytes()) == (b"1", b"2")
    assert first.name == "a.txt"
    kept = staged.close(False)
    assert kept is not None and first.exists()
    again = ContentDir()
    path = again.stage("b.bin", b"x")
    assert again.close(True) is None and not path.parent.parent.exists()
    assert ContentDir().close(True) is None


def test_in_memory_file_cannot_join_a_series(double: CollectorDouble, tmp_path: Path,
                                             isolated_env: Path) -> None:
    """Only images can be appended to a file series (Neptune: OperationNotSupported)."""
    run = neptune.init_run(project="ws/proj", capture_stdout=False, capture_stderr=False,
                           **options(double, tmp_path))
    with pytest.raises(TypeError, match="only images can be appended"):
        run["reports"].append(File.from_content("<p/>", extension="html"))
    run.rundial_run.abort("test", 0)


def test_track_files_records_the_artifact_hash(double: CollectorDouble, tmp_path: Path,
                                              isolated_env: Path) -> None:
    """track_files stores the hash of the files (not their bytes) as the field's value and
    fetch_hash answers it; a second call adds files (a new hash), the same files under another
    directory give the same hash, a changed byte another; remote locations, wildcards and
    empty locations are refused."""
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "train.csv").write_text("a,b\n1,2\n")
    (data / "sub" / "test.csv").write_text("a,b\n3,4\n")
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "train.csv").write_text("a,b\n1,2\n")
    run = neptune.init_run(project="ws/proj", capture_stdout=False, capture_stderr=False,
                           **options(double, tmp_path))
    run["datasets/all"].track_files(str(data))
    run["datasets/train"].track_files(str(data / "train.csv"))
    run["datasets/copy"].track_files(f"file://{copy / 'train.csv'}")
    first = run["datasets/all"].fetch_hash()
    assert len(first) == 64 and run["datasets/train"].fetch_hash() == run[
        "datasets/copy"].fetch_hash() != first
    run["datasets/train"].track_files(str(data / "sub"), destination="more")
    assert run["datasets/train"].fetch_hash() not in (first, run["datasets/copy"].fetch_hash())
    (copy / "train.csv").write_text("a,b\n1,3\n")
    run["datasets/changed"].track_files(str(copy / "train.csv"))
    assert run["datasets/changed"].fetch_hash() != run["datasets/copy"].fetch_hash()
    with pytest.raises(NotImplementedError, match="remote location"):
        run["datasets/s3"].track_files("s3://bucket/data")
    with pytest.raises(ValueError, match="wildcards"):
        run["datasets/glob"].track_files(str(data / "*.csv"))
    with pytest.raises(ValueError, match="no files"):
        run["datasets/none"].track_files(str(tmp_path / "missing"))
    run.stop()
    config = sent_config(double)
    assert config["datasets/all"] == first
    assert "datasets/s3" not in config and "datasets/none" not in config


def test_debug_mode_stages_no_content(tmp_path: Path, isolated_env: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A debug-mode run records nothing, so an in-memory file is not even written to disk."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    run = neptune.init_run(project="ws/proj", mode="debug", capture_stdout=False,
                           capture_stderr=False)
    run["report"].upload(File.from_content("<p/>", extension="html"))
    run["report"].upload(File.as_pickle([1]))
    run.stop()
    assert list(tmp_path.glob("rundial-neptune-*")) == []
