"""The deployment's PostgreSQL server settings (store/postgres/server_settings.py), which
``make run-cluster`` and the benchmarks start PostgreSQL with: a real PostgreSQL 15 accepts
them and runs with them."""

from __future__ import annotations

import pytest

from rundial_collector.store.postgres.server_settings import DEPLOYMENT_SETTINGS, server_options
from tests.helpers.postgres import private_cluster


def test_postgres_runs_with_the_deployment_settings() -> None:
    """Every setting is in effect in a server started with :func:`server_options`."""
    with private_cluster() as cluster:
        cluster.stop()
        cluster.extra_options = server_options()
        cluster.start()
        for name, value in DEPLOYMENT_SETTINGS.items():
            assert cluster.psql(f"SHOW {name}").strip() == value


def test_options_are_one_c_flag_per_setting() -> None:
    assert server_options({"a": "1", "b_c": "2MB"}) == "-c a=1 -c b_c=2MB"


@pytest.mark.parametrize("name, value", [("shared buffers", "1"), ("a", "1 -c fsync=off"),
                                         ("a", "'x'"), ("", "1")])
def test_a_setting_the_shell_would_split_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValueError, match="no spaces or quotes"):
        server_options({name: value})
