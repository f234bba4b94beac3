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
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from rundial_collector.config import CollectorConfig
from rundial_collector.store.base import Store
from rundial_collector.store.control_base import NewApiKey
from rundial_collector.web.auth import ADMIN, hash_key, new_key_id, new_key_secret

log = logging.getLogger("rundial.collector")
KEY_FILE_NAME = "admin_api_key"


async def ensure_bootstrap(store: Store, config: CollectorConfig) -> None:
    """Create the bootstrap workspace, project and admin key on first start (idempotent)."""
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
    _write_secret(pending, secret)
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


def _write_secret(path: Path, secret: str) -> None:
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
