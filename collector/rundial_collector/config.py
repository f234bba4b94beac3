"""Collector configuration: one frozen dataclass, resolved once at start-up.

Every knob has an environment-variable equivalent (``RUNDIAL_COLLECTOR_<NAME>``) so that
containers and CI can configure the service without flags. Flags win over the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"  # never listen on all interfaces unless told to
DEFAULT_PORT = 8787  # the rc1 SDK's default endpoint port
MAX_BODY_BYTES = 32 * 1024 * 1024  # decompressed limit; OTel/Collector use 20-64 MiB
WRITE_QUEUE_MAX_JOBS = 256  # bounded group-commit queue; full -> 429 with Retry-After
GROUP_COMMIT_MAX_JOBS = 64  # jobs folded into one SQLite transaction
RETRY_AFTER_SECONDS = 1  # what a 429 tells clients to wait
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600  # matches the SDK's 7-day spool age bound
READ_THREADS = 2  # SQLite reader threads (WAL allows concurrent readers)
LOST_AFTER_SECONDS = 300.0  # a running run with no heartbeat for this long is "lost"
REQUEST_TIMEOUT_SECONDS = 120.0  # every non-streaming request is answered within this (503)
BODY_READ_TIMEOUT_SECONDS = 60.0  # a request body must arrive within this (408)
EVENTS_POLL_SECONDS = 2.0  # live streams also re-read the store this often (catches lost/late rows)
EVENTS_CLOSE_GRACE_SECONDS = 30.0  # a live socket's client gets this long to take the close frame
ARTIFACT_PART_BYTES = 8 * 1024 * 1024  # the rc1 SDK holds one part in memory: keep it modest
ARTIFACT_UPLOAD_URL_TTL_SECONDS = 6 * 3600  # long enough for a slow multi-GB checkpoint upload
ARTIFACT_DOWNLOAD_URL_TTL_SECONDS = 3600
ARTIFACT_PENDING_TTL_SECONDS = 24 * 3600  # unfinalized uploads and staged parts are dropped after this
ARTIFACT_GC_INTERVAL_SECONDS = 3600  # how often unreferenced blobs are swept
DATABASE_POOL_MAX_SIZE = 10  # PostgreSQL connections per collector
DATABASE_STATEMENT_TIMEOUT_SECONDS = 30.0  # PostgreSQL's statement_timeout for our sessions
DATABASE_CONNECT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class CollectorConfig:
    """Settings of one collector process. Build with :meth:`from_env` then ``replace``."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path("./data"))
    max_body_bytes: int = MAX_BODY_BYTES
    write_queue_max_jobs: int = WRITE_QUEUE_MAX_JOBS
    group_commit_max_jobs: int = GROUP_COMMIT_MAX_JOBS
    retry_after_seconds: int = RETRY_AFTER_SECONDS
    idempotency_ttl_seconds: int = IDEMPOTENCY_TTL_SECONDS
    read_threads: int = READ_THREADS
    lost_after_seconds: float = LOST_AFTER_SECONDS
    events_poll_seconds: float = EVENTS_POLL_SECONDS
    events_close_grace_seconds: float = EVENTS_CLOSE_GRACE_SECONDS
    request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS
    body_read_timeout_seconds: float = BODY_READ_TIMEOUT_SECONDS
    artifact_part_bytes: int = ARTIFACT_PART_BYTES
    artifact_multipart_threshold_bytes: int = 0  # 0: the part size
    artifact_upload_url_ttl_seconds: int = ARTIFACT_UPLOAD_URL_TTL_SECONDS
    artifact_download_url_ttl_seconds: int = ARTIFACT_DOWNLOAD_URL_TTL_SECONDS
    artifact_pending_ttl_seconds: int = ARTIFACT_PENDING_TTL_SECONDS
    artifact_gc_interval_seconds: int = ARTIFACT_GC_INTERVAL_SECONDS
    access_log: bool = True
    event_loop: str = "auto"  # auto (uvloop where installed), uvloop or asyncio: eventloop.py
    public_url: str | None = None
    bootstrap_api_key: str | None = None
    # PostgreSQL (docs/collector.md "Deploying several collectors"): empty selects SQLite under
    # data_dir. ``database_ssl``: "" takes ``sslmode`` from the URL; else disable, prefer,
    # require, verify-ca or verify-full.
    database_url: str = ""
    database_pool_min_size: int = 1
    database_pool_max_size: int = DATABASE_POOL_MAX_SIZE
    database_statement_timeout_seconds: float = DATABASE_STATEMENT_TIMEOUT_SECONDS
    database_connect_timeout_seconds: float = DATABASE_CONNECT_TIMEOUT_SECONDS
    database_ssl: str = ""
    bootstrap_workspace: str = "default-workspace"
    bootstrap_project: str = "default-project"
    bootstrap_email: str = "admin@localhost"  # the first user (credential login)
    bootstrap_password: str | None = None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "rundial.sqlite3"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> CollectorConfig:
        """Defaults overridden by ``RUNDIAL_COLLECTOR_*`` and ``RUNDIAL_BOOTSTRAP_*`` variables."""
        env = dict(os.environ if environ is None else environ)
        base = cls()
        updates: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"RUNDIAL_COLLECTOR_{f.name.upper()}")
            if raw is not None:
                updates[f.name] = _coerce(raw, getattr(base, f.name), f.name)
        for name in ("api_key", "workspace", "project", "email", "password"):
            raw = env.get(f"RUNDIAL_BOOTSTRAP_{name.upper()}")
            if raw:
                updates[f"bootstrap_{name}"] = raw
        return replace(base, **updates)  # type: ignore[arg-type]


def _coerce(raw: str, default: object, name: str) -> object:
    """Parse an environment string into the type of the field's default."""
    if isinstance(default, bool):
        if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(f"RUNDIAL_COLLECTOR_{name.upper()} must be a boolean, got {raw!r}")
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw
