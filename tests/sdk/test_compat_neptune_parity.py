"""Differences from the real ``neptune`` client found by running public Neptune examples under
both (tests/compat/test_neptune_real_examples.py), each pinned here on the collector double."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

import rundial as rd
import rundial.compat.neptune as neptune
from tests.sdk.compat_support import final_status, options, run_meta, sent_config
from tests.sdk.conftest import CollectorDouble

SEED = 1234


@pytest.fixture
def opts(double: CollectorDouble, tmp_path: Path, isolated_env: Path,
         monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    for name in ("NEPTUNE_PROJECT", "NEPTUNE_MODE", "NEPTUNE_CUSTOM_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    return {**options(double, tmp_path), "capture_stdout": False, "capture_stderr": False}


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
