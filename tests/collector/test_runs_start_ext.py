"""runs/start and config extensions (docs/protocol.md §4.5): config lists (#13.7), the client's
recorded start time (#13.5) and the start token (#13.14)."""

from __future__ import annotations

import time

import pytest

from tests.collector.control import (V1, Target, assert_error, call, details, finish, new_target,
                                     start_run, unique)
from tests.helpers.collector_proc import CollectorProcess
from tests.helpers.store_backends import shared_collector_per_backend  # noqa: F401

pytestmark = pytest.mark.both_stores

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def target(shared_collector: CollectorProcess) -> Target:
    return new_target(shared_collector)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_config_lists_are_stored_and_merged(shared_collector: CollectorProcess,
                                            target: Target) -> None:
    """Lists and nested lists of scalars are kept, on start and in a config patch."""
    run_id = unique("lists")
    status, run = start_run(shared_collector, target, runId=run_id,
                            config={"betas": [0.9, 0.99], "grid": [[1, 2], [3, None]]})
    assert status == 201 and run["config"] == {"betas": [0.9, 0.99], "grid": [[1, 2], [3, None]]}
    status, run = call(shared_collector, "POST", f"{V1}/runs/{run_id}/config",
                       {"config": {"layers": ["a", "b"], "betas": [0.8]}})
    assert status == 200
    assert details(shared_collector, target, run_id)["config"] == {
        "betas": [0.8], "grid": [[1, 2], [3, None]], "layers": ["a", "b"]}


def test_config_list_with_an_object_is_a_400_naming_the_key(shared_collector: CollectorProcess,
                                                            target: Target) -> None:
    run_id = unique("badlist")
    assert start_run(shared_collector, target, runId=run_id)[0] == 201
    status, payload = call(shared_collector, "POST", f"{V1}/runs/{run_id}/config",
                           {"config": {"opt": [1, {"lr": 2}]}})
    assert_error(status, payload, 400, "INVALID_REQUEST", "config.opt")


def test_started_at_is_the_clients_recorded_start(shared_collector: CollectorProcess,
                                                  target: Target) -> None:
    """A run registered an hour late keeps its real start, before its finish."""
    started = now_ms() - HOUR_MS
    run_id = unique("late")
    status, run = start_run(shared_collector, target, runId=run_id, startedAtMs=started)
    assert status == 201 and run["startedAtMs"] == started
    assert finish(shared_collector, run_id, finishedAtMs=started + 1000)[0] == 200
    run = details(shared_collector, target, run_id)
    assert run["startedAtMs"] == started < run["finishedAtMs"]


@pytest.mark.parametrize("given", [5, -1 + 946_684_800_000, "future"])
def test_started_at_out_of_bounds_uses_the_server_clock(shared_collector: CollectorProcess,
                                                        target: Target, given: object) -> None:
    """Before 2000 the server's time is used; a future start is capped at the server's now."""
    before = now_ms()
    value = now_ms() + 24 * HOUR_MS if given == "future" else given
    status, run = start_run(shared_collector, target, runId=unique("bounds"), startedAtMs=value)
    assert status == 201 and before <= run["startedAtMs"] <= now_ms()


def test_attach_only_moves_the_start_earlier(shared_collector: CollectorProcess,
                                             target: Target) -> None:
    run_id = unique("attach")
    first = now_ms() - 2 * HOUR_MS
    assert start_run(shared_collector, target, runId=run_id, startedAtMs=first)[0] == 201
    status, run = start_run(shared_collector, target, runId=run_id, resume="allow",
                            startedAtMs=first + HOUR_MS)
    assert status == 200 and run["startedAtMs"] == first
    status, run = start_run(shared_collector, target, runId=run_id, resume="allow",
                            startedAtMs=first - HOUR_MS)
    assert status == 200 and run["startedAtMs"] == first - HOUR_MS


def test_a_repeated_start_with_the_same_token_is_idempotent(shared_collector: CollectorProcess,
                                                            target: Target) -> None:
    """The answer to our first start was lost: the retry (same run id and token) is a 200
    with the run unchanged; another client's start of that id is still a 409, marked."""
    run_id = unique("token")
    status, created = start_run(shared_collector, target, runId=run_id, startToken="st_mine",
                                config={"a": 1})
    assert status == 201
    status, again = start_run(shared_collector, target, runId=run_id, startToken="st_mine",
                              config={"a": 1})
    assert status == 200 and again["created"] is False and again["runId"] == run_id
    assert again["config"] == {"a": 1}
    status, payload = start_run(shared_collector, target, runId=run_id, startToken="st_other")
    assert_error(status, payload, 409, "CONFLICT", "runId")
    assert payload["startTokenMatched"] is False


def test_a_start_without_a_token_behaves_as_in_v1(shared_collector: CollectorProcess,
                                                  target: Target) -> None:
    """rc1 clients send no token: a conflicting start is the v1 409, with no new field."""
    run_id = unique("rc1")
    assert start_run(shared_collector, target, runId=run_id, startToken="st_x")[0] == 201
    status, payload = start_run(shared_collector, target, runId=run_id)
    assert_error(status, payload, 409, "CONFLICT", "runId")
    assert "startTokenMatched" not in payload


def test_a_token_of_another_project_does_not_attach(shared_collector: CollectorProcess,
                                                    target: Target) -> None:
    other = new_target(shared_collector)
    run_id = unique("xproj")
    assert start_run(shared_collector, target, runId=run_id, startToken="st_same")[0] == 201
    status, payload = start_run(shared_collector, other, runId=run_id, startToken="st_same")
    assert_error(status, payload, 409, "CONFLICT", "runId")


@pytest.mark.parametrize("token", ["", "has space", "x" * 129, 5])
def test_bad_tokens_are_a_400(shared_collector: CollectorProcess, target: Target,
                              token: object) -> None:
    status, payload = start_run(shared_collector, target, runId=unique("badtok"), startToken=token)
    assert_error(status, payload, 400, "INVALID_REQUEST", "startToken")


def test_client_keeps_unknown_fields_and_is_bounded(shared_collector: CollectorProcess,
                                                    target: Target) -> None:
    """The client object is stored as sent (extension fields too); over 16 KiB it is a 400."""
    client = {"name": "x", "version": "1", "host": "node-7", "pid": 12, "gpu": {"n": [1, 2]}}
    run_id = unique("client")
    status, run = start_run(shared_collector, target, runId=run_id, client=client)
    assert status == 201 and run["host"] == "node-7", run
    assert details(shared_collector, target, run_id)["host"] == "node-7"
    status, body = start_run(shared_collector, target, runId=unique("client"),
                             client={"name": "x", "blob": "a" * (16 * 1024)})
    assert_error(status, body, 400, "INVALID_REQUEST")
    assert body["error"]["details"]["field"] == "client"
