"""First-start provisioning: a workspace, a project and a global admin API key.

* With ``config.bootstrap_api_key`` (``RUNDIAL_BOOTSTRAP_API_KEY``): idempotently create
  ``bootstrap_workspace``/``bootstrap_project`` and register that key (by hash) as a global
  admin. The key is never printed or logged.
* Otherwise, when no API key exists at all: create the default workspace and project, mint a
  fresh admin key, write it to ``<data_dir>/admin_api_key`` (mode 0600) and print it once to
  stdout. Later starts create nothing and only log where the key file is. Collectors that
  start together on one fresh database mint exactly one key (the store's
  ``create_first_api_key`` is atomic): the others store nothing and print nothing. The secret
  is written to a temporary file first and moved into place only once its key is stored, so the
  key file always holds the stored key (a crash in between leaves ``admin_api_key.<id>.tmp``).
* Then the first user for credential login (email ``bootstrap_email``, default
  ``admin@localhost``; a global admin), the same way: with ``config.bootstrap_password``
  (``RUNDIAL_BOOTSTRAP_PASSWORD``) that user is created idempotently (a later change of the
  variable does not change the stored password) and the password is never printed or logged;
  otherwise, when no user exists at all, a password is generated, written to
  ``<data_dir>/admin_password`` (0600) and printed once. Only its scrypt hash is stored. The
  store's ``create_user(only_if_first=True)`` is atomic, so collectors starting together on one
  fresh database create exactly one first user.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from rundial_collector.config import CollectorConfig
from rundial_collector.store.accounts_base import User
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import NewApiKey
from rundial_collector import user_accounts
from rundial_collector.web import auditing
from rundial_collector.web.auth import ADMIN, hash_key, new_key_id, new_key_secret

log = logging.getLogger("rundial.collector")
KEY_FILE_NAME = "admin_api_key"
PASSWORD_FILE_NAME = "admin_password"


async def ensure_bootstrap(store: Store, config: CollectorConfig) -> None:
    """Create the bootstrap workspace, project and admin key, then the first user, on first
    start (idempotent)."""
    await _ensure_admin_key(store, config)
    await ensure_first_user(store, config)


async def _ensure_admin_key(store: Store, config: CollectorConfig) -> None:
    if config.bootstrap_api_key:
        await _ensure_target(store, config)
        await store.create_api_key(_admin_key(config.bootstrap_api_key, "bootstrap (env)"),
                                   exist_ok=True)
        log.info("bootstrap admin API key from RUNDIAL_BOOTSTRAP_API_KEY is active")
        return
    key_file = config.data_dir / KEY_FILE_NAME
    if await store.count_api_keys() > 0:
        where = key_file if key_file.exists() else "(no key file; keys were created elsewhere)"
        log.info("API keys exist; the generated admin key is stored in %s", where)
        return
    await _ensure_target(store, config)
    secret = new_key_secret()
    key = _admin_key(secret, "generated admin")
    pending = key_file.with_name(f"{KEY_FILE_NAME}.{key.key_id}.tmp")
    write_secret(pending, secret)
    if await store.create_first_api_key(key) is None:  # another collector minted it first
        pending.unlink(missing_ok=True)
        log.info("API keys exist; the generated admin key is stored in %s", key_file)
        return
    os.replace(pending, key_file)
    _print_banner(secret, key_file)


async def _ensure_target(store: Store, config: CollectorConfig) -> None:
    ws = await store.create_workspace(config.bootstrap_workspace, config.bootstrap_workspace,
                                      exist_ok=True)
    await store.create_project(ws.workspace_id, config.bootstrap_project,
                               config.bootstrap_project, exist_ok=True)


def _admin_key(secret: str, label: str) -> NewApiKey:
    return NewApiKey(new_key_id(), hash_key(secret), None, None, (ADMIN,), label)


def write_secret(path: Path, secret: str) -> None:
    """Write ``secret`` to ``path`` with mode 0600 from the first byte (tmp file + rename)."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secret + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _print_banner(secret: str, key_file: Path) -> None:
    print("\n".join([
        "=" * 72,
        "rundial collector: generated an admin API key (shown only once)",
        f"  stored in: {key_file.resolve()} (mode 0600)",
        f"  use it:    export RUNDIAL_API_KEY={secret}",
        "=" * 72,
    ]), flush=True)


async def ensure_first_user(store: Store, config: CollectorConfig) -> None:
    """Create the bootstrap user (env password) or the generated first user (see module doc)."""
    email = config.bootstrap_email.strip().lower()
    if config.bootstrap_password:
        user = await _create_user(store, email, config.bootstrap_password, exist_ok=True)
        log.info("bootstrap user %s from RUNDIAL_BOOTSTRAP_PASSWORD is %s", email,
                 user.status if user is not None else "active")
        return
    password_file = config.data_dir / PASSWORD_FILE_NAME
    if await store.find_user(email) is not None:
        log.info("users exist; a generated first-user password, if any, is in %s", password_file)
        return
    password = user_accounts.generate_password()
    pending = password_file.with_name(f"{PASSWORD_FILE_NAME}.{secrets.token_hex(4)}.tmp")
    write_secret(pending, password)
    if await _create_user(store, email, password, only_if_first=True) is None:
        pending.unlink(missing_ok=True)  # another collector (or an earlier user) came first
        log.info("users exist; a generated first-user password, if any, is in %s", password_file)
        return
    os.replace(pending, password_file)
    print("\n".join([
        "=" * 72,
        "rundial collector: created the first user (password shown only once)",
        f"  email:     {email}",
        f"  password:  {password}",
        f"  stored in: {password_file.resolve()} (mode 0600)",
        "  log in:    rundial auth login --credentials --email " + email,
        "=" * 72,
    ]), flush=True)


async def _create_user(store: Store, email: str, password: str, *, only_if_first: bool = False,
                       exist_ok: bool = False) -> User | None:
    """A global-admin user (the shared path of :mod:`rundial_collector.user_accounts`)."""
    return await user_accounts.add_user(store, email, password, admin=True,
                                        actor=auditing.SYSTEM, only_if_first=only_if_first,
                                        exist_ok=exist_ok)
