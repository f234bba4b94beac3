"""Settings for one run: defaults, validation and resolution from arguments, env and file.

Precedence for the target (``api_key``, ``endpoint``, ``workspace``, ``project``):
arguments > environment (``RUNDIAL_*``) > ``~/.config/rundial/config.toml`` > defaults.
Resolution never touches the network; an unreadable config file is ignored with a warning.
Invalid option values raise :class:`ValueError` at ``rd.init`` time (programming errors), never later.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rundial._credentials import DEFAULT_PROFILE, stored_api_key
from rundial._endpoint import normalize_endpoint
from rundial._warn import warn_user
from rundial._values import UNSUPPORTED, plain_scalar, require_utf8_text

DEFAULT_ENDPOINT = "http://127.0.0.1:8787"  # the collector's default bind address
PROFILE_NAME = "__profile__"  # key under which read_profile() reports the active profile's name
QUEUE_CAPACITY_RECORDS = 20_000  # ~13 MB of 10-float dicts; OTel 2048, Prometheus 10k per shard
QUEUE_FULL_WAIT_S = 0.25  # a full queue: log() waits this long for room, then drops (worker stuck)
FLUSH_INTERVAL_S = 1.0  # OTel logs flush every 1 s; ±10% jitter spreads many clients apart
FLUSH_JITTER_RATIO = 0.1
FLUSH_AT_RECORDS = 2_000  # wake the worker early: one orjson call of ~1 ms at this size
MAX_BATCH_RECORDS = 5_000  # rows (log calls) per POST
MAX_BATCH_BYTES = 4 * 1024 * 1024  # uncompressed per POST; the collector's limit is 32 MiB
ENCODE_CHUNK_RECORDS = 500  # rows per orjson call: ~0.2 ms GIL holds; log() p99.9 16-17 us vs 16-27 us at 2,000
REQUEST_TIMEOUT_S = 30.0  # Sentry and Prometheus use 30 s
RETRY_BASE_DELAY_S = 1.0  # full-jitter exponential backoff: U(0, min(cap, base * 2**n))
RETRY_MAX_DELAY_S = 60.0  # wandb core caps at 60 s
SPOOL_MAX_BYTES = 1024**3  # 1 GiB; Vector needs >= 256 MiB for a disk buffer
SPOOL_MAX_AGE_S = 7 * 24 * 3600.0  # wandb retries for ~7 days; matches the collector's idempotency TTL
FINISH_TIMEOUT_S = 5.0  # Sentry shutdown 2 s, OTel 30 s: long enough to drain, short enough to never hang
ARTIFACT_QUEUE_CAPACITY_JOBS = 64  # rc1 default; media values hold their pixels until uploaded
ARTIFACT_CONCURRENCY = 2  # parallel PUTs (files or multipart parts); rc1 default
SYSTEM_METRICS_INTERVAL_S = 10.0  # rc1 default; values below 2 s are raised to 2 s
SYSTEM_METRICS_BACKPRESSURE = 0.8  # skip a sample while the queue is >= 80 % full (rc1)
HEARTBEAT_INTERVAL_S = 30.0  # idle heartbeat; the collector's lost window is 300 s by default

MODES = ("online", "offline", "disabled")
KINDS = ("training", "agent", "eval")
RESUMES = ("never", "allow", "must")
DISTRIBUTED = ("rank0", "all")
RUN_ID_MAX_CHARS = 128  # the collector's rule: 1-128 characters, no "/" or NUL
TEXT_MAX_CHARS = 512  # runName, group, jobType and each tag (the collector's runs/start limit)
TAGS_MAX = 256
# Options that must be str when given: anything else would fail later, at the wire or the spool.
STR_OPTIONS = ("project", "workspace", "endpoint", "api_key", "run_id", "name", "group", "job_type")
ON_QUEUE_FULL = ("wait", "drop")
INGEST_FORMATS = ("auto", "rows")  # auto: columns bodies once a collector announces them


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a run needs, resolved and validated. Durations are seconds, sizes bytes."""

    project: str | None
    workspace: str | None = None
    endpoint: str = DEFAULT_ENDPOINT
    api_key: str | None = dataclasses.field(default=None, repr=False)
    run_id: str | None = None
    name: str | None = None
    kind: str = "training"
    resume: str = "never"
    group: str | None = None
    job_type: str | None = None
    tags: tuple[str, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    mode: str = "online"
    distributed: str = "rank0"
    distributed_rank: int | None = None
    queue_capacity: int = QUEUE_CAPACITY_RECORDS
    on_queue_full: str = "wait"
    queue_full_wait_seconds: float = QUEUE_FULL_WAIT_S
    flush_interval_seconds: float = FLUSH_INTERVAL_S
    flush_at_records: int = FLUSH_AT_RECORDS
    max_batch_points: int = MAX_BATCH_RECORDS
    max_batch_bytes: int = MAX_BATCH_BYTES
    request_timeout_seconds: float = REQUEST_TIMEOUT_S
    retry_base_delay_seconds: float = RETRY_BASE_DELAY_S
    retry_max_delay_seconds: float = RETRY_MAX_DELAY_S
    spool_enabled: bool = True
    spool_directory: str | None = None
    spool_max_bytes: int = SPOOL_MAX_BYTES
    spool_max_age_seconds: float = SPOOL_MAX_AGE_S
    spool_fsync: bool = False
    finish_timeout_seconds: float = FINISH_TIMEOUT_S
    start_worker_on_init: bool = True
    artifact_queue_capacity: int = ARTIFACT_QUEUE_CAPACITY_JOBS
    artifact_concurrency: int = ARTIFACT_CONCURRENCY
    system_metrics: bool = True
    system_metrics_interval_seconds: float = SYSTEM_METRICS_INTERVAL_S
    system_metrics_backpressure_threshold: float = SYSTEM_METRICS_BACKPRESSURE
    system_metrics_provider: Callable[[], Mapping[str, float]] | None = None
    capture_console: bool = False
    heartbeat_interval_seconds: float = HEARTBEAT_INTERVAL_S
    handle_sigterm: bool = True
    ingest_format: str = "auto"
    event_hook: Callable[[dict[str, Any]], None] | None = None

    @property
    def spool_root(self) -> Path:
        """The spool directory: the option, else ``$RUNDIAL_SPOOL_DIR``, else ``~/.cache/rundial/spool``."""
        return Path(self.spool_directory or default_spool_directory()).expanduser()


# Options of the published SDK that are accepted (so code written for it runs unchanged) but
# have no effect in this version; docs/sdk.md explains each.
ACCEPTED_NO_EFFECT = frozenset({
    "session_token", "gzip_enabled", "gzip_min_bytes", "retry_max_attempts", "retry_jitter_ratio",
    "artifact_transport",
})

_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(Settings))


def default_spool_directory() -> str:
    """``$RUNDIAL_SPOOL_DIR`` or ``~/.cache/rundial/spool`` (from ``$HOME``)."""
    return os.environ.get("RUNDIAL_SPOOL_DIR") or os.path.join(_home(), ".cache", "rundial", "spool")


def _home() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")


def config_file_path() -> Path:
    """``$HOME/.config/rundial/config.toml``."""
    return Path(_home()) / ".config" / "rundial" / "config.toml"


def read_profile(path: Path | None = None) -> dict[str, Any]:
    """The active profile of the config file as a dict; ``{}`` when absent or unreadable.

    Reads ``active_profile`` and ``[profiles.<name>]`` (``endpoint``, ``workspace``, ``project``,
    ``api_key``); a legacy flat file (top-level keys) is read as the profile.
    """
    path = path or config_file_path()
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        warn_user(f"rundial: ignoring unreadable config file {path}: {exc}")
        return {}
    profiles = data.get("profiles")
    if isinstance(profiles, dict):
        name = str(data.get("active_profile") or DEFAULT_PROFILE)
        chosen = profiles.get(name)
        return {**chosen, PROFILE_NAME: name} if isinstance(chosen, dict) else {PROFILE_NAME: name}
    return {k: v for k, v in data.items() if isinstance(v, str)}


def resolve_target(endpoint: str | None, api_key: str | None, workspace: str | None,
                   project: str | None) -> dict[str, str | None]:
    """Apply arguments > env > config file > defaults to the four target fields.

    A stored key (config file or keyring) is only used for the endpoint it was stored for; see
    :mod:`rundial._credentials`. The endpoint is normalized (:mod:`rundial._endpoint`):
    ``ValueError`` naming it when it is not an http(s) URL.
    """
    profile = read_profile()
    given = {"endpoint": endpoint, "api_key": api_key, "workspace": workspace, "project": project}
    out: dict[str, str | None] = {}
    for key, value in given.items():
        if value is None:
            value = os.environ.get(f"RUNDIAL_{key.upper()}") or None
        if value is None and key != "api_key":
            file_value = profile.get(key)
            value = file_value if isinstance(file_value, str) and file_value else None
        out[key] = value
    resolved_endpoint = normalize_endpoint(out["endpoint"] or DEFAULT_ENDPOINT)
    out["endpoint"] = resolved_endpoint
    if out["api_key"] is None:
        name = str(profile.get(PROFILE_NAME) or DEFAULT_PROFILE)
        out["api_key"] = stored_api_key(profile, name, resolved_endpoint)
    return out


# The smallest value each numeric option accepts (ValueError below it, at rd.init time).
_MINIMUMS: dict[str, float] = {
    "queue_capacity": 1, "flush_at_records": 1, "max_batch_points": 1, "max_batch_bytes": 1024,
    "flush_interval_seconds": 0.01, "request_timeout_seconds": 0.1,
    "retry_base_delay_seconds": 0.001, "spool_max_bytes": 0, "spool_max_age_seconds": 0,
    "finish_timeout_seconds": 0, "artifact_queue_capacity": 1, "artifact_concurrency": 1,
    "system_metrics_interval_seconds": 0, "heartbeat_interval_seconds": 0,
    "queue_full_wait_seconds": 0,
}


def check_option_names(options: Mapping[str, Any], where: str) -> None:
    """``TypeError`` naming every key of ``options`` that is not an ``rd.init`` option."""
    unknown = set(options) - _OPTION_NAMES - ACCEPTED_NO_EFFECT - {"transport"}
    if unknown:
        raise TypeError(f"{where} got unexpected keyword arguments: {sorted(unknown)}")


def build_settings(options: Mapping[str, Any]) -> Settings:
    """Validate ``rd.init`` keyword arguments and resolve them into :class:`Settings`.

    Raises ``TypeError`` for unknown option names and ``ValueError`` for invalid values.
    """
    check_option_names(options, "rd.init()")
    kwargs = {k: _plain_number(v) for k, v in options.items() if k in _OPTION_NAMES and v is not None}
    _check_strings(kwargs)
    target = resolve_target(kwargs.pop("endpoint", None), kwargs.pop("api_key", None),
                            kwargs.pop("workspace", None), kwargs.pop("project", None))
    kwargs.setdefault("mode", os.environ.get("RUNDIAL_MODE") or "online")
    kwargs.setdefault("ingest_format", os.environ.get("RUNDIAL_INGEST_FORMAT") or "auto")
    kwargs["tags"] = _tags(kwargs.get("tags", ()))
    kwargs["config"] = _config_dict(kwargs.get("config") or {})
    settings = Settings(**target, **kwargs)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _config_dict(config: Any) -> dict[Any, Any]:
    """``config`` (a mapping, or key-value pairs) as a dict; ``TypeError`` naming ``config``
    otherwise (a str used to give dict()'s own ValueError, naming nothing)."""
    try:
        return dict(config)
    except (TypeError, ValueError):
        raise TypeError(f"rd.init(): config must be a mapping (a dict), not "
                        f"{type(config).__name__}") from None


def _plain_number(value: Any) -> Any:
    """A numpy/torch number given for a numeric option, as a Python int or float."""
    plain = plain_scalar(value)
    return plain if plain is not UNSUPPORTED and type(plain) in (int, float) else value


def _check_strings(options: Mapping[str, Any]) -> None:
    """TypeError for a non-str identity option; ValueError for one the collector would refuse
    or that no request can carry (a lone surrogate).

    A non-str name or run id used to fail every request (or the spool) later, losing the data.
    """
    for name in STR_OPTIONS:
        value = options.get(name)
        if value is not None and not isinstance(value, str):
            shown = "" if name == "api_key" else f" {value!r}"
            raise TypeError(f"rd.init(): {name} must be a str, not {type(value).__name__}{shown} "
                            f"(pass str(...) if you meant its text)")
        if value is not None:
            require_utf8_text(f"rd.init(): {name}", value, show=name != "api_key")
    if options.get("run_id") is not None:
        check_run_id(options["run_id"], "run_id")
    for name in ("name", "group", "job_type"):
        if len(options.get(name) or "") > TEXT_MAX_CHARS:
            raise ValueError(f"rd.init(): {name} must be at most {TEXT_MAX_CHARS} characters")


def check_run_id(run_id: str, source: str) -> None:
    """ValueError unless ``run_id`` is 1-128 characters without ``/`` or NUL (the collector's
    rule; ``source`` names where it came from in the message)."""
    if not 1 <= len(run_id) <= RUN_ID_MAX_CHARS or "/" in run_id or "\x00" in run_id:
        raise ValueError(f"{source} must be 1-{RUN_ID_MAX_CHARS} characters without '/' or NUL, "
                         f"not {run_id!r}")


def _tags(tags: Sequence[str] | str) -> tuple[str, ...]:
    """Tags as a tuple of str (non-str tags are converted); ValueError beyond the collector's
    limits (256 tags of at most 512 characters)."""
    out = (tags,) if isinstance(tags, str) else tuple(str(t) for t in tags)
    if len(out) > TAGS_MAX or any(len(t) > TEXT_MAX_CHARS for t in out):
        raise ValueError(f"rd.init(): tags must be at most {TAGS_MAX} strings of at most "
                         f"{TEXT_MAX_CHARS} characters")
    for tag in out:
        require_utf8_text("rd.init(): tags", tag)
    return out


def _validate(s: Settings) -> None:
    _one_of("mode", s.mode, MODES)
    _one_of("kind", s.kind, KINDS)
    _one_of("resume", s.resume, RESUMES)
    _one_of("distributed", s.distributed, DISTRIBUTED)
    _one_of("on_queue_full", s.on_queue_full, ON_QUEUE_FULL)
    _one_of("ingest_format (or RUNDIAL_INGEST_FORMAT)", s.ingest_format, INGEST_FORMATS)
    if s.mode != "disabled" and not s.project:
        raise ValueError("rd.init() needs project= (or RUNDIAL_PROJECT, or a config-file profile)")
    if s.mode == "offline" and not s.spool_enabled:
        raise ValueError("mode='offline' needs the spool (spool_enabled=True)")
    for name, floor in _MINIMUMS.items():
        _at_least(name, getattr(s, name), floor)
    _at_least("retry_max_delay_seconds", s.retry_max_delay_seconds, s.retry_base_delay_seconds)
    threshold = s.system_metrics_backpressure_threshold
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"system_metrics_backpressure_threshold must be in (0, 1], not {threshold!r}")
    if s.system_metrics_provider is not None and not callable(s.system_metrics_provider):
        raise ValueError("system_metrics_provider must be a callable returning {name: number}")
    if s.distributed_rank is not None and (not isinstance(s.distributed_rank, int) or s.distributed_rank < 0):
        raise ValueError(f"distributed_rank must be a non-negative int, not {s.distributed_rank!r}")


def _one_of(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


def _at_least(name: str, value: float, minimum: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{name} must be a number >= {minimum}, not {value!r}")
