"""A real nginx (Debian's nginx-light) as the load balancer in front of several collectors.

:class:`NginxProcess` runs ``/usr/sbin/nginx`` as a child process with a private configuration
(``daemon off``, pid, error log and temp paths in its own directory) on a free port, waits until
it answers, and stops it. Nothing is mocked.

The configuration itself and the decisions it encodes: :mod:`rundial_collector.nginx_conf`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from rundial_collector.nginx_conf import render_config
from tests.helpers.postgres import start_on_a_free_port

NGINX_BIN = Path("/usr/sbin/nginx")
START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0


def nginx_available() -> str | None:
    """None when nginx can be started here, else why not."""
    if not NGINX_BIN.exists():
        return f"{NGINX_BIN} is missing (make nginx installs nginx-light)"
    return None


class NginxProcess:
    """nginx on 127.0.0.1:<free port> balancing ``upstreams``. :meth:`start`, :meth:`stop`.

    ``url`` is the base URL clients use. ``root`` holds nginx.conf, the pid, the error log and
    the temp directories; it is deleted by :meth:`stop` unless given by the caller."""

    def __init__(self, upstreams: Sequence[str], root: Path | None = None,
                 port: int = 0, host: str = "127.0.0.1") -> None:
        self.upstreams = list(upstreams)
        self._own_root = root is None
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="rundial-nginx-"))
        self.host = host
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def conf_path(self) -> Path:
        return self.root / "nginx.conf"

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        """Write the configuration, start nginx, wait until it answers HTTP (any status: the
        collectors behind it may not be up yet). Raises RuntimeError with nginx's output."""
        reason = nginx_available()
        if reason is not None:
            raise RuntimeError(reason)
        if self.port:
            self._start_on_port()
            return
        self.port = start_on_a_free_port(self._start_on)

    def _start_on(self, port: int) -> None:
        self.port = port
        self._start_on_port()

    def _start_on_port(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # nginx (as root) creates its temp directories here and gives them to its worker
        # user, which must be able to reach them.
        self.root.chmod(0o711)
        self.conf_path.write_text(render_config(self.root, f"{self.host}:{self.port}",
                                                self.upstreams))
        out = open(self.root / "stdout.log", "ab")
        self._proc = subprocess.Popen([str(NGINX_BIN), "-c", str(self.conf_path),
                                       "-p", str(self.root)],
                                      stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self._wait_answering()

    def stop(self) -> None:
        """SIGTERM (fast shutdown), SIGKILL after a deadline; delete a root we created."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> NginxProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self._proc.returncode}:\n"
                                   f"{self._output()}\n{self.error_log()}")
            try:
                with urllib.request.urlopen(self.url + "/health/live", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # nginx answered (a 502 while no collector is up is still an answer)
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"nginx never answered on {self.url}:\n{self.error_log()}")

    def _output(self) -> str:
        path = self.root / "stdout.log"
        return path.read_text(errors="replace") if path.exists() else ""
