"""TLS between the collector and PostgreSQL (``database_ssl`` / the URL's ``sslmode``), against
a real server with TLS on and a self-signed certificate made by openssl for this test."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rundial_collector.store.errors import StoreUnavailable
from rundial_collector.store.postgres.engine import Conn, PgEngine, PgSettings
from tests.helpers.postgres import PgCluster, postgres_available


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=rundial-test-db", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o600)
    if os.geteuid() == 0:
        for path in (cert, key):
            shutil.chown(path, "postgres", "postgres")
    return cert, key


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    reason = postgres_available()
    if reason is not None or shutil.which("openssl") is None:
        pytest.fail(reason or "openssl is missing")
    cluster = PgCluster()
    cert, key = _self_signed(cluster.root)
    cluster.extra_options = f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()


async def _uses_tls(conn: Conn) -> bool:
    return bool(await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))


async def _tls_of(url: str, ssl: str) -> bool:
    engine = PgEngine(PgSettings(url=url, ssl=ssl, connect_timeout_seconds=5.0))
    await engine.start()
    try:
        return await engine.read(_uses_tls)
    finally:
        await engine.close()


@pytest.mark.parametrize(("ssl", "expected"), [("require", True), ("disable", False)])
async def test_database_ssl_decides_whether_the_connection_is_encrypted(
        tls_cluster: PgCluster, ssl: str, expected: bool) -> None:
    assert await _tls_of(tls_cluster.url(), ssl) is expected


async def test_the_url_sslmode_is_used_when_database_ssl_is_empty(
        tls_cluster: PgCluster) -> None:
    assert await _tls_of(tls_cluster.url() + "?sslmode=require", "") is True


async def test_verify_full_refuses_an_untrusted_certificate(tls_cluster: PgCluster) -> None:
    """A certificate no CA vouches for is refused: a clear StoreUnavailable, no connection."""
    with pytest.raises(StoreUnavailable):
        await _tls_of(tls_cluster.url(), "verify-full")
