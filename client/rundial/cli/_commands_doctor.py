"""``rundial doctor``: is the endpoint reachable, are we authenticated, is the clock right,
is the spool healthy, and what can the collector do.

Output (published shape plus checks): ``{"ok": <all ok>, "endpoint", "checks": [{"name",
"ok", "detail"}]}`` with checks ``health_ready``, ``clock_skew``, ``capabilities``, ``auth``,
``secret_store`` and ``spool``. Exit code 0 even when a check fails, as in the published CLI,
unless ``--strict`` (then 1 for a failed check; 2 when only authentication failed).
``--offline`` skips every network check. Doctor never raises for a failed check.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rundial.cli._context import Context
from rundial.cli._errors import EXIT_AUTH, CliError
from rundial.cli._http import ApiClient, ApiError
from rundial.cli._parsing import ParserKit

__all__ = ["MAX_CLOCK_SKEW_SECONDS", "register"]

MAX_CLOCK_SKEW_SECONDS = 5.0  # Date has 1 s resolution; beyond 5 s, export windows drift


@dataclass
class Check:
    """One doctor line."""

    name: str
    ok: bool
    detail: str


def register(kit: ParserKit, commands: Any) -> None:
    """Add ``doctor``."""
    doctor = kit.command(commands, "doctor", "check endpoint, auth, clock, spool and features",
                         cmd_doctor)
    doctor.add_argument("--offline", action="store_true", help="skip the network checks")
    doctor.add_argument("--strict", action="store_true", help="exit non-zero when a check fails")
    doctor.add_argument("--spool-dir", help="spool to check (default: the SDK's)")


def _health_and_clock(client: ApiClient) -> list[Check]:
    before = time.time()
    try:
        reply = client.raw("GET", "/health/ready", api=False)
    except ApiError as exc:
        return [Check("health_ready", False, exc.message),
                Check("clock_skew", False, "skipped: endpoint unreachable")]
    local = (before + time.time()) / 2
    server = email.utils.parsedate_to_datetime(reply.headers["date"]).timestamp() \
        if "date" in reply.headers else None
    if server is None:
        clock = Check("clock_skew", True, "unknown: the collector sent no Date header")
    else:
        skew = server - local
        clock = Check("clock_skew", abs(skew) <= MAX_CLOCK_SKEW_SECONDS + 1,
                      f"collector clock is {skew:+.1f} s from this machine's")
    return [Check("health_ready", True, f"HTTP {reply.status}"), clock]


def _capabilities(client: ApiClient) -> Check:
    try:
        caps = client.get("/api/v1/cli/capabilities")
    except ApiError as exc:
        return Check("capabilities", False, exc.message)
    features = caps.get("features")
    listed = ", ".join(sorted(features)) if isinstance(features, (list, dict)) else "-"
    return Check("capabilities", True, f"version={caps.get('version')} protocol="
                                       f"{caps.get('protocol')} features: {listed}")


def _auth(ctx: Context) -> Check:
    try:
        who = ctx.client().get("/api/v1/auth/whoami")
    except CliError as exc:
        return Check("auth", False, exc.message)
    return Check("auth", who.get("authenticated") is True,
                 f"principal={who.get('principal')} key={who.get('keyId')} "
                 f"scopes={','.join(who.get('scopes') or [])}")


def _spool(ctx: Context) -> Check:
    """The spool: pending data counted as ``rundial sync`` counts it (``left_behind``), each run
    left behind named with its reason; fails on quarantined files or runs needing action."""
    from rundial._config import default_spool_directory
    from rundial.cli._spool_report import (
        counts_as_pending,
        describe_left_behind,
        human_bytes,
        left_behind,
        spool_summary,
    )
    from rundial._spool.scan import scan

    root = Path(ctx.flag("spool_dir") or default_spool_directory()).expanduser()
    found = scan(root)
    summary = spool_summary(found)
    totals, quarantine = summary["totals"], summary["quarantine"]
    left = left_behind(found, ctx.endpoint())
    pending = [item for item in left if counts_as_pending(item)]
    detail = (f"{root}: {totals['runs']} runs, {sum(i['batches'] for i in pending)} pending "
              f"batches for {ctx.endpoint()} ({human_bytes(sum(i['bytes'] for i in pending))}), "
              f"{totals['liveWriters']} live writers, "
              f"{sum(i['reason'] == 'other-endpoint' for i in left)} runs for other endpoints, "
              f"{totals['artifactJobs']} artifact jobs, {quarantine['rejected']} rejected, "
              f"{quarantine['corrupt']} corrupt")
    if pending:
        detail += f"; {describe_left_behind(left)}; run `rundial sync` to upload"
    if quarantine["rejected"] or quarantine["corrupt"]:
        detail += "; see `rundial-spool quarantine ls`"
    stuck = any(item["reason"] in ("blocked", "refused", "no-run-file") for item in pending)
    return Check("spool", not (quarantine["rejected"] or quarantine["corrupt"] or stuck), detail)


def cmd_doctor(ctx: Context) -> None:
    """Run every check and print them; see the module docstring for the exit code."""
    checks: list[Check] = []
    if ctx.flag("offline"):
        checks += [Check(n, True, "skipped (--offline)")
                   for n in ("health_ready", "clock_skew", "capabilities", "auth")]
    else:
        client = ctx.client(require_auth=False)
        checks += _health_and_clock(client)
        checks += [_capabilities(client), _auth(ctx)]
    checks += [Check("secret_store", True, ctx.secrets().describe()), _spool(ctx)]
    ok = all(c.ok for c in checks)
    if ctx.output.json_mode:
        ctx.output.json({"ok": ok, "endpoint": ctx.endpoint(),
                         "checks": [vars(c) for c in checks]})
    else:
        ctx.output.table(f"Rundial Doctor ({ctx.endpoint()})", ["check", "status", "detail"],
                         [[c.name, "ok" if c.ok else "FAIL", c.detail] for c in checks])
    if ctx.flag("strict") and not ok:
        only_auth = all(c.ok or c.name == "auth" for c in checks)
        raise CliError("doctor: some checks failed", EXIT_AUTH if only_auth else 1)
