"""One valid request per JSON route of the collector, for tests that mutate or break them.

:func:`valid_requests` gives (method, path, body) for every route that takes a JSON body or a
query string, aimed at one run of the bootstrap project. Bodies are valid as given (each one
answers 2xx, or 404 where it names an object the test did not create).
"""

from __future__ import annotations

from typing import Any

from tests.collector.control import V1

SHA = "a" * 64


def valid_requests(pid: str, run: str, ws: str, proj: str) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body or None) for every JSON or query-string route."""
    point = {"projectId": pid, "runId": run, "metricKey": "k", "step": 1,
             "timestampMs": 1_700_000_000_000, "value": 0.5}
    keys = f"{V1}/workspaces/{ws}/projects/{proj}/api-keys"
    return [
        ("POST", f"{V1}/ingest/metrics", {"points": [point],
                                          "clientDiagnostics": {"capturedAtMs": 1}}),
        ("POST", f"{V1}/ingest/metrics", {"projectId": pid, "runId": run, "rank": 0,
                                          "rows": [[1, 1, {"a": 1.0}], [2, 2, {"a": 2.0}]]}),
        ("POST", f"{V1}/ingest/logs", {"projectId": pid, "runId": run, "lines": [
            {"timestampMs": 1, "sequence": 1, "level": "info", "message": "m"}]}),
        ("POST", f"{V1}/ingest/traces", {"projectId": pid, "runId": run, "spans": [
            {"traceId": "t", "spanId": "s", "name": "n", "startNs": "1", "endNs": "2"}]}),
        ("POST", f"{V1}/ingest/media", {"projectId": pid, "runId": run, "items": [
            {"mediaKey": "m", "mediaType": "image", "step": 1, "timestampMs": 1,
             "artifactPath": "f", "artifactId": "art_x", "artifactVersion": 1,
             "artifactSha256": SHA}]}),
        ("POST", f"{V1}/query/series", {"projectId": pid, "runId": run, "metricKeys": ["k"],
                                        "maxPointsPerSeries": 10, "rank": 0}),
        ("POST", f"{V1}/query/chart", {"projectId": pid, "buckets": 100, "startStep": 0,
                                       "endStep": 10, "series": [{"runId": run,
                                                                  "metricKey": "k"}]}),
        ("POST", f"{V1}/export/metrics", {"projectId": pid, "runId": run, "startMs": 0,
                                          "endMs": 2_000_000_000_000, "limit": 10}),
        ("POST", f"{V1}/query/logs", {"projectId": pid, "runId": run, "limit": 5,
                                      "startMs": 0, "endMs": 2_000_000_000_000}),
        ("POST", f"{V1}/export/logs", {"projectId": pid, "runId": run, "startMs": 0,
                                       "endMs": 2_000_000_000_000}),
        ("POST", f"{V1}/query/spans", {"projectId": pid, "runId": run, "limit": 10}),
        ("POST", f"{V1}/runs/resolve-target", {"workspace": ws, "project": proj}),
        ("POST", f"{V1}/runs/start", {"projectId": pid, "runId": run, "resume": "allow",
                                      "config": {"lr": 0.1}, "tags": ["a"],
                                      "client": {"name": "t", "version": "0"}}),
        ("POST", f"{V1}/runs/{run}/config", {"config": {"x": 1}}),
        ("POST", f"{V1}/runs/{run}/heartbeat", {"projectId": pid, "status": "running"}),
        ("POST", f"{V1}/runs/{run}-other/status", {"status": "completed",
                                                   "finishedAtMs": 1_700_000_000_000}),
        ("POST", f"{V1}/artifacts/initiate", {"projectId": pid, "runId": run, "name": "a",
                                              "files": [{"path": "f", "sizeBytes": 3,
                                                         "sha256": SHA}],
                                              "metadata": {"m": 1}}),
        ("POST", f"{V1}/artifacts/finalize", {"projectId": pid, "runId": run,
                                              "artifactId": "art_x", "uploadId": "upl_x",
                                              "multipartParts": [{"path": "f", "parts": [
                                                  {"partNumber": 1, "etag": "e"}]}]}),
        ("POST", f"{V1}/artifacts/use", {"projectId": pid, "runId": run, "artifactRef": "a"}),
        ("POST", f"{V1}/artifacts/download", {"projectId": pid, "artifactId": "art_x",
                                              "path": "f"}),
        ("POST", keys, {"scopes": ["project:read"], "label": "x",
                        "expiresAtMs": 4_000_000_000_000}),
        ("POST", f"{V1}/workspaces", {"slug": "fuzz-ws", "name": "n"}),
        ("GET", f"{V1}/media?projectId={pid}&runId={run}&step=1&limit=5&cursor=0", None),
        ("GET", f"{V1}/metrics/keys?projectId={pid}&runId={run}&limit=5", None),
        ("GET", f"{V1}/workspaces/{ws}/projects/{proj}/runs/query?limit=5", None),
        ("GET", f"{V1}/workspaces?limit=5", None),
        ("POST", f"{V1}/evals/suites", {"orgId": "org_local", "projectId": pid, "name": "s",
                                        "dataset": {"name": "d", "version": "1",
                                                    "artifactRef": "d:1"},
                                        "scorers": [{"name": "x", "kind": "k",
                                                     "config": {"t": 1}}]}),
        ("POST", f"{V1}/evals/runs", {"projectId": pid, "suiteId": "evs_missing",
                                      "config": {"m": 1}, "evalRunId": "evr_fuzz"}),
        ("POST", f"{V1}/evals/results", {"projectId": pid, "evalRunId": "evr_fuzz", "rows": [
            {"evalRunId": "evr_fuzz", "exampleId": "e", "scorer": "x", "score": 1.0,
             "passed": True, "traceId": "t", "evidenceRef": {"artifactId": "a", "path": "p"},
             "meta": {"m": [1, "a"]}}]}),
        ("POST", f"{V1}/query/evals/diff", {"projectId": pid, "baselineEvalRunId": "evr_fuzz",
                                            "candidateEvalRunId": "evr_fuzz", "limit": 5,
                                            "scorer": "x"}),
        ("GET", f"{V1}/evals/runs/evr_fuzz/results?projectId={pid}&limit=5", None),
    ]
