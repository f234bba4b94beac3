"""The nginx configuration for several collectors behind one load balancer.

:func:`render_config` is the one source of the configuration that ``docs/nginx-cluster.conf``
shows operators, ``make run-cluster`` (``examples/run_cluster.py``) runs and the end-to-end tests
(``tests/helpers/nginx.py``) start. It only builds text; it starts nothing.

Decisions the configuration encodes (docs/collector.md "Deploying several collectors"):

* ``least_conn``: a request goes to the collector with the fewest requests in flight, not in
  turn: a collector held up (a checkpoint's slow commits on its connections, a garbage
  collection) gets fewer new requests meanwhile. 50 writers back to back through two
  collectors, alternated with round-robin: p99 355 / 299 ms against 447 / 425 ms
  (docs/collector.md, "Ingest, seventh round").
* ``proxy_next_upstream error timeout``: a request that could not reach a collector (refused,
  reset, killed mid-request, timed out) moves to the next one. ``http_502``/``http_503`` are
  NOT listed: a collector answers 503 when the shared database is away, which every collector
  would answer too, and nginx counts such answers as failures (``max_fails``), so it would mark
  every collector down and answer its own 502 without ``Retry-After`` for ``fail_timeout``
  after the database came back. The collector's 503 + ``Retry-After`` reaches the client.
* ``non_idempotent`` only under ``/api/v1/ingest/``: our SDK's ingest batches carry an
  ``Idempotency-Key`` claimed in the batch's own transaction, so a batch re-sent to the
  survivor after its first collector died is stored once (answered ``duplicate`` if the first
  had committed). Other POSTs (run starts, admin calls) are not resent by nginx; the client's
  own retry policy decides.
* ``client_max_body_size`` is the collector's ``max_body_bytes`` plus 1 MiB, so the collector
  (not nginx) answers an oversized body with the protocol's 413 envelope; the blob upload
  routes are unbounded and unbuffered here (the signed URL carries the size the collector
  enforces, and multi-GB checkpoints should not be spooled to nginx's disk).
* ``client_body_buffer_size 1m`` under ``/api/v1/ingest/``: nginx reads a request body
  whole before passing it on (so it can resend it to the next collector), and a body over its
  default buffer (16 KiB) is written to a temporary file first; an SDK's gzip batch of 5,000
  points (~50 KiB) then cost a file write and read per request. Bodies up to 1 MiB stay in
  memory (1 MiB per in-flight ingest request at most).
* ``proxy_read_timeout`` 180 s: above the collector's request timeout (120 s, the longest a
  non-streaming request waits) and the WebSocket heartbeat (30 s).
* The live route passes ``Upgrade``/``Connection`` (WebSocket); other routes use HTTP/1.1
  keep-alive to the collectors (``Connection ""``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rundial_collector.config import MAX_BODY_BYTES, REQUEST_TIMEOUT_SECONDS

__all__ = ["PROXY_READ_TIMEOUT_SECONDS", "render_config"]

# Above the longest non-streaming request (REQUEST_TIMEOUT_SECONDS) and the WebSocket heartbeat.
PROXY_READ_TIMEOUT_SECONDS = int(REQUEST_TIMEOUT_SECONDS) + 60

_TEMPLATE = """\
# rundial: nginx in front of several collectors sharing one PostgreSQL database.
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}

http {{
    access_log off;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;

    upstream rundial_collectors {{
{servers}
        least_conn;
        keepalive 32;
    }}

    # "Connection: upgrade" only when the client asked for a WebSocket; else "" (keep-alive
    # to the collectors).
    map $http_upgrade $rundial_connection {{
        default upgrade;
        ''      '';
    }}

    server {{
        listen {listen};
        client_max_body_size {max_body};
        # Every proxy_set_header is here: a location that set any of its own would inherit
        # none of these (nginx's rule), and the collectors would see Host "rundial_collectors"
        # and sign artifact URLs and login links with it.
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $rundial_connection;
        proxy_read_timeout {read_timeout}s;
        proxy_send_timeout {read_timeout}s;
        proxy_connect_timeout 5s;
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;

        location / {{
            proxy_pass http://rundial_collectors;
        }}

        # Batches carry an Idempotency-Key: resending one to another collector stores it once.
        location /api/v1/ingest/ {{
            proxy_pass http://rundial_collectors;
            proxy_next_upstream error timeout non_idempotent;
            client_body_buffer_size 1m;
        }}

        # The live stream (WebSocket) and other run routes: passed on as they come.
        location /api/v1/runs/ {{
            proxy_pass http://rundial_collectors;
            proxy_buffering off;
        }}

        # Blob uploads and downloads: the signed URL bounds the size; stream, do not spool.
        location /api/v1/artifacts/blobs/ {{
            proxy_pass http://rundial_collectors;
            client_max_body_size 0;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
    }}
}}
"""


def render_config(root: Path | str, listen: str, upstreams: Sequence[str],
                  max_body_bytes: int = MAX_BODY_BYTES) -> str:
    """The nginx.conf text: ``listen`` (``host:port``) in front of ``upstreams`` (``host:port``
    each, the collectors); pid, error log and temp directories under ``root`` (nginx creates
    the temp directories; run as root it hands them to its worker user, which needs ``root``
    searchable). ``max_body_bytes``: the collectors' limit. Raises
    ValueError without upstreams."""
    if not upstreams:
        raise ValueError("at least one upstream collector is needed")
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=2s;" for u in upstreams)
    max_body_kib = (max_body_bytes + 1024 * 1024) // 1024
    return _TEMPLATE.format(root=root, servers=servers, listen=listen,
                            max_body=f"{max_body_kib}k", read_timeout=PROXY_READ_TIMEOUT_SECONDS)
