"""Run name and tags changed after init (``Run._update_meta``, used by the import-swap shims):
part of the start request before registration, a run edit (PATCH, protocol §4.9) after it."""

from __future__ import annotations

import json

from tests.sdk.conftest import CollectorDouble, MakeRun

STARTED = (201, {}, json.dumps({"runId": "run_test", "projectId": "prj_1",
                                "workspaceSlug": "w 1", "projectSlug": "p1"}).encode())


def patches(double: CollectorDouble) -> list[tuple[str, dict | None]]:
    return [(path, doc) for method, path, doc in double.calls if method == "PATCH"]


def test_an_edit_before_registration_rides_on_the_start(make_run: MakeRun,
                                                        double: CollectorDouble) -> None:
    """Name and tags set before the first cycle are in runs/start; no PATCH is sent."""
    run = make_run(name="first", tags=["a"])
    run._update_meta({"runName": "second", "tags": ["a", "b"]})
    run._worker.cycle()
    start = next(doc for _m, path, doc in double.calls if path.endswith("/runs/start"))
    assert (start["runName"], start["tags"]) == ("second", ["a", "b"])
    assert run.finish(timeout_s=5.0) and patches(double) == []


def test_an_edit_after_registration_is_a_patch_to_the_started_project(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """After the start, the edit goes to the workspace/project slugs the start answer named
    (quoted); a retryable failure keeps it pending, and later edits merge into it."""
    double.script["/runs/start"] = [STARTED]
    double.script["/runs/run_test"] = [(503, {}, b"{}")]
    run = make_run()
    run._worker.cycle()
    run._update_meta({"tags": ["x"]})
    run._worker.cycle()
    run._update_meta({"runName": "renamed"})
    run._worker.backoff.until = 0.0
    assert run.finish(timeout_s=5.0)
    assert patches(double) == [
        ("/api/v1/workspaces/w%201/projects/p1/runs/run_test", {"tags": ["x"]}),
        ("/api/v1/workspaces/w%201/projects/p1/runs/run_test", {"tags": ["x"], "runName": "renamed"})]


def test_a_refused_edit_is_counted_not_retried(make_run: MakeRun, double: CollectorDouble) -> None:
    """A 400 (e.g. a tag over the edit limits) sets last_error and is not sent again; without
    slugs in the start answer (and a project-id target) nothing is sent and the error says so."""
    double.script["/runs/start"] = [STARTED]
    double.script["/runs/run_test"] = [(400, {}, json.dumps(
        {"error": {"code": "INVALID_REQUEST", "message": "bad tag"}}).encode())]
    run = make_run()
    run._worker.cycle()
    run._update_meta({"tags": ["t" * 65]})
    run._worker.cycle()
    run._worker.cycle()
    assert len(patches(double)) == 1 and "bad tag" in (run.diagnostics().last_error or "")
    run.finish(timeout_s=5.0)

    other = CollectorDouble()
    from rundial import MockTransport
    run = make_run(run_id="run_other", transport_=MockTransport(other))
    run._worker.cycle()
    run._update_meta({"runName": "x"})
    run._worker.cycle()
    assert patches(other) == [] and "named no workspace" in (run.diagnostics().last_error or "")
    run.finish(timeout_s=5.0)


def test_notes_set_before_registration_are_a_patch_after_the_start(
        make_run: MakeRun, double: CollectorDouble) -> None:
    """runs/start has no notes field: notes set before registration stay pending and go out
    as a run edit once the start answered (name and tags still ride on the start)."""
    double.script["/runs/start"] = [STARTED]
    run = make_run()
    run._update_meta({"notes": "from a W&B script", "runName": "named"})
    run._worker.cycle()
    start = next(doc for _m, path, doc in double.calls if path.endswith("/runs/start"))
    assert start["runName"] == "named" and "notes" not in start
    assert run.finish(timeout_s=5.0)
    assert patches(double) == [
        ("/api/v1/workspaces/w%201/projects/p1/runs/run_test", {"notes": "from a W&B script"})]
