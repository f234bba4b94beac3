"""``rundial auth agent …``, ``auth key create --agent`` and ``auth audit list`` end to end
against the real collector (v1 doc §10.2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.cli.clirun import CliResult
from tests.collector.control import new_target, unique
from tests.helpers.collector_proc import CollectorProcess


def test_agent_lifecycle_keys_and_audit(cli: Callable[..., CliResult],
                                        shared_collector: CollectorProcess) -> None:
    target = new_target(shared_collector)
    env = {"RUNDIAL_ENDPOINT": shared_collector.url, "RUNDIAL_API_KEY": shared_collector.api_key,
           "RUNDIAL_WORKSPACE": target.workspace, "RUNDIAL_PROJECT": target.project}

    def ok(*args: str) -> Any:
        result = cli(*args, "--json", env=env)
        assert result.code == 0, (args, result.err)
        return result.json()
    name = unique("bot")
    agent = ok("auth", "agent", "create", "--name", name)["agent"]
    assert agent["agentId"].startswith("agt_") and agent["status"] == "active"
    listed = ok("auth", "agent", "list", "--status", "active")["agents"]
    assert [a["agentId"] for a in listed] == [agent["agentId"]]
    by_name = ok("auth", "key", "create", "--agent", name, "--scope", "ingest:logs")["result"]
    assert by_name["agentId"] == agent["agentId"] and by_name["scopes"] == ["logs:write"]
    by_id = ok("auth", "agent", "key", "create", "--agent", agent["agentId"])["result"]
    keys = ok("auth", "agent", "key", "list", "--agent", name)["keys"]
    assert {k["keyId"] for k in keys} == {by_name["keyId"], by_id["keyId"]}
    who = cli("auth", "whoami", "--json", env={**env, "RUNDIAL_API_KEY": by_id["apiKey"]})
    assert who.code == 0 and who.json()["whoami"]["agentId"] == agent["agentId"]
    missing = cli("auth", "agent", "revoke", "nobody", "--json", env=env)
    assert missing.code == 1 and "nobody" in missing.err
    ok("auth", "agent", "revoke", name)
    refused = cli("auth", "whoami", "--json", env={**env, "RUNDIAL_API_KEY": by_id["apiKey"]})
    assert refused.code == 2
    events = ok("auth", "audit", "list", "--actor-kind", "api_key", "--limit", "10")["events"]
    assert [e["action"] for e in events] == ["agent.revoke", "api_key.create",
                                             "api_key.create", "agent.create"]
    assert ok("auth", "audit", "list", "--agent", agent["agentId"])["events"] == []
    human = cli("auth", "audit", "list", env=env)
    assert human.code == 0 and human.out.splitlines()[0] == "Audit Events"
    reader = cli("auth", "agent", "list", "--json",
                 env={**env, "RUNDIAL_API_KEY": "rdk_not_a_key"})
    assert reader.code == 2
