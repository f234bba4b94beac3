"""The shims' shared core (rundial.compat._keyed, _typed): paths, steps, names, typed values."""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys

import pytest

from rundial.compat import _keyed
from rundial.compat._typed import encode_entry, restore_types


def test_flatten_joins_namespaces_with_slashes() -> None:
    """Mappings and Namespaces nest with '/', keys as str; lists expand only when asked."""
    value = {"a": {"b": 1, 2: "x"}, "ns": argparse.Namespace(c=[1, 2])}
    assert _keyed.flatten("p", value) == [("p/a/b", 1), ("p/a/2", "x"), ("p/ns/c", [1, 2])]
    assert _keyed.flatten("", value, expand_lists=True)[-2:] == [("ns/c/0", 1), ("ns/c/1", 2)]
    assert _keyed.flatten("leaf", 3) == [("leaf", 3)]
    assert _keyed.join("/a/", "b/", "", "/c") == "a/b/c"


def test_series_steps_count_per_path() -> None:
    """None takes one past the path's highest step; take_increasing refuses a step not above
    the last; steps must be non-negative ints (integral floats accepted)."""
    steps = _keyed.SeriesSteps()
    assert [steps.take("a", None), steps.take("a", 5), steps.take("a", 2),
            steps.take("a", None), steps.take("b", None)] == [0, 5, 2, 6, 0]
    assert steps.take_increasing("a", 6) is None and steps.take_increasing("a", 8.0) == 8
    with pytest.raises(TypeError):
        steps.take("a", 0.5)
    with pytest.raises(ValueError):
        steps.take("a", -1)


def test_project_split_and_artifact_names() -> None:
    """'ws/proj' splits, a bare name is the project; field paths become valid artifact names."""
    assert _keyed.split_project("ws/proj") == ("ws", "proj")
    assert _keyed.split_project("proj") == (None, "proj")
    assert _keyed.split_project(None) == (None, None)
    for bad in ("/proj", "ws/", "a/b/c"):
        with pytest.raises(ValueError):
            _keyed.split_project(bad)
    assert _keyed.artifact_name("model/weights:best") == "model.weights_best"
    assert _keyed.artifact_name("/") == "file"


def test_typed_entries_and_unreadable_markers() -> None:
    """datetime and sets carry a marker; objects have no typed form; a marker whose value
    cannot be read back leaves the value as stored."""
    when = datetime.datetime(2024, 1, 1)
    assert encode_entry("t", when) == {"t": "2024-01-01T00:00:00", "rundial.types/t": "datetime"}
    assert encode_entry("s", {2, 1}) == {"s": ["1", "2"], "rundial.types/s": "string_set"}
    with pytest.raises(ValueError, match="no typed form"):
        encode_entry("o", object())
    assert restore_types({"t": "yesterday", "rundial.types/t": "datetime",
                          "s": "x", "rundial.types/s": "string_set"}) == {"t": "yesterday", "s": "x"}


def test_importing_the_shims_stays_light() -> None:
    """The shims import neither numpy, torch, pillow nor aiohttp."""
    code = ("import sys, rundial.compat.neptune, rundial.compat.goodseed, "
            "rundial.compat.neptune.utils; "
            "print(sorted(m for m in ('numpy', 'torch', 'PIL', 'aiohttp') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out
