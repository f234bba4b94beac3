"""``rd.eval.suite(...)``: eval suites (v1 doc §9; docs/sdk.md "Evals").

``rd.eval.suite`` is a **blocking control-plane call** on the calling thread: without both
``org_id`` and ``project_id`` it first resolves ``workspace``/``project`` (arguments, then
``RUNDIAL_WORKSPACE``/``RUNDIAL_PROJECT``, then the profile) with ``POST
/api/v1/runs/resolve-target``, then creates the suite with ``POST /api/v1/evals/suites``. Each
call is bounded by ``request_timeout_seconds`` (a client option, default 30 s). Failure: an
unreachable collector or a refusal raises :class:`~rundial.RundialRequestError` (never retried);
bad arguments raise ``TypeError``/``ValueError`` before any call; ``mode="offline"`` raises
``ValueError`` (a suite needs the collector). ``mode="disabled"`` (or ``RUNDIAL_MODE``) makes no
call: the suite and its eval runs do nothing, so a script runs unchanged with tracking off.

A string ``dataset`` is an artifact reference: it becomes ``{"name": "dataset", "version":
<first 16 hex of its sha256>, "artifactRef": ref}`` (``dataset_name``/``dataset_version``
override both forms).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from rundial._config import Settings, build_settings, resolve_target
from rundial._eval.run import RundialEvalRun, backing_run, post_json, required_text
from rundial._http.transport import Transport
from rundial._run.noop import NoopRun
from rundial._run.runconfig import flatten_config
from rundial._values import plain_json, require_utf8_text


def _text(name: str, value: Any) -> str:
    """``value`` stripped; ``ValueError`` naming ``name`` unless it is a non-blank str with a
    UTF-8 form (a lone surrogate used to fail the request's encoding with a bare TypeError)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty str")
    require_utf8_text(name, value)
    return value.strip()


def dataset_payload(dataset: Mapping[str, Any] | str, dataset_name: str | None,
                    dataset_version: str | None) -> dict[str, Any]:
    """The suite's ``dataset`` object (see the module docstring); ValueError when incomplete."""
    if isinstance(dataset, str):
        ref = _text("dataset", dataset)
        given: dict[str, Any] = {"name": "dataset", "artifactRef": ref,
                                 "version": hashlib.sha256(ref.encode()).hexdigest()[:16]}
    elif isinstance(dataset, Mapping):
        given = dict(dataset)
    else:
        raise TypeError("dataset must be an artifact reference (str) or a mapping with name, "
                        "version and artifactRef")
    if dataset_name is not None:
        given["name"] = dataset_name
    if dataset_version is not None:
        given["version"] = dataset_version
    out = {key: _text(f"dataset {key}", given.get(key))
           for key in ("name", "version", "artifactRef")}
    if isinstance(given.get("datasetId"), str) and given["datasetId"].strip():
        out["datasetId"] = _text("dataset datasetId", given["datasetId"])
    return out


def scorers_payload(scorers: Sequence[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The suite's ``scorers``: names, or mappings with ``name`` (``kind``, ``config`` optional;
    ``config`` sent as plain JSON, see :func:`rundial._values.plain_json`)."""
    if isinstance(scorers, (str, bytes)) or not isinstance(scorers, Sequence) or not scorers:
        raise ValueError("scorers must be a non-empty list of scorer names or mappings")
    out: list[dict[str, Any]] = []
    for scorer in scorers:
        if isinstance(scorer, str):
            out.append({"name": _text("scorer", scorer)})
            continue
        if not isinstance(scorer, Mapping):
            raise TypeError(f"a scorer must be a str or a mapping, not {type(scorer).__name__}")
        entry: dict[str, Any] = {"name": _text("scorer name", scorer.get("name"))}
        if isinstance(scorer.get("kind"), str) and scorer["kind"].strip():
            entry["kind"] = _text("scorer kind", scorer["kind"])
        if isinstance(scorer.get("config"), Mapping):
            # plain JSON as eval meta is (keys as str, numpy numbers as numbers, other objects
            # as their str()): a Path or a numpy int used to fail the request's encoding
            entry["config"] = plain_json(scorer["config"])
            require_utf8_text("scorer config", entry["config"])
        out.append(entry)
    return out


def _suite_settings(workspace: str | None, project: str | None, project_id: str | None,
                    endpoint: str | None, api_key: str | None, mode: str | None,
                    client_options: dict[str, Any]) -> Settings:
    """The settings of a suite and its eval runs (resolved like ``rd.init``); ValueError for
    ``mode="offline"`` or, unless disabled, for a missing target."""
    target = resolve_target(endpoint, api_key, workspace, project)
    chosen_mode = mode or os.environ.get("RUNDIAL_MODE") or "online"
    if chosen_mode == "offline":
        raise ValueError("rd.eval.suite needs the collector: mode='offline' is not supported")
    if chosen_mode != "disabled" and project_id is None and not (
            target["workspace"] and target["project"]):
        raise ValueError("rd.eval.suite needs workspace= and project= (or RUNDIAL_WORKSPACE "
                         "and RUNDIAL_PROJECT), or project_id=")
    return build_settings({"project": project_id or target["project"],
                           "workspace": target["workspace"], "endpoint": endpoint,
                           "api_key": api_key, "mode": mode, **client_options})


class RundialEvalSuite:
    """A created suite: ``suite_id``, ``project_id``, ``org_id`` and the collector's ``suite``
    and ``dataset`` objects. :meth:`run` starts an eval run of it."""

    def __init__(self, *, settings: Settings, project_id: str, org_id: str | None,
                 suite: Mapping[str, Any], dataset: Mapping[str, Any],
                 transport: Transport | None = None) -> None:
        self._settings = settings
        self._transport = transport
        self.project_id = project_id
        self.org_id = org_id
        self.suite = dict(suite)
        self.dataset = dict(dataset)
        self.suite_id = required_text(self.suite, "suiteId", "eval suite creation")

    def run(self, *, config: Mapping[str, Any] | None = None, run_id: str | None = None,
            eval_run_id: str | None = None) -> RundialEvalRun:
        """Create an eval run and its backing run; blocking (see :mod:`rundial._eval.run`).
        ``config``, ``run_id`` and ``eval_run_id`` are checked in every mode (a disabled
        suite's run raises what an enabled one does): ``ValueError`` naming the argument."""
        flat, _ = flatten_config({} if config is None else config, where="suite.run()")
        given = {field: _text(name, value) for field, name, value in
                 (("runId", "run_id", run_id), ("evalRunId", "eval_run_id", eval_run_id))
                 if value is not None}
        if self._settings.mode == "disabled":
            local_id = given.get("evalRunId") or "evr_" + uuid.uuid4().hex
            noop = NoopRun(given.get("runId") or "run_" + uuid.uuid4().hex, state="disabled",
                           project=self.project_id, mode="disabled", config=config)
            return RundialEvalRun(project_id=self.project_id, eval_run_id=local_id, run=noop,
                                  summary={"evalRunId": local_id, "runId": noop.run_id})
        payload: dict[str, Any] = {"projectId": self.project_id, "suiteId": self.suite_id,
                                   "config": flat, **given}
        if self.org_id:
            payload["orgId"] = self.org_id
        doc = post_json(self._settings, self._transport, "/api/v1/evals/runs", payload,
                        "eval run creation")
        eval_run = doc.get("evalRun")
        if not isinstance(eval_run, dict):
            raise RuntimeError("eval run creation: the answer has no evalRun object")
        backing = backing_run(self._settings, self.project_id,
                              required_text(eval_run, "runId", "eval run creation"), config,
                              self._transport)
        return RundialEvalRun(project_id=self.project_id,
                              eval_run_id=required_text(eval_run, "evalRunId",
                                                        "eval run creation"),
                              run=backing, summary=eval_run)

    def __repr__(self) -> str:
        return f"<rundial.RundialEvalSuite {self.suite_id} project={self.project_id}>"


class EvalNamespace:
    """``rd.eval``: eval helpers. ``pytest_plugin`` names the pytest plugin module."""

    pytest_plugin = "rundial.eval_pytest_plugin"

    def suite(self, name: str, *, dataset: Mapping[str, Any] | str,
              scorers: Sequence[str | Mapping[str, Any]], workspace: str | None = None,
              project: str | None = None, org_id: str | None = None,
              project_id: str | None = None, endpoint: str | None = None,
              api_key: str | None = None, suite_id: str | None = None,
              dataset_name: str | None = None, dataset_version: str | None = None,
              mode: str | None = None, **client_options: Any) -> RundialEvalSuite:
        """Create (or, with an existing ``suite_id``, fetch) a suite; blocking, see the module
        docstring for the calls, their timeout and failures. ``client_options`` are
        ``rd.init``'s (``request_timeout_seconds``, spool options, ...); its eval runs log with
        them."""
        name = _text("name", name)
        data, scorer_list = (dataset_payload(dataset, dataset_name, dataset_version),
                             scorers_payload(scorers))
        transport = client_options.pop("transport", None)
        settings = _suite_settings(workspace, project, project_id, endpoint, api_key, mode,
                                   client_options)
        if settings.mode == "disabled":
            local = {"suiteId": suite_id or "evs_" + uuid.uuid4().hex, "name": name}
            return RundialEvalSuite(settings=settings, project_id=str(settings.project or ""),
                                    org_id=org_id, suite=local, dataset=data)
        if project_id is None or org_id is None:
            org_id, project_id = self._resolve(settings, transport, org_id, project_id)
        payload: dict[str, Any] = {"projectId": project_id, "name": name, "dataset": data,
                                   "scorers": scorer_list}
        if org_id:
            payload["orgId"] = org_id
        if suite_id is not None:
            payload["suiteId"] = _text("suite_id", suite_id)
        doc = post_json(settings, transport, "/api/v1/evals/suites", payload,
                        "eval suite creation")
        suite, dataset_doc = doc.get("suite"), doc.get("dataset")
        if not isinstance(suite, dict) or not isinstance(dataset_doc, dict):
            raise RuntimeError("eval suite creation: the answer has no suite and dataset objects")
        return RundialEvalSuite(settings=settings, project_id=project_id, org_id=org_id,
                                suite=suite, dataset=dataset_doc, transport=transport)

    @staticmethod
    def _resolve(settings: Settings, transport: Transport | None, org_id: str | None,
                 project_id: str | None) -> tuple[str | None, str]:
        """(org id, project id): ``project_id`` alone is used as given; else the workspace and
        project (both present: checked by the caller) are resolved."""
        if project_id is not None:
            return org_id, project_id
        target = post_json(settings, transport, "/api/v1/runs/resolve-target",
                           {"workspace": settings.workspace, "project": settings.project},
                           "resolve-target")
        org = target.get("orgId")
        return (org_id or (org if isinstance(org, str) and org else None),
                required_text(target, "projectId", "resolve-target"))


EVAL = EvalNamespace()  # exported as ``rd.eval``
