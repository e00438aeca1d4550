"""A crowd server of the simulator's own: a migrated database, an admin, gunicorn.

The server is a real ``gunicorn wsgi:app`` process group under the production
settings, on a free port of 127.0.0.1, with the scheduled jobs running as they
would in production (the drift job at ``drift_interval`` seconds). ``stop()``
ends exactly that process group.
"""
from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parents[2]


class ServerError(Exception):
    """The server could not be prepared or did not start."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def prepare_database(url: str, admin: str, password: str) -> None:
    """Migrate the database at ``url`` and create an ``admin`` account in it directly."""
    from config import BaseConfig
    from crowd import create_app, migrate
    from crowd.extensions import db
    from crowd.services.accounts import create_user

    migrate.upgrade(url)
    settings = BaseConfig()
    settings.DATABASE_URL = url
    settings.SCHEDULER_ENABLED = False
    app = create_app(settings)
    try:
        with app.app_context():
            create_user(db.session, admin, password, "admin")
    finally:
        app.extensions["crowd_db"].engine.dispose()


class LocalServer:
    """gunicorn serving crowd on ``database_url`` (a temporary SQLite file when None)."""

    def __init__(self, database_url: str | None, *, workers: int = 4, threads: int = 4,
                 drift_interval: int = 5, start_timeout: float = 60.0) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="crowd-simulate-")
        folder = Path(self._tmp.name)
        self.database_url = database_url or f"sqlite:///{folder / 'crowd.sqlite'}"
        self.backend = make_url(self.database_url).get_backend_name()
        self.log_path = folder / "server.log"
        self.workers, self.threads = workers, threads
        self.drift_interval = drift_interval
        self.start_timeout = start_timeout
        self.host, self.port = "127.0.0.1", 0
        self.admin = f"sim-admin-{secrets.token_hex(4)}"
        self.password = secrets.token_urlsafe(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def describe(self) -> str:
        where = "a temporary SQLite file" if self.backend == "sqlite" else self.backend
        return (f"gunicorn on {self.url} ({self.workers} workers x {self.threads} threads), "
                f"{where}, drift job every {self.drift_interval} s")

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CROWD_", "GUNICORN_")) and k != "WEB_CONCURRENCY"}
        env.update({
            "CROWD_CONFIG": "production",
            "CROWD_SECRET_KEY": secrets.token_hex(32),
            "CROWD_DATABASE_URL": self.database_url,
            "CROWD_INSTANCE_PATH": self._tmp.name,
            "CROWD_SCHEDULER_ENABLED": "1",
            "CROWD_DRIFT_INTERVAL_SECONDS": str(self.drift_interval),
            "CROWD_ACCESS_LOG": str(Path(self._tmp.name) / "access.log"),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def start(self) -> LocalServer:
        """Prepare the database, start gunicorn, and wait until it answers."""
        if not (REPO_ROOT / "wsgi.py").is_file():
            raise ServerError(f"wsgi.py not found in {REPO_ROOT}: run crowd from its source tree")
        try:
            prepare_database(self.database_url, self.admin, self.password)
        except Exception as exc:  # noqa: BLE001 - any failure here is the operator's to see
            raise ServerError(f"cannot prepare the database: {type(exc).__name__}: {exc}") from None
        self.port = free_port(self.host)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO_ROOT / "config" / "gunicorn.py"),
             "--bind", f"{self.host}:{self.port}", "-w", str(self.workers),
             "--threads", str(self.threads), "wsgi:app"],
            cwd=REPO_ROOT, env=self.environment(), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn exited with {self.process.returncode}: "
                                  f"{self.log_tail()}")
            conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
            try:
                conn.request("GET", "/api/v1/me")
                if conn.getresponse().status < 500:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(0.1)
        raise ServerError(f"gunicorn did not answer within {self.start_timeout:.0f} s: "
                          f"{self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])

    def errors_logged(self) -> list[str]:
        """The last line (the exception) of each traceback in the server's log;
        a healthy run has none."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        errors, inside = [], False
        for line in lines:
            if line.startswith("Traceback"):
                inside = True
            elif inside and line and not line.startswith(" "):
                errors.append(line.strip())
                inside = False
        return errors

    def stop(self) -> None:
        """SIGTERM the gunicorn process group, SIGKILL it if it lingers; remove the files."""
        process, self.process = self.process, None
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
            except ProcessLookupError:
                pass
            with contextlib.suppress(ProcessLookupError):  # workers a dead master left
                os.killpg(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._tmp.cleanup()

    def __enter__(self) -> LocalServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.stop()
