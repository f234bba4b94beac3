"""The nginx configuration for several collectors (rundial_collector/nginx_conf.py): the file
docs/nginx-cluster.conf is exactly what the tests and ``make run-cluster`` run, and real nginx
accepts it (``nginx -t``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from rundial_collector.config import MAX_BODY_BYTES, REQUEST_TIMEOUT_SECONDS
from rundial_collector.nginx_conf import PROXY_READ_TIMEOUT_SECONDS, render_config
from tests.helpers.nginx import NGINX_BIN, nginx_available

DOC = Path(__file__).resolve().parents[2] / "docs" / "nginx-cluster.conf"


def test_the_documented_config_is_the_one_the_tests_run() -> None:
    expected = render_config("/var/lib/rundial-nginx", "0.0.0.0:80",
                             ["10.0.0.11:8787", "10.0.0.12:8787"])
    assert DOC.read_text() == expected


@pytest.mark.skipif(nginx_available() is not None, reason=str(nginx_available()))
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    tmp_path.chmod(0o711)
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_config(tmp_path, "127.0.0.1:1", ["127.0.0.1:2", "127.0.0.1:3"]))
    done = subprocess.run([str(NGINX_BIN), "-t", "-c", str(conf), "-p", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_limits_leave_the_answers_to_the_collector() -> None:
    text = render_config("/x", "127.0.0.1:1", ["127.0.0.1:2"])
    body_kib = int(re.search(r"client_max_body_size (\d+)k;", text)[1])  # type: ignore[index]
    assert body_kib * 1024 > MAX_BODY_BYTES  # the collector's 413 envelope, not nginx's page
    assert PROXY_READ_TIMEOUT_SECONDS > REQUEST_TIMEOUT_SECONDS
    assert f"proxy_read_timeout {PROXY_READ_TIMEOUT_SECONDS}s;" in text
    # A collector's 503 (database away) is passed on, never retried or counted as a failure.
    assert "http_503" not in text and "http_502" not in text
    assert text.count("non_idempotent") == 1


def test_locations_set_no_headers_of_their_own() -> None:
    """nginx inherits proxy_set_header only into locations that set none: one there would drop
    the server's Host, and the collectors would sign URLs for the upstream's name."""
    text = render_config("/x", "127.0.0.1:1", ["127.0.0.1:2"])
    for block in re.findall(r"location [^{]*\{([^}]*)\}", text):
        assert "proxy_set_header" not in block, block
    assert "proxy_set_header Host $http_host;" in text


def test_no_upstream_is_an_error() -> None:
    with pytest.raises(ValueError, match="upstream"):
        render_config("/x", "127.0.0.1:1", [])


def test_requests_go_to_the_least_busy_collector() -> None:
    """least_conn: a collector held up gets fewer new requests (docstring of nginx_conf)."""
    text = render_config("/x", "127.0.0.1:1", ["127.0.0.1:2", "127.0.0.1:3"])
    upstream = text.split("upstream rundial_collectors {", 1)[1].split("}", 1)[0]
    assert "least_conn;" in upstream and "server 127.0.0.1:3" in upstream
