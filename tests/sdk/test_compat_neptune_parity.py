"""Differences from the real ``neptune`` client found by running public Neptune examples under
both (tests/compat/test_neptune_real_examples.py), each pinned here on the collector double."""

from __future__ import annotations

import random
import string
from datetime import datetime, timezone
from pathlib import Path

import pytest

import rundial as rd
import rundial.compat.neptune as neptune
from rundial.compat.neptune.utils import stringify_unsupported
from tests.sdk.compat_support import final_status, options, run_meta, sent_config
from tests.sdk.conftest import CollectorDouble
from tests.sdk.test_compat_neptune import opts  # noqa: F401  (the fixture, shared)

SEED = 1234


def after_neptune_draws(seed: int, draws: int) -> float:
    """The next global random number of a script seeded with ``seed`` after Neptune's
    ``draws`` choices of its 36-character key alphabet."""
    rng = random.Random(seed)
    for _ in range(draws):
        rng.choice(string.ascii_lowercase + string.digits)
    return rng.random()


def test_a_run_without_name_gets_neptune_defaults(double: CollectorDouble, opts: dict) -> None:
    """Neptune writes sys/name "Untitled" and sys/description "" for a new run; the rundial
    run itself stays unnamed (no rename to "Untitled")."""
    run = neptune.init_run(project="ws/proj", **opts)
    run.stop()
    config = sent_config(double)
    assert (config["sys/name"], config["sys/description"]) == ("Untitled", "")
    assert run_meta(double)[0] is None
    assert final_status(double) == "completed"


def test_a_named_run_keeps_its_name_and_description(double: CollectorDouble,
                                                    opts: dict) -> None:
    run = neptune.init_run(project="ws/proj", name="baseline", description="first try", **opts)
    run.stop()
    config = sent_config(double)
    assert (config["sys/name"], config["sys/description"]) == ("baseline", "first try")
    assert run_meta(double)[0] == "baseline"


def test_init_run_draws_from_global_random_as_neptune_does(opts: dict) -> None:
    """A seeded script's random numbers after init_run are Neptune's: 8 draws for its data
    directory key; debug mode (no data directory) draws nothing."""
    random.seed(SEED)
    run = neptune.init_run(project="ws/proj", **opts)
    assert random.random() == after_neptune_draws(SEED, 8)
    run.stop()
    random.seed(SEED)
    neptune.init_run(project="ws/proj", mode="debug").stop()
    assert random.random() == after_neptune_draws(SEED, 0)


def test_a_run_leaves_the_global_random_state_alone(double: CollectorDouble, tmp_path: Path,
                                                    isolated_env: Path) -> None:
    """rundial's worker jitters its flushes with its own generator: logging, flushing and
    finishing never move a seeded script's global random state."""
    random.seed(SEED)
    state = random.getstate()
    run = rd.init(project="proj", flush_interval_seconds=0.1, **options(double, tmp_path))
    for step in range(50):
        run.log({"loss": 1.0 / (step + 1)}, step=step)
        if step % 10 == 0:
            run.flush(5.0)
    run.finish()
    assert random.getstate() == state


def test_assigned_values_are_cast_as_neptune_casts(double: CollectorDouble,
                                                   opts: dict) -> None:
    """Anything float() accepts that is not a Python bool/int/float/str is a Float (numpy ints
    and bools too); an int beyond 32 bits and NaN are skipped with a warning; datetimes keep
    milliseconds. Through stringify_unsupported the big int is a float and NaN its text."""
    import numpy as np

    run = neptune.init_run(project="ws/proj", **opts)
    run["np/int"] = np.int64(7)
    run["np/bool"] = np.bool_(True)
    run["np/float"] = np.float32(0.25)
    run["when"] = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)
    with pytest.warns(RuntimeWarning, match="outside the 32-bit range and is skipped"):
        run["big"] = 2**40
    with pytest.warns(RuntimeWarning, match="NaN or infinite and is skipped"):
        run["nan"] = float("nan")
    run["s"] = stringify_unsupported({"big": 2**40, "nan": float("nan"), "none": None})
    run.stop()
    config = neptune.restore_types(sent_config(double))
    picked = {k: config[k] for k in ("np/int", "np/bool", "np/float", "s/big", "s/nan", "s/none")}
    assert picked == {"np/int": 7.0, "np/bool": 1.0, "np/float": 0.25, "s/big": float(2**40),
                      "s/nan": "nan", "s/none": "None"}
    assert all(type(picked[k]) is float for k in ("np/int", "np/bool", "s/big"))
    assert config["when"] == datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
    assert "big" not in config and "nan" not in config


def test_stringify_unsupported_expands_sequences_on_request() -> None:
    """``expand=True`` turns lists, tuples and sets into dicts keyed by index (Neptune's)."""
    expanded = stringify_unsupported({"layers": [64, 32], "pair": ("a", 1)}, expand=True)
    assert {k: {i: v.value for i, v in d.items()} for k, d in expanded.items()} == {
        "layers": {"0": 64, "1": 32}, "pair": {"0": "a", "1": 1}}
    assert stringify_unsupported([1, 2]).value == [1, 2]


class _RecordingRun:
    """Stands in for the rundial run under a shim run: keeps what was logged."""

    id = "run_fake"
    state = "running"

    def __init__(self) -> None:
        self.logged: list[tuple[dict[str, object], int | None]] = []

    def log(self, row: dict[str, object], step: int | None = None, **_: object) -> None:
        self.logged.append((row, step))

    def update_config(self, patch: dict[str, object]) -> None:
        pass

    def finish(self, timeout_s: float | None = None) -> bool:
        self.state = "completed"
        return True


def test_a_pil_image_is_an_image_appended_or_assigned() -> None:
    """As Neptune casts PIL images (and matplotlib figures) with File.as_image, appending or
    assigning one logs image media instead of raising or warning."""
    from PIL import Image

    from rundial.compat.neptune._run import Run as ShimRun

    underneath = _RecordingRun()
    run = ShimRun(underneath)  # type: ignore[arg-type]
    picture = Image.new("RGB", (4, 4))
    run["series"].append(picture)
    run["series"].append(picture)
    run["single"] = picture
    run.stop()
    assert [(list(row), step) for row, step in underneath.logged] == [
        (["series"], 0), (["series"], 1), (["single"], 0)]
    assert all(isinstance(v, rd.Image) for row, _ in underneath.logged for v in row.values())
