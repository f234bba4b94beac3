"""Our public names and signatures against the published rundial 1.0.0rc1 SDK's (issue #17.1).

The same script (``surface_dump.py``) introspects the rc1 SDK in its own venv and ours in this
interpreter; :func:`differences` lists every published name, parameter, parameter kind or default
that ours lacks or changes. Anything not compared is excluded below by name, with its reason, so a
new name of theirs cannot go missing unnoticed.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rundial as rd
from rundial import MockTransport, Request, Response
from rundial._config import ACCEPTED_NO_EFFECT, Settings, build_settings
from tests.compat.conftest import run_rc1

pytestmark = pytest.mark.compat

DUMP_SCRIPT = Path(__file__).with_name("surface_dump.py")

# Names skipped until the evals branch was merged; empty now (kept so the check below stays).
BUILT_ON_THE_EVALS_BRANCH: frozenset[str] = frozenset()

# Not compared, each for a reason.
EXCLUDED = {
    "rundial.compat": "rc1's import-swap shims; ours are built under issue #17 sections 3-4",
    "rundial.integrations": "rc1's framework callbacks (Lightning, Transformers, Keras): "
                            "separate work, not part of #17.1",
    "rundial.cli": "a package of CLI internals; the CLI is compared by test_rc1_cli.py",
    **{f"rundial.Client.{m}": "rc1's low-level client also starts and drives runs; ours is the "
                              "discovery client and runs start through rd.init"
       for m in ("start", "run", "start_run", "start_run_for_workspace_project",
                 "resolve_run_target", "resolve_project_id", "update_run_status", "log_metric",
                 "log_text", "log_media", "log_artifact", "use_artifact", "flush",
                 "diagnostics")},
    **{f"rundial.Client.{m}": "evals, agents, audit, API keys and credential login: issue #17.2"
       for m in ("create_eval_suite", "create_eval_run", "eval_suite", "log_eval_result",
                 "query_eval_diff", "create_agent", "create_agent_api_key", "list_agents",
                 "list_agent_api_keys", "revoke_agent", "list_audit_events", "create_api_key",
                 "list_api_keys", "revoke_api_key", "login_credentials", "logout_session",
                 "session_token", "set_session_token")},
    **{f"rundial.Client.{m}": "reads the CLI does over HTTP (rundial metrics/logs/runs), not "
                              "offered on rd.Client"
       for m in ("query_series", "query_logs", "query_runs", "list_metric_keys",
                 "export_metrics_page", "export_logs_page", "get_cli_capabilities", "health")},
    "rundial.Client.api_key": "not exposed: the key stays inside the client (it may come from "
                              "the keyring)",
    **{f"rundial_sdk.{m}": "rc1's implementation modules; its README documents only the "
                           "package-level imports (from rundial_sdk import RundialClient)"
       for m in ("artifacts", "client", "media", "models", "spool", "system_metrics",
                 "transport")},
}

# A published default that ours spells None because ours resolves it later from Settings
# (arguments > RUNDIAL_* > profile): the Settings field's default must equal theirs.
DEFAULTS_FROM_SETTINGS = {
    **{f"rundial.init({p})": p for p in ("endpoint", "kind", "resume", "mode", "distributed")},
    **{f"rundial.eval.suite({p})": p for p in ("endpoint", "mode")},
    **{f"rundial.{cls}.{m}(timeout_seconds)": "finish_timeout_seconds"
       for cls in ("Run", "NoopRun") for m in ("finish", "close", "complete", "fail", "abort")},
}
# A default that differs on purpose, with the reason (documented in docs/sdk.md).
DEFAULTS_THAT_DIFFER = {
    "rundial.Span.finish(status)": "None keeps a status set_status() chose, else 'ok' (rc1: 'ok')",
    "rundial.Client(request_timeout_seconds)": "30 s, like rd.init's request_timeout_seconds "
                                               "(rc1: 5 s); docs/sdk.md, Client options",
}

_SETTINGS_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}


@dataclasses.dataclass(frozen=True)
class Owner:
    """Where a published callable's parameters are checked: ``name`` in our dump, and whether
    a ``**kwargs`` of ours accepts keyword-only names (the do-nothing run's contract, and
    rd.Client's client options)."""
    name: str
    lenient: bool = False


def owners(published_name: str) -> list[Owner]:
    """Our callables that must accept what ``published_name`` accepts: the disabled run too.
    rd.Client takes rc1's client options through ``**client_options``, checked by name in
    :func:`test_every_published_client_option_is_an_init_option`."""
    if published_name == "rundial.Client":
        return [Owner(published_name, lenient=True)]
    if published_name.startswith("rundial.Run."):
        return [Owner(published_name),
                Owner(published_name.replace("rundial.Run.", "rundial.NoopRun.", 1), True)]
    return [Owner(published_name)]


def _skipped(name: str) -> bool:
    return any(name == s or name.startswith(s + ".") or name.startswith(s + "(")
               for s in (*BUILT_ON_THE_EVALS_BRANCH, *EXCLUDED))


def _names(dump: dict[str, Any]) -> set[str]:
    found = set()
    for package, module in dump["modules"].items():
        found |= {f"{package}.{n}" for n in module["names"] + module["submodules"]}
    for cls, members in dump["members"].items():
        found |= {f"{cls}.{m}" for m in members}
    return found


def _default_problem(where: str, theirs: dict[str, Any], ours: dict[str, Any]) -> str | None:
    if theirs.get("required") or theirs == ours or where in DEFAULTS_THAT_DIFFER:
        return None
    if ours.get("required"):
        return f"{where}: required in ours, optional in rc1"
    field = DEFAULTS_FROM_SETTINGS.get(where)
    if ours == {"value": None} and field is not None:
        if {"value": _SETTINGS_DEFAULTS[field]} == theirs:
            return None
        return f"{where}: Settings.{field} defaults to {_SETTINGS_DEFAULTS[field]!r}, rc1 {theirs}"
    if "value" in theirs and "value" in ours:
        return f"{where}: default {ours['value']!r}, rc1 {theirs['value']!r}"
    return None  # a non-literal default (a factory, an object): not comparable


def _param_problems(name: str, theirs: list[dict[str, Any]], ours: list[dict[str, Any]],
                    lenient: bool) -> list[str]:
    problems = []
    by_name = {p["name"]: (i, p) for i, p in enumerate(ours)}
    var_keyword = any(p["kind"] == "VAR_KEYWORD" for p in ours)
    for index, param in enumerate(theirs):
        where = f"{name}({param['name']})"
        if param["name"].startswith("_") or param["kind"] == "VAR_POSITIONAL" or _skipped(where):
            continue
        if param["kind"] == "VAR_KEYWORD":
            if not var_keyword:
                problems.append(f"{name}: rc1 takes **{param['name']}, ours no **kwargs")
            continue
        if param["name"] not in by_name:
            if not (lenient and var_keyword and param["kind"] == "KEYWORD_ONLY"):
                problems.append(f"{where}: missing")
            continue
        at, mine = by_name[param["name"]]
        if param["kind"] == "POSITIONAL_OR_KEYWORD" and (
                mine["kind"] != "POSITIONAL_OR_KEYWORD" or at != index):
            problems.append(f"{where}: rc1 takes it positionally at {index}, ours "
                            f"{mine['kind']} at {at}")
        elif param["kind"] == "KEYWORD_ONLY" and mine["kind"] not in (
                "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"):
            problems.append(f"{where}: rc1 takes it by keyword, ours is {mine['kind']}")
        problem = _default_problem(where, param["default"], mine["default"])
        if problem:
            problems.append(problem)
    published = {p["name"] for p in theirs}
    for mine in ours:
        if mine["name"] not in published and mine["default"].get("required") and mine[
                "kind"] in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"):
            problems.append(f"{name}({mine['name']}): ours requires it, rc1 has no such parameter")
    return problems


def differences(theirs: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    """Every way ``ours`` fails to accept what ``theirs`` (the rc1 dump) offers."""
    problems = [f"{name}: missing" for name in sorted(_names(theirs) - _names(ours))
                if not _skipped(name)]
    for name, values in sorted(theirs["aliases"].items()):
        if name in ours["aliases"] and ours["aliases"][name] != values:
            problems.append(f"{name}: values {ours['aliases'][name]}, rc1 {values}")
    for name, params in sorted(theirs["signatures"].items()):
        if _skipped(name):
            continue
        for owner in owners(name):
            mine = ours["signatures"].get(owner.name)
            if mine is None:
                problems.append(f"{owner.name}: missing or not a function")
                continue
            problems += _param_problems(owner.name, params, mine, owner.lenient)
    return problems


def _dump_ours() -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(DUMP_SCRIPT)], capture_output=True, text=True,
                          timeout=60, check=True)
    return dict(json.loads(proc.stdout))


@pytest.fixture(scope="module")
def rc1_surface(rc1_python: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The published SDK's surface, dumped once by its own interpreter."""
    proc = run_rc1(rc1_python, DUMP_SCRIPT.read_text(), {}, tmp_path_factory.mktemp("rc1"))
    assert proc.returncode == 0, proc.stderr[-4000:]
    return dict(json.loads(proc.stdout))


def test_every_published_name_and_parameter_is_accepted_by_ours(
        rc1_surface: dict[str, Any]) -> None:
    """Names, submodules, alias values and each parameter's name, kind and default match."""
    theirs = rc1_surface
    assert "rundial.Run.finish" in theirs["signatures"]  # the dump saw the published SDK
    assert differences(theirs, _dump_ours()) == []


def test_every_published_client_option_is_an_init_option(rc1_surface: dict[str, Any]) -> None:
    """rc1's ``rd.init(**client_options)`` and ``rd.Client(...)`` take its client's constructor
    parameters; ours accept each name, in both places (some without effect: docs/sdk.md)."""
    options = rc1_surface["client_options"]
    assert "spool_directory" in options and "gzip_enabled" in options

    def fail(request: Request) -> Response:
        raise AssertionError("building a client sends nothing")

    refused = []
    for name in options:
        try:
            build_settings({"project": "p", name: None})
            given = {} if name in ("endpoint", "transport") else {name: None}
            rd.Client("http://c.test", transport=MockTransport(fail), **given)
        except TypeError:
            refused.append(name)
    assert refused == []
    assert ACCEPTED_NO_EFFECT  # some are accepted without effect, and documented as such
    with pytest.raises(TypeError, match="unexpected keyword"):
        build_settings({"project": "p", "no_such_option": None})
    with pytest.raises(TypeError, match="unexpected keyword"):
        rd.Client("http://c.test", transport=MockTransport(fail), no_such_option=None)


def test_the_comparison_reports_each_kind_of_gap() -> None:
    """A hand-made published surface with one gap of each kind is reported gap by gap."""
    ours = _dump_ours()
    theirs: dict[str, Any] = {
        "modules": {"rundial": {"names": ["Run", "Brand_New"], "submodules": ["extra"]}},
        "aliases": {"rundial.Mode": ["online"]},
        "members": {"rundial.Run": ["finish", "new_attribute"]},
        "signatures": {
            "rundial.Run.finish": [
                {"name": "timeout_seconds", "kind": "POSITIONAL_OR_KEYWORD",
                 "default": {"value": 9.0}},
                {"name": "grace", "kind": "KEYWORD_ONLY", "default": {"value": 1}},
            ],
            "rundial.Run.flush": [{"name": "extra", "kind": "POSITIONAL_OR_KEYWORD",
                                   "default": {"required": True}}],
        },
    }
    found = differences(theirs, ours)
    assert "rundial.Brand_New: missing" in found
    assert "rundial.extra: missing" in found
    assert "rundial.Run.new_attribute: missing" in found
    assert any(p.startswith("rundial.Mode: values") for p in found)
    assert "rundial.Run.finish(grace): missing" in found
    assert "rundial.NoopRun.finish(grace): missing" in found
    assert any(p.startswith("rundial.Run.finish(timeout_seconds): Settings.") for p in found)
    assert "rundial.Run.flush(extra): missing" in found


def test_eval_and_excluded_names_are_real_published_names(rc1_surface: dict[str, Any]) -> None:
    """Every skipped name and every listed default exists in rc1, so the lists cannot hide a
    typo."""
    theirs = rc1_surface
    published = _names(theirs) | set(theirs["signatures"])
    assert sorted(BUILT_ON_THE_EVALS_BRANCH - published) == []
    assert sorted(set(EXCLUDED) - published) == []
    params = {f"{name}({p['name']})" for name, ps in theirs["signatures"].items() for p in ps}
    listed = {k.replace("rundial.NoopRun.", "rundial.Run.", 1)
              for k in (*DEFAULTS_FROM_SETTINGS, *DEFAULTS_THAT_DIFFER)}
    assert sorted(listed - params) == []
