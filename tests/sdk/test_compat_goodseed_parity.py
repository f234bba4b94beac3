"""Differences from the real ``goodseed`` found by running public goodseed examples under both
(tests/compat/test_goodseed_real_examples.py), each pinned here on the collector double."""

from __future__ import annotations

import random

import pytest

from rundial.compat import goodseed
from tests.sdk.compat_support import run_meta, sent_config
from tests.sdk.conftest import CollectorDouble
from tests.sdk.test_compat_goodseed import opts  # noqa: F401  (the fixture, shared)

SEED = 99


def test_goodseed_02_spellings_still_work(double: CollectorDouble, opts: dict) -> None:
    """``experiment_name=`` and ``run_name=`` (goodseed 0.2, e.g. its examples/mlp.py) are the
    deprecated aliases of ``name=`` and ``run_id=``, with goodseed's DeprecationWarning."""
    with pytest.warns(DeprecationWarning, match="'experiment_name' is deprecated"):
        run = goodseed.Run(experiment_name="iris-mlp", project="ws/proj", **opts)
    run.close()
    assert sent_config(double)["sys/name"] == "iris-mlp"
    assert run_meta(double)[0] == "iris-mlp"
    with pytest.warns(DeprecationWarning, match="'run_name' is deprecated"):
        named = goodseed.Run(run_name="bold-falcon", project="ws/proj", **opts)
    assert named.run_id == "bold-falcon"
    named.close()


def test_an_alias_with_its_new_spelling_is_an_error(opts: dict) -> None:
    with pytest.raises(ValueError, match="both 'name' and deprecated alias 'experiment_name'"):
        goodseed.Run(name="a", experiment_name="b", project="ws/proj", **opts)
    with pytest.raises(ValueError, match="both 'run_id' and deprecated alias 'run_name'"):
        goodseed.Run(run_id="a", run_name="b", project="ws/proj", **opts)


def after_goodseed_draws(seed: int) -> float:
    """The next global random number after goodseed made up a run id (adjective, animal)."""
    rng = random.Random(seed)
    rng.choice(range(40))
    rng.choice(range(43))
    return rng.random()


def test_a_made_up_run_id_draws_from_global_random_as_goodseed_does(double: CollectorDouble,
                                                                      opts: dict) -> None:
    """goodseed draws two words for a run id it makes up; a given run id draws nothing."""
    random.seed(SEED)
    goodseed.Run(project="ws/proj", **opts).close()
    assert random.random() == after_goodseed_draws(SEED)
    random.seed(SEED)
    goodseed.Run(project="ws/proj", run_id="given-id", **opts).close()
    assert random.random() == random.Random(SEED).random()


def test_a_set_inside_a_dict_is_text_as_goodseed_stores_it(double: CollectorDouble,
                                                            opts: dict) -> None:
    """goodseed keeps a string set only at the top level; flattened out of a dict it is the
    set's str() (a top-level set keeps its type)."""
    with goodseed.Run(project="ws/proj", **opts) as run:
        run["optimizer"] = {"classes": {"only"}, "betas": (0.9, 0.99)}
        run.log_configs({"labels": {"cat"}})
    config = goodseed.restore_types(sent_config(double))
    assert config["optimizer/classes"] == "{'only'}"
    assert (config["optimizer/betas/0"], config["optimizer/betas/1"]) == (0.9, 0.99)
    assert config["labels"] == {"cat"}
