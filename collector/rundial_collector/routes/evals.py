"""Eval write routes (v1 doc §5.6, §9; docs/protocol.md §9).

* ``POST /api/v1/evals/suites``: create a suite (201) or, for a ``suiteId`` already in the
  project, answer the stored one (200). Needs a write scope on the project.
* ``POST /api/v1/evals/runs``: create an eval run and its backing run (kind ``eval``, status
  ``running``) in one call (201), or answer an existing ``evalRunId`` of the same suite (200).
  The backing run is started through the resume matrix with ``allow``: a given ``runId`` that
  is running is attached, a terminal one is a 409. Without ``runId`` the backing run's id is
  derived from a given ``evalRunId`` (so a repeated create attaches the same run) or minted.
* ``POST /api/v1/evals/results``: result rows of one eval run; bad rows are rejected one by one
  (:mod:`rundial_collector.ingest.evals`), the rest stored after COMMIT: 202 ``{"accepted",
  "rejected", "errors"?}``. A row repeating an (example, scorer) key replaces the stored one,
  so at-least-once re-sends are harmless. Results for an eval run this collector has not seen
  are kept under the body's project (v1 doc §5.1); for an eval run of another project, 409.
  Needs ``evals:write``. Extension: ``workspace`` + ``project`` slugs may name the project
  instead of ``projectId`` (as on the other ingest bodies, docs/protocol.md §4.7).

The read routes live in :mod:`rundial_collector.routes.evals_query`.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

import msgspec
import orjson
from aiohttp import web

from rundial_collector.ingest.evals import results_from_rows
from rundial_collector.ingest.items import ItemErrors
from rundial_collector.live import hub  # live: publish after commit
from rundial_collector.routes import evals_query
from rundial_collector.routes.runs import Config, RunId, checked_config
from rundial_collector.routes.runs_read import run_entry
from rundial_collector.store.control_base import Run, RunStart
from rundial_collector.store.evals_base import EvalRun, EvalSuite, check_eval_run
from rundial_collector.web import auth, errors
from rundial_collector.web.appkeys import STORE
from rundial_collector.web.auth import ORG_ID, WRITE_SCOPES, Principal, ProjectRef
from rundial_collector.web.intbounds import json_int_problem
from rundial_collector.web.jsonbody import decode_body
from rundial_collector.web.responses import json_response
from rundial_collector.web.storeops import now_ms, store_errors, write_or_429

SCORER_CONFIG_MAX_BYTES = 16 * 1024
MAX_SCORERS = 256
MAX_ROWS = 10_000
Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Name = Annotated[str, msgspec.Meta(pattern=r"^[^\x00]{1,256}$")]
LongText = Annotated[str, msgspec.Meta(pattern=r"^[^\x00]{1,1024}$")]
ScorerName = Annotated[str, msgspec.Meta(pattern=r"^[^\x00]{1,128}$")]


class DatasetIn(msgspec.Struct):
    name: Name
    version: Name
    artifactRef: LongText
    datasetId: RunId | None = None


class ScorerIn(msgspec.Struct):
    name: ScorerName
    kind: Name | None = None
    config: dict[str, Any] | None = None


class SuiteBody(msgspec.Struct):
    projectId: Ref
    name: Name
    dataset: DatasetIn
    scorers: Annotated[list[ScorerIn], msgspec.Meta(min_length=1, max_length=MAX_SCORERS)]
    orgId: Ref | None = None
    suiteId: RunId | None = None


class EvalRunBody(msgspec.Struct):
    projectId: Ref
    suiteId: RunId
    orgId: Ref | None = None
    config: Config | None = None
    runId: RunId | None = None
    evalRunId: RunId | None = None


class ResultsBody(msgspec.Struct):
    evalRunId: RunId
    rows: Annotated[list[Any], msgspec.Meta(max_length=MAX_ROWS)]
    projectId: Ref | None = None
    workspace: Ref | None = None
    project: Ref | None = None


async def writable_project(request: web.Request, principal: Principal, project_id: str | None,
                           org_id: str | None, scopes: frozenset[str], *,
                           workspace: str | None = None, project_slug: str | None = None
                           ) -> ProjectRef:
    """The body's project (``projectId``, else ``workspace`` + ``project`` slugs), which the
    key must hold one of ``scopes`` on; 404 for an ``orgId`` other than this collector's."""
    if org_id is not None and org_id != ORG_ID:
        raise errors.not_found(f"organisation {org_id} is not this collector's ({ORG_ID})")
    project = await auth.resolve_project(request, principal, project_id=project_id,
                                         workspace=workspace, project=project_slug)
    principal.require_any(scopes, project)
    return project


async def create_suite(request: web.Request) -> web.Response:
    """``{"suite": {...}, "dataset": {...}, "created"}``: 201 created, 200 existing."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, SuiteBody)
    project = await writable_project(request, principal, body.projectId, body.orgId,
                                     WRITE_SCOPES)
    if not body.name.strip():
        raise errors.invalid("name must not be blank", "name")
    wanted = EvalSuite(
        suite_id=body.suiteId or "evs_" + uuid.uuid4().hex, project_id=project.project_id,
        name=body.name.strip(), dataset_id=_dataset_id(project.project_id, body.dataset),
        dataset_name=body.dataset.name, dataset_version=body.dataset.version,
        dataset_ref=body.dataset.artifactRef, scorers_json=_scorers_json(body.scorers),
        created_ms=now_ms())
    suite, created = await write_or_429(request, request.app[STORE].create_eval_suite(wanted))
    return json_response(request, {**suite_payload(suite), "created": created},
                         status=201 if created else 200)


def _dataset_id(project_id: str, dataset: DatasetIn) -> str:
    """The given ``datasetId``, else one derived from the project and the dataset's fields."""
    if dataset.datasetId:
        return dataset.datasetId
    key = "\x00".join((project_id, dataset.name, dataset.version, dataset.artifactRef))
    return "ds_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _scorers_json(scorers: list[ScorerIn]) -> str:
    """The scorers as a JSON array; 400 for a repeated name or an unstorable config."""
    out: list[dict[str, Any]] = []
    for index, scorer in enumerate(scorers):
        if any(seen["name"] == scorer.name for seen in out):
            raise errors.invalid(f"scorer {scorer.name!r} is listed twice",
                                 f"scorers[{index}].name")
        entry: dict[str, Any] = {"name": scorer.name}
        if scorer.kind is not None:
            entry["kind"] = scorer.kind
        if scorer.config is not None:
            if (json_int_problem(scorer.config) is not None
                    or len(orjson.dumps(scorer.config)) > SCORER_CONFIG_MAX_BYTES):
                raise errors.invalid(f"a scorer config must encode to at most "
                                     f"{SCORER_CONFIG_MAX_BYTES} bytes with 64-bit integers",
                                     f"scorers[{index}].config")
            entry["config"] = scorer.config
        out.append(entry)
    return orjson.dumps(out).decode()


def suite_payload(suite: EvalSuite) -> dict[str, Any]:
    """The ``suite`` and ``dataset`` objects of a reply."""
    dataset = {"datasetId": suite.dataset_id, "name": suite.dataset_name,
               "version": suite.dataset_version, "artifactRef": suite.dataset_ref}
    return {"suite": {"suiteId": suite.suite_id, "projectId": suite.project_id,
                      "name": suite.name, "datasetId": suite.dataset_id,
                      "scorers": orjson.loads(suite.scorers_json),
                      "createdAtMs": suite.created_ms},
            "dataset": dataset}


async def create_eval_run(request: web.Request) -> web.Response:
    """``{"evalRun": {...}, "run": {...}, "created"}``: 201 created, 200 existing."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, EvalRunBody)
    project = await writable_project(request, principal, body.projectId, body.orgId,
                                     WRITE_SCOPES)
    config = checked_config(body.config)
    store = request.app[STORE]
    suite = await store.get_eval_suite(body.suiteId)
    if suite is None or suite.project_id != project.project_id:
        raise errors.not_found(f"eval suite {body.suiteId} was not found in "
                               f"{project.workspace_slug}/{project.project_slug}")
    existing = await store.get_eval_run(body.evalRunId) if body.evalRunId else None
    if existing is not None:
        return await _existing_eval_run(request, existing, suite.suite_id, project)
    now = now_ms()
    start = RunStart(run_id=_backing_run_id(body), run_id_given=True,
                     project_id=project.project_id, kind="eval", resume="allow",
                     name=suite.name, config=config)
    run, _ = await write_or_429(request, store.start_run(start, now))
    if run.kind != "eval":
        raise errors.conflict(f"run {run.run_id} is a {run.kind} run, not an eval run", "runId")
    wanted = EvalRun(body.evalRunId or "evr_" + uuid.uuid4().hex, project.project_id,
                     suite.suite_id, run.run_id, orjson.dumps(config).decode(), now)
    eval_run, created = await write_or_429(request, store.create_eval_run(wanted))
    hub.publish_run(request.app, run)  # live: publish after commit
    return _eval_run_reply(request, eval_run, run, project, created)


async def _existing_eval_run(request: web.Request, eval_run: EvalRun, suite_id: str,
                             project: ProjectRef) -> web.Response:
    """200 with a repeated ``evalRunId`` of this project and suite (its backing run as it is
    now, finished or not); 409 for another project's or suite's."""
    wanted = EvalRun(eval_run.eval_run_id, project.project_id, suite_id, eval_run.run_id, "{}",
                     0)
    with store_errors():
        check_eval_run(eval_run, wanted)
    run = await request.app[STORE].get_run(eval_run.run_id)
    if run is None:
        raise errors.conflict(f"the backing run {eval_run.run_id} of eval run "
                              f"{eval_run.eval_run_id} was deleted", "evalRunId")
    return _eval_run_reply(request, eval_run, run, project, False)


def _eval_run_reply(request: web.Request, eval_run: EvalRun, run: Run, project: ProjectRef,
                    created: bool) -> web.Response:
    payload = {"evalRunId": eval_run.eval_run_id, "runId": eval_run.run_id,
               "suiteId": eval_run.suite_id, "projectId": eval_run.project_id,
               "kind": "eval", "status": run.status, "config": orjson.loads(eval_run.config_json),
               "createdAtMs": eval_run.created_ms}
    return json_response(request, {"evalRun": payload, "run": run_entry(run, project),
                                   "created": created}, status=201 if created else 200)


def _backing_run_id(body: EvalRunBody) -> str:
    if body.runId:
        return body.runId
    if body.evalRunId:
        return "run_" + hashlib.sha256(body.evalRunId.encode()).hexdigest()[:32]
    return "run_" + uuid.uuid4().hex


async def ingest_results(request: web.Request) -> web.Response:
    """202 ``{"accepted", "rejected", "errors"?}`` after COMMIT."""
    principal = await auth.authenticate(request)
    body = await decode_body(request, ResultsBody)
    project = await writable_project(request, principal, body.projectId, None,
                                     frozenset({"evals:write"}), workspace=body.workspace,
                                     project_slug=body.project)
    store = request.app[STORE]
    known = await store.get_eval_run(body.evalRunId)
    if known is not None and known.project_id != project.project_id:
        raise errors.conflict(f"eval run {body.evalRunId} belongs to another project",
                              "evalRunId")
    errs = ItemErrors()
    results = results_from_rows(body.rows, project.project_id, body.evalRunId, now_ms(), errs)
    accepted = await write_or_429(request, store.ingest_eval_results(results))
    payload: dict[str, Any] = {"accepted": accepted, "rejected": errs.rejected}
    if errs.details:
        payload["errors"] = errs.details
    return json_response(request, payload, 202)


def setup_routes(app: web.Application) -> None:
    """Register the eval write routes and the eval read routes."""
    app.router.add_post("/api/v1/evals/suites", create_suite)
    app.router.add_post("/api/v1/evals/runs", create_eval_run)
    app.router.add_post("/api/v1/evals/results", ingest_results)
    evals_query.setup_routes(app)
