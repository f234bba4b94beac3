"""``make run``: start the collector on ./data, log the example runs into it, keep serving.

The example (``examples/simulated_training.py``) logs a seeded five-run learning-rate sweep
(loss with spikes, lr schedule, eval accuracy, system metrics, logs, spans, images, an artifact)
in a few seconds, so the web UI opens on charts worth looking at.

It prints the web UI's URL and a one-time login link for the admin key (single use, valid 15
minutes; minted through ``POST /api/v1/ui/login-links``, docs/ui.md).

The collector runs in the foreground until Ctrl+C, which stops it cleanly (the write queue
drains). Re-running is safe: the database, workspace, project and admin key are reused.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import json
import urllib.request
from pathlib import Path

READY_TIMEOUT_SECONDS = 30.0


def _is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health/ready", timeout=1.0) as resp:
            return 200 <= resp.status < 300
    except OSError:
        return False


def _port_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on ("is already in use", …), or None when free."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return "is already in use" if exc.errno == errno.EADDRINUSE else f"fails: {exc}"
    return None


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not _is_ready(url):
        if proc.poll() is not None:  # it printed why (one line) on stderr
            sys.exit(f"the collector exited with code {proc.returncode}")
        if time.monotonic() > deadline:
            proc.terminate()
            sys.exit("the collector did not become ready in time")
        time.sleep(0.1)


def _admin_key(data_dir: Path) -> str:
    key = os.environ.get("RUNDIAL_API_KEY")
    if key:
        return key
    key_file = data_dir / "admin_api_key"
    return key_file.read_text().strip()


def _run_example(url: str, key: str) -> None:
    env = {**os.environ, "RUNDIAL_ENDPOINT": url, "RUNDIAL_API_KEY": key}
    example = Path(__file__).with_name("simulated_training.py")
    subprocess.run([sys.executable, str(example)], env=env, check=True)


def _login_link(url: str, key: str) -> str:
    """A one-time UI login URL for ``key`` (or why there is none)."""
    req = urllib.request.Request(url + "/api/v1/ui/login-links", data=b"{}", method="POST",
                                 headers={"Authorization": f"Bearer {key}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return str(json.loads(resp.read())["url"])
    except (OSError, ValueError, KeyError) as exc:
        return f"(no login link: {exc}; log in at {url}/login with the API key)"


def _print_guide(url: str, data_dir: Path, key: str) -> None:
    key_file = data_dir / "admin_api_key"
    print(f"""
rundial collector is running at {url}
  web UI:   {url}/
  log in:   {_login_link(url, key)}
            (one-time link for the admin key, valid 15 minutes; or paste the API key)
  data:     {data_dir.resolve()} (SQLite database rundial.sqlite3)
  API key:  {key_file.resolve()} (mode 0600)

Query it:
  export RUNDIAL_API_KEY=$(cat {key_file})
  curl -s -H "Authorization: Bearer $RUNDIAL_API_KEY" \\
    "{url}/api/v1/workspaces/default-workspace/projects/default-project/runs/query"

Press Ctrl+C to stop the collector.""", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--data-dir", type=Path, default=Path("./data"))
    args = parser.parse_args()
    url = f"http://{args.host}:{args.port}"
    if _is_ready(url):
        print(f"a collector is already answering at {url}; running the example against it")
        _run_example(url, _admin_key(args.data_dir))
        return 0
    busy = _port_taken(args.host, args.port)
    if busy:
        sys.exit(f"cannot start the collector: {args.host}:{args.port} {busy} (and it is not a "
                 f"rundial collector); pick another port, e.g. make run PORT={args.port + 1}")
    cmd = [sys.executable, "-m", "rundial_collector", "serve", "--host", args.host,
           "--port", str(args.port), "--data-dir", str(args.data_dir)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    # A SIGTERM (`kill`, a process manager) stops the collector too, as Ctrl+C does: the
    # collector runs in its own session, so it would otherwise outlive this script.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _wait_ready(url, proc)
        key = _admin_key(args.data_dir)
        _run_example(url, key)
        _print_guide(url, args.data_dir, key)
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print("collector stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
