"""``make run-cluster``: PostgreSQL, two collectors on it and nginx in front, plus the example.

The topology of docs/collector.md "Deploying several collectors", on one machine:

* a throwaway PostgreSQL 15 cluster in ``<data-dir>/pg`` (initdb on first use; run as the
  ``postgres`` user when started as root, since PostgreSQL refuses root), on a free port, with
  the database ``rundial``;
* two collectors (``--database-url`` that database) on free ports of 127.0.0.1, sharing the
  blob directory ``<data-dir>/shared`` (blobs, the artifact signing secret, the generated
  admin key). The first starts alone, so exactly one mints the admin key;
* nginx (configuration from :mod:`rundial_collector.nginx_conf`, written to
  ``<data-dir>/nginx/nginx.conf``) on ``--host``:``--port`` (default 127.0.0.1:8787);
* the example sweep (``examples/simulated_training.py``) logged through nginx.

Ctrl+C (or SIGTERM) stops nginx, then the collectors (they drain), then PostgreSQL. Re-running
reuses the database, so the runs and the admin key survive. ``rm -rf data-cluster`` starts over.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from run_local import (_admin_key, _login_link, _port_taken, _run_example,  # same folder
                       _wait_ready)

from rundial_collector.nginx_conf import render_config
from rundial_collector.store.postgres.server_settings import server_options

PG_BIN = Path(os.environ.get("RUNDIAL_PG_BIN", "/usr/lib/postgresql/15/bin"))
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
PORT_TIMEOUT_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _pg(cmd: list[str], root: Path) -> str:
    done = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def start_postgres(root: Path) -> int:
    """initdb ``root/pg`` on first use, start it on a free port, create ``rundial``; the port."""
    if not (PG_BIN / "initdb").exists():
        sys.exit(f"PostgreSQL 15 is not installed ({PG_BIN}); run `make postgres` as root")
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    if os.geteuid() == 0 and subprocess.run(_as_postgres(["test", "-w", str(root)]),
                                            check=False).returncode != 0:
        sys.exit(f"the postgres user cannot reach {root}: choose a --data-dir (make run-cluster CLUSTER_DATA=...) "
                 "whose parent directories it may enter")
    data = root / "data"
    stop_postgres(root)  # a server left running by a killed earlier run (its port is unknown)
    if not data.exists():
        _pg([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
             "-E", "UTF8"], root)
    port = _free_port()
    _pg([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "pg.log"), "-w", "-t", "60",
         "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 {server_options()}",
         "start"], root)
    exists = _pg(["psql", "-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p", str(port), "-U",
                  "postgres", "-c", "SELECT 1 FROM pg_database WHERE datname = 'rundial'"], root)
    if not exists.strip():
        _pg(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
             "-c", "CREATE DATABASE rundial"], root)
    return port


def stop_postgres(root: Path) -> None:
    if (root / "data" / "postmaster.pid").exists():
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(root / "data"), "-m",
                                     "fast", "-w", "stop"]), cwd=root, check=False,
                       capture_output=True)


def start_collector(name: str, base: Path, database_url: str
                    ) -> tuple[subprocess.Popen[bytes], str]:
    """One collector on a free port of 127.0.0.1 over ``base/shared``; (process, URL)."""
    port_file = base / f"{name}.port"
    port_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "rundial_collector", "serve", "--host", "127.0.0.1",
           "--port", "0", "--port-file", str(port_file), "--data-dir", str(base / "shared"),
           "--no-access-log"]
    env = {**os.environ, "RUNDIAL_COLLECTOR_DATABASE_URL": database_url}
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    deadline = time.monotonic() + PORT_TIMEOUT_SECONDS
    while not port_file.exists() or not port_file.read_text().strip().isdigit():
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"collector {name} did not start (exit code {proc.poll()})")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port_file.read_text().strip()}"
    _wait_ready(url, proc)
    return proc, url


def start_nginx(base: Path, listen: str, upstreams: list[str]) -> subprocess.Popen[bytes]:
    root = base / "nginx"
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)  # nginx's worker user reaches the temp directories nginx creates here
    (root / "nginx.conf").write_text(render_config(root.resolve(), listen, upstreams))
    return subprocess.Popen([NGINX_BIN, "-c", str((root / "nginx.conf").resolve()),
                             "-p", str(root.resolve())], start_new_session=True)


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _print_guide(url: str, base: Path, key: str, collectors: list[str], pg_port: int) -> None:
    print(f"""
rundial cluster is running: nginx at {url} in front of two collectors
  web UI:      {url}/
  log in:      {_login_link(url, key)}
  collectors:  {', '.join(collectors)} (each answers on its own too)
  database:    postgresql://postgres@127.0.0.1:{pg_port}/rundial ({base.resolve()}/pg)
  blobs:       {(base / 'shared').resolve()} (shared by both collectors)
  API key:     {(base / 'shared' / 'admin_api_key').resolve()}

Log through nginx: RUNDIAL_ENDPOINT={url} RUNDIAL_API_KEY=$(cat {base / 'shared' / 'admin_api_key'})

Press Ctrl+C to stop nginx, the collectors and PostgreSQL.""", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--data-dir", type=Path, default=Path("./data-cluster"))
    parser.add_argument("--no-example", action="store_true", help="start, do not log the sweep")
    args = parser.parse_args()
    busy = _port_taken(args.host, args.port)
    if busy:
        sys.exit(f"cannot start nginx: {args.host}:{args.port} {busy}; pick another port, e.g. "
                 f"make run-cluster PORT={args.port + 1}")
    base = args.data_dir.resolve()
    (base / "shared").mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    pg_root = base / "pg"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        pg_port = start_postgres(pg_root)
        database_url = f"postgresql://postgres@127.0.0.1:{pg_port}/rundial"
        urls = []
        for name in ("collector-a", "collector-b"):  # one after the other: one admin key
            proc, url = start_collector(name, base, database_url)
            procs.append(proc)
            urls.append(url)
        nginx = start_nginx(base, f"{args.host}:{args.port}", [u[len("http://"):] for u in urls])
        procs.insert(0, nginx)
        front = f"http://{args.host}:{args.port}"
        _wait_ready(front, nginx)
        key = _admin_key(base / "shared")
        if not args.no_example:
            _run_example(front, key)
        _print_guide(front, base, key, urls, pg_port)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a process of the cluster exited; stopping the rest", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in procs:  # nginx first, then the collectors (they drain)
            stop(proc)
        stop_postgres(pg_root)
    print("cluster stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
