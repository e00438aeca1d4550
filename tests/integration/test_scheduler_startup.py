"""Who starts the schedule: the web processes (wsgi.py), ``crowd scheduler`` and
``crowd serve`` when enabled; never ``create_app`` or another command. A job on a
database it cannot use logs one line and skips instead of failing every tick."""
from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

import config
from crowd import create_app, migrate
from crowd.cli import main
from crowd.jobs import bodies, schedule

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = {"CROWD_AGGREGATE_INTERVAL_SECONDS": "1", "CROWD_DRIFT_INTERVAL_SECONDS": "1",
        "CROWD_LEASE_CLEANUP_INTERVAL_SECONDS": "1", "CROWD_STATISTICS_INTERVAL_SECONDS": "1"}
RUN_TIMEOUT = 60.0
# Runs a crowd command with APScheduler's start() reporting itself, and says at
# exit whether an APScheduler thread was ever alive.
INSTRUMENTED = """
import sys, threading
from apscheduler.schedulers.base import BaseScheduler
real_start = BaseScheduler.start
def start(self, *args, **kwargs):
    print("SCHEDULER STARTED", type(self).__name__, file=sys.stderr, flush=True)
    return real_start(self, *args, **kwargs)
BaseScheduler.start = start
from crowd.cli import main
code = main(sys.argv[1:])
print("threads:", sorted(t.name for t in threading.enumerate()), file=sys.stderr)
sys.exit(code)
"""


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROWD_")}
    env.update(FAST, CROWD_DATABASE_URL=url, CROWD_INSTANCE_PATH=str(tmp_path),
               CROWD_SCHEDULER_ENABLED="true", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_db_upgrade_with_the_scheduler_enabled_runs_no_job(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite"
    result = subprocess.run(
        [sys.executable, "-c", INSTRUMENTED, "db", "upgrade"], cwd=REPO_ROOT,
        env=_env(tmp_path, f"sqlite:///{path}"), capture_output=True, text=True,
        timeout=RUN_TIMEOUT, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "database at revision head" in result.stdout
    assert "SCHEDULER STARTED" not in output
    assert "APScheduler" not in output  # no scheduler thread was alive at exit
    assert "no such table" not in output and "Traceback" not in output, output
    assert _count(path, "job_runs") == 0
    assert _count(path, "job_states") == 0


@pytest.fixture
def scheduler_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every APScheduler start in this process, by scheduler class (none really starts)."""
    started: list[str] = []
    monkeypatch.setattr(BaseScheduler, "start",
                        lambda self, *a, **k: started.append(type(self).__name__))
    return started


def test_create_app_never_starts_the_scheduler(database_url: str,
                                                scheduler_starts: list[str]) -> None:
    app = create_app(config.TestConfig(database_url, SCHEDULER_ENABLED=True))
    try:
        assert app.config["SCHEDULER_ENABLED"] is True
        assert "crowd_scheduler" not in app.extensions
        assert scheduler_starts == []
    finally:
        app.extensions["crowd_db"].engine.dispose()


def test_other_commands_start_no_scheduler(database_url: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           scheduler_starts: list[str]) -> None:
    for name, value in _env(tmp_path, database_url).items():
        if name.startswith("CROWD_"):
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("CROWD_CONFIG", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert main(["users", "create", "erin", "--role", "worker", "--password", "long-enough"]) == 0
    assert scheduler_starts == []


@pytest.mark.parametrize("enabled", [True, False])
def test_serve_starts_the_scheduler_only_when_enabled(enabled: bool, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      scheduler_starts: list[str]) -> None:
    monkeypatch.setenv("CROWD_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite'}")
    monkeypatch.setenv("CROWD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CROWD_SCHEDULER_ENABLED", "true" if enabled else "false")
    monkeypatch.delenv("CROWD_CONFIG", raising=False)
    served: list[Flask] = []
    monkeypatch.setattr(Flask, "run", lambda self, **kwargs: served.append(self))
    monkeypatch.setattr(BaseScheduler, "shutdown", lambda self, wait=True: None)
    assert main(["serve", "--port", "5999"]) == 0
    assert len(served) == 1
    assert scheduler_starts == (["BackgroundScheduler"] if enabled else [])
    assert ("crowd_scheduler" in served[0].extensions) is enabled


@pytest.mark.parametrize("enabled", ["true", "false"])
def test_the_wsgi_entry_point_starts_the_scheduler_when_enabled(enabled: str,
                                                                tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wsgi.sqlite'}"
    migrate.upgrade(url)
    probe = ("import wsgi; s = wsgi.app.extensions.get('crowd_scheduler'); "
             "print('running' if s is not None and s.running else 'none')")
    env = _env(tmp_path, url, CROWD_SCHEDULER_ENABLED=enabled,
               CROWD_AGGREGATE_INTERVAL_SECONDS="3600", CROWD_DRIFT_INTERVAL_SECONDS="3600",
               CROWD_LEASE_CLEANUP_INTERVAL_SECONDS="3600")
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("running" if enabled == "true" else "none")


@pytest.mark.parametrize("url", ["sqlite", "postgresql+psycopg://crowd@127.0.0.1:1/nothing"])
def test_a_job_on_a_database_it_cannot_use_logs_one_line_and_skips(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    if url == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    app = create_app(config.TestConfig(url))
    tick = schedule.Tick(app, "leases", timedelta(seconds=1), bodies.clean_leases)
    try:
        with caplog.at_level(logging.DEBUG, logger="crowd.jobs"):
            assert [tick(), tick(), tick()] == [False, False, False]
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, warnings
        assert warnings[0].startswith("crowd job leases skipped: ")
        expected = "none of crowd's tables" if "sqlite" in url else "cannot be used"
        assert expected in warnings[0], warnings[0]
        if "sqlite" in url:
            caplog.clear()
            migrate.upgrade(url)
            assert tick() is True
            assert "can be used again" in caplog.text
            assert _count(tmp_path / "empty.sqlite", "job_runs") == 1
    finally:
        app.extensions["crowd_db"].engine.dispose()


def test_crowd_scheduler_waits_for_the_tables_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "crowd.cli", "scheduler"], cwd=REPO_ROOT,
            env=_env(tmp_path, f"sqlite:///{path}"), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while "running scheduled jobs" not in log_path.read_text() \
                    and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.1)
            time.sleep(3.5)  # three or four ticks of every job on a database without tables
            assert process.poll() is None, log_path.read_text()
            os.kill(process.pid, signal.SIGTERM)
            code = process.wait(15)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
    output = log_path.read_text()
    assert code == 0, output
    assert "Traceback" not in output and "raised an exception" not in output, output
    for name in schedule.JOBS:
        assert output.count(f"crowd job {name} skipped: the database has none of crowd's "
                            "tables (run `crowd db upgrade`)") == 1, output
