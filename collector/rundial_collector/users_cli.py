"""``rundial-collector users …``: manage credential-login users directly on the configured
store (SQLite under ``--data-dir`` or PostgreSQL at ``--database-url``, as ``serve`` picks it),
with or without collectors running on it.

* ``users add EMAIL [--admin] [--password-stdin]``: without ``--password-stdin`` a password
  is generated and printed once on stdout; it is stored only as its scrypt hash.
* ``users list [--json]``: every user with status (active/disabled) and role.
* ``users disable EMAIL``: revoke the user's backing key and delete its sessions; every
  collector on the database refuses them from the next request on. Idempotent.
* ``users enable EMAIL``: give a disabled user a fresh backing key (same role); the user logs
  in again with its password. Idempotent.
* ``users set-password EMAIL [--password-stdin]``: replace the password (generated and printed
  once without the flag) and end the user's sessions.

A password on stdin is its first line (one trailing newline is dropped; more lines are an
error). Passwords are never logged. Each change is audited as actor kind ``system`` with actor
id ``cli``. Exit codes: 0 done, 1 refused or failed (unknown user, taken email, no database,
database unavailable), 2 bad input (email, password).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from rundial_collector import user_accounts
from rundial_collector.config import CollectorConfig
from rundial_collector.store.accounts_base import User
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import StoreConflict, StoreNotFound
from rundial_collector.store.errors import SchemaTooNew, StoreUnavailable
from rundial_collector.store.factory import check_store_config, open_store
from rundial_collector.web.auditing import Actor

CLI_ACTOR = Actor("system", "cli")


class UsersError(Exception):
    """A refused or failed ``users`` command; ``exit_code`` 1 (refused) or 2 (bad input)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_parser(sub: Any, store_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``users`` and its commands on the ``rundial-collector`` sub-parsers."""
    users = sub.add_parser("users", help="manage credential-login users on the store")
    commands = users.add_subparsers(dest="users_command", required=True)
    add = commands.add_parser("add", help="add a user (password generated unless piped in)")
    add.add_argument("email")
    add.add_argument("--admin", action="store_true",
                     help="a global admin (default: a member, read and write without admin)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    listing = commands.add_parser("list", help="list users")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    disable = commands.add_parser("disable", help="disable a user and end its sessions")
    disable.add_argument("email")
    enable = commands.add_parser("enable", help="enable a disabled user again")
    enable.add_argument("email")
    password = commands.add_parser("set-password", help="set a user's password")
    password.add_argument("email")
    password.add_argument("--password-stdin", action="store_true",
                          help="read the password from stdin (default: generate one)")
    for parser in (add, listing, disable, enable, password):
        store_options(parser)


def run(args: argparse.Namespace, config: CollectorConfig, stdin: TextIO | None = None,
        stdout: TextIO | None = None) -> int:
    """Run one ``users`` command (``stdin``/``stdout`` default to the process's); prints a
    one-line reason to stderr and returns 1 or 2 on failure (see module doc)."""
    try:
        check_store_config(config)
        password = _password_input(args, stdin or sys.stdin)
        lines = asyncio.run(_on_store(config, lambda store: _COMMANDS[args.users_command](
            store, args, password)))
    except ValueError as exc:
        return _fail(str(exc), 2)
    except UsersError as exc:
        return _fail(str(exc), exc.exit_code)
    except (StoreConflict, StoreNotFound) as exc:
        return _fail(exc.message, 1)
    except StoreUnavailable as exc:  # the message names the URL without its password
        return _fail(f"the database is unavailable: {exc}", 1)
    except SchemaTooNew as exc:
        return _fail(str(exc), 1)
    for line in lines:
        print(line, file=stdout or sys.stdout, flush=True)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"rundial-collector users: {message}", file=sys.stderr)
    return code


def _password_input(args: argparse.Namespace, stdin: TextIO) -> str | None:
    """The checked password from stdin when ``--password-stdin``, else None."""
    if not getattr(args, "password_stdin", False):
        return None
    lines = stdin.read().splitlines()
    if len(lines) != 1:
        raise ValueError("--password-stdin expects the password on exactly one line")
    user_accounts.check_password(lines[0])
    return lines[0]


async def _on_store(config: CollectorConfig,
                    command: Callable[[Store], Awaitable[list[str]]]) -> list[str]:
    """Open the configured store, run ``command`` on it, close it (files stay private)."""
    if not config.database_url and not config.db_path.is_file():
        raise UsersError(f"no collector database at {config.db_path} (start the collector "
                         "once, or pass --data-dir / --database-url)")
    os.umask(0o077)
    store = open_store(config)
    await store.start()
    try:
        return await command(store)
    finally:
        await store.close()


async def _user(store: Store, raw_email: str) -> User:
    email = user_accounts.normalise_email(raw_email)
    user = await store.find_user(email)
    if user is None:
        raise UsersError(f"no user has the email {email}")
    return user


async def _add(store: Store, args: argparse.Namespace, password: str | None) -> list[str]:
    email = user_accounts.normalise_email(args.email)
    chosen = password or user_accounts.generate_password()
    user = await user_accounts.add_user(store, email, chosen, admin=args.admin,
                                        actor=CLI_ACTOR)
    assert user is not None  # neither only_if_first nor exist_ok: a taken email raises
    role = "admin" if args.admin else "member"
    lines = [f"added user {user.email} ({user.user_id}, {role})"]
    return lines + _shown_once(chosen, password, email)


def _shown_once(chosen: str, given: str | None, email: str) -> list[str]:
    if given is not None:
        return []
    return [f"password (shown only once): {chosen}",
            f"log in with: rundial auth login --credentials --email {email}"]


async def _list(store: Store, args: argparse.Namespace, _: str | None) -> list[str]:
    users: list[User] = []
    while batch := await store.list_users(users[-1].email if users else None, 1000):
        users += batch
    if args.json:
        return [json.dumps([user_accounts.user_entry(u) for u in users])]
    rows = [("EMAIL", "USER ID", "ROLE", "STATUS", "CREATED (UTC)")]
    rows += [(u.email, u.user_id, "admin" if user_accounts.is_admin(u) else "member", u.status,
              _utc(u.created_ms)) for u in users]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def _utc(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M")


async def _disable(store: Store, args: argparse.Namespace, _: str | None) -> list[str]:
    user = await _user(store, args.email)
    if user.disabled_ms is not None:
        return [f"user {user.email} was already disabled"]
    await user_accounts.disable_user(store, user, CLI_ACTOR)
    return [f"disabled user {user.email}; its sessions ended"]


async def _enable(store: Store, args: argparse.Namespace, _: str | None) -> list[str]:
    user = await _user(store, args.email)
    if user.disabled_ms is None:
        return [f"user {user.email} is already active"]
    await user_accounts.enable_user(store, user, CLI_ACTOR)
    return [f"enabled user {user.email}; it may log in again"]


async def _set_password(store: Store, args: argparse.Namespace, password: str | None
                        ) -> list[str]:
    user = await _user(store, args.email)
    chosen = password or user_accounts.generate_password()
    await user_accounts.set_password(store, user, chosen, CLI_ACTOR)
    lines = [f"set the password of {user.email}; its sessions ended"]
    return lines + _shown_once(chosen, password, user.email)


_COMMANDS: dict[str, Callable[[Store, argparse.Namespace, str | None],
                              Awaitable[list[str]]]] = {
    "add": _add, "list": _list, "disable": _disable, "enable": _enable,
    "set-password": _set_password}
