"""``rundial evals diff`` against a real collector (v1 doc §10.2): the published JSON shape,
the human table, ``--scorer``, ``--fail-on-regression`` (exit 1) and errors."""

from __future__ import annotations

from collections.abc import Callable

from tests.cli.clirun import CliResult
from tests.cli.eval_seeding import seed_eval_diff
from tests.helpers.collector_proc import CollectorProcess


def test_diff_json_counts_regressions_beyond_the_page(
        cli: Callable[..., CliResult], as_admin: dict[str, str],
        shared_collector: CollectorProcess) -> None:
    seeded = seed_eval_diff(shared_collector, examples=80, regressed=[3, 79])
    result = cli("--json", "evals", "diff", seeded.baseline, seeded.candidate, "--limit", "1",
                 env=as_admin)
    assert result.code == 0, result.err
    doc = result.json()
    assert (doc["ok"], doc["regressions"], doc["baselineEvalRunId"],
            doc["candidateEvalRunId"]) == (True, 2, seeded.baseline, seeded.candidate)
    assert doc["workspace"] == shared_collector.workspace and doc["projectId"].startswith("prj_")
    assert [row["exampleId"] for row in doc["result"]["rows"]] == ["ex0003"]
    assert doc["result"]["summary"]["total"] == 160


def test_fail_on_regression_exits_1_and_scorer_filters(
        cli: Callable[..., CliResult], as_admin: dict[str, str],
        shared_collector: CollectorProcess) -> None:
    seeded = seed_eval_diff(shared_collector, examples=5, regressed=[2])
    failed = cli("evals", "diff", seeded.baseline, seeded.candidate, "--fail-on-regression",
                 env=as_admin)
    assert failed.code == 1
    assert "regression" in failed.err
    lines = failed.out.splitlines()
    assert lines[0] == f"Eval diff {seeded.baseline} -> {seeded.candidate}"
    assert lines[2].split()[:2] == ["ex0002", "exact"] and lines[2].split()[-1] == "yes"
    assert lines[-1] == "Regressions: 1"
    clean = cli("--json", "evals", "diff", seeded.baseline, seeded.candidate, "--scorer",
                "style", "--fail-on-regression", env=as_admin)
    assert clean.code == 0 and clean.json()["regressions"] == 0
    assert {row["scorer"] for row in clean.json()["result"]["rows"]} == {"style"}


def test_unknown_eval_run_and_bad_limit(cli: Callable[..., CliResult],
                                        as_admin: dict[str, str]) -> None:
    missing = cli("--json", "evals", "diff", "evr_nope", "evr_nope2", env=as_admin)
    assert missing.code == 1 and "evr_nope" in missing.err
    bad = cli("evals", "diff", "a", "b", "--limit", "0", env=as_admin)
    assert bad.code == 1 and "--limit" in bad.err
