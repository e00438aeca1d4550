"""A real crowd server for system tests: gunicorn in a child process.

    with GunicornServer(database_url, log_dir=tmp_path, workers=4, threads=4) as server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
        ...

The server binds a free port on 127.0.0.1, runs ``wsgi:app`` with
``config/gunicorn.py`` under ``CROWD_CONFIG=production``, and is started only
once it answers HTTP. ``stop()`` (also on leaving the ``with`` block) sends
SIGTERM, waits, then kills the whole process group. Several servers may run
side by side on one database (give each its own ``name`` so their logs are
apart); ``env`` adds or overrides environment variables (for example
``{"CROWD_SCHEDULER_ENABLED": "1"}``). Start a server from the thread that
will stop it (the test's own): on Linux it is also ended when that thread dies.
"""
from __future__ import annotations

import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONFIG = REPO_ROOT / "config" / "gunicorn.py"
TEST_SECRET_KEY = "system-test-secret-key-0123456789abcdef-not-for-production-use"
# Variables of the parent that would change how the child is configured.
_SCRUBBED_PREFIXES = ("CROWD_", "GUNICORN_")
_SCRUBBED = {"GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "FLASK_APP", "FLASK_DEBUG"}


def _end_with_parent() -> None:
    """In the child before exec: SIGTERM it when the thread that started it dies
    (Linux), so a test run killed without cleanup leaves no server behind."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


class ServerError(RuntimeError):
    """The server did not start (the message carries the tail of its log)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the caller retries on a clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class GunicornServer:
    """One gunicorn master (and its workers) serving crowd on ``database_url``."""

    def __init__(
        self,
        database_url: str,
        *,
        log_dir: Path,
        name: str = "server",
        workers: int = 4,
        threads: int = 4,
        env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.database_url = database_url
        self.log_path = Path(log_dir) / f"{name}.log"
        self.name = name
        self.workers = workers
        self.threads = threads
        self.extra_env = dict(env or {})
        self.extra_args = tuple(extra_args)
        self.host = host
        self.port = 0
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(_SCRUBBED_PREFIXES) and k not in _SCRUBBED
        }
        env.update({
            "CROWD_CONFIG": "production",
            "CROWD_SECRET_KEY": TEST_SECRET_KEY,
            "CROWD_DATABASE_URL": self.database_url,
            "CROWD_SCHEDULER_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "-c", str(GUNICORN_CONFIG),
            "--bind", f"{self.host}:{self.port}",
            "-w", str(self.workers),
            "--threads", str(self.threads),
            *self.extra_args,
            "wsgi:app",
        ]

    def start(self, attempts: int = 3) -> GunicornServer:
        """Start on a free port and wait until the server answers HTTP."""
        if self.process is not None:
            raise ServerError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            self.port = free_port(self.host)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._log.write(f"--- start attempt {attempt} on port {self.port}\n".encode())
            self._log.flush()
            self.process = subprocess.Popen(
                self.command(), cwd=REPO_ROOT, env=self.environment(),
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches the workers
                preexec_fn=_end_with_parent,
            )
            try:
                self._wait_until_ready()
                return self
            except ServerError:
                exited = self.process.poll() is not None
                self.stop()
                # A clash on the port makes gunicorn exit at once: try another port.
                if not exited or attempt == attempts or "in use" not in self.log_tail():
                    raise
        raise AssertionError("unreachable")

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with {self.process.returncode} while starting:\n"
                    f"{self.log_tail()}"
                )
            try:
                status = self.status_of("GET", "/api/v1/me", timeout=2.0)
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            if status < 500:
                return
            time.sleep(0.1)
        raise ServerError(
            f"{self.name} did not answer within {self.start_timeout}s:\n{self.log_tail()}"
        )

    def cpu_seconds(self) -> float:
        """User + system CPU seconds of the gunicorn master and its live workers
        (from /proc; Linux), for benchmarks to set beside the requests served."""
        assert self.process is not None, "the server is not running"
        master = self.process.pid
        pids = [master]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == master:  # ppid
                    pids.append(int(entry.name))
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after ``stop_timeout``); its exit code."""
        process, self.process = self.process, None
        code = None
        if process is not None:
            if process.poll() is None:
                self._signal_group(process, signal.SIGTERM)
                try:
                    process.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    self._signal_group(process, signal.SIGKILL)
                    process.wait(10)
            # Workers left behind by a master that died: end its group too.
            self._signal_group(process, signal.SIGKILL)
            code = process.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(process.pid, sig)  # the group this helper created for this process
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(
        self, _type: type[BaseException] | None, _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- inspection ------------------------------------------------------------

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        """A new HTTP client connection to this server."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def status_of(self, method: str, path: str, timeout: float = 10.0) -> int:
        """The status of one request on a fresh connection."""
        conn = self.connection(timeout)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def log_text(self) -> str:
        if self._log is not None:
            self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
