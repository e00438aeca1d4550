"""Scheduled jobs run once per interval across processes sharing one database.

Several schedulers tick every job every INTERVAL seconds, each on its own
phase. For DURATION seconds they compete; afterwards the ``job_runs`` table
must show what the lock guarantees however busy the machine is: never two runs
of one job at once, and never more runs than intervals between the first
process starting and the last stopping (a lock that let every process run
would give several runs per interval). A loaded machine only makes runs late,
so the test asserts no lower bound beyond "each job ran", and nothing about
the gap between recorded starts (a start is recorded after its claim, so a
late recording can shorten one gap without two runs sharing an interval). The
counts and gaps are printed. PostgreSQL: two gunicorn servers with the scheduler on in
each of their workers (four schedulers). SQLite: two ``crowd scheduler``
processes (the lock row alone).
"""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crowd import migrate
from crowd.jobs.locks import EARLY
from crowd.jobs.schedule import JOBS
from crowd.persistence import JobRun
from tests.databases import scratch_postgres
from tests.system.server import REPO_ROOT, GunicornServer

INTERVAL = 2
DURATION = 8.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
SCHEDULE_ENV = {
    "CROWD_AGGREGATE_INTERVAL_SECONDS": str(INTERVAL),
    "CROWD_DRIFT_INTERVAL_SECONDS": str(INTERVAL),
    "CROWD_LEASE_CLEANUP_INTERVAL_SECONDS": str(INTERVAL),
    "CROWD_STATISTICS_INTERVAL_SECONDS": str(INTERVAL),
}


class SchedulerProcess:
    """``crowd scheduler`` in a process group of its own, logging to a file."""

    def __init__(self, url: str, log_dir: Path, name: str) -> None:
        self.log_path = log_dir / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROWD_")}
        env.update(SCHEDULE_ENV, CROWD_CONFIG="development", CROWD_DATABASE_URL=url,
                   CROWD_INSTANCE_PATH=str(log_dir / f"{name}-instance"),
                   PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crowd.cli", "scheduler"], cwd=REPO_ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_running(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if "running scheduled jobs" in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"scheduler did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        self._log.close()


@contextmanager
def _schedulers(url: str, log_dir: Path) -> Iterator[None]:
    processes: list[SchedulerProcess] = []
    try:
        for name in ("scheduler-a", "scheduler-b"):
            processes.append(SchedulerProcess(url, log_dir, name))
        for process in processes:
            process.wait_running()
        yield
    finally:
        for process in processes:
            process.stop()


@contextmanager
def _servers(url: str, log_dir: Path) -> Iterator[None]:
    env = {"CROWD_SCHEDULER_ENABLED": "true", **SCHEDULE_ENV}
    with ExitStack() as stack:
        for name in ("server-a", "server-b"):
            server = GunicornServer(url, log_dir=log_dir, name=name, workers=2, threads=2,
                                    env=env)
            stack.callback(server.stop)
            server.start()
        yield


def _runs(url: str) -> dict[str, list[JobRun]]:
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(JobRun).order_by(JobRun.started_at)).all()
    finally:
        engine.dispose()
    by_job: dict[str, list[JobRun]] = {name: [] for name in JOBS}
    for row in rows:
        by_job.setdefault(row.name, []).append(row)
    return by_job


def _check_once_per_interval(url: str, window: tuple[datetime, datetime]) -> None:
    """``window`` spans from before the first process started to after the last
    stopped, so every claim of every run lies inside it."""
    by_job = _runs(url)
    assert set(by_job) == set(JOBS)
    begin, end = window
    watched = (end - begin).total_seconds()
    # A claim moves the job's next run one interval on and may come EARLY of an
    # interval before it: at most this many claims fit in the window, however
    # late each run was recorded after its claim.
    ceiling = math.floor(watched / (INTERVAL * (1 - EARLY))) + 1
    report = []
    for name, runs in by_job.items():
        assert runs, f"{name}: never ran"
        for earlier, later in zip(runs, runs[1:]):
            assert earlier.finished_at is not None, f"{name}: a run never finished"
            assert earlier.finished_at <= later.started_at, f"{name}: runs overlapped"
        assert all(run.ok for run in runs), [run.detail for run in runs if not run.ok]
        starts = [run.started_at for run in runs]
        gaps = [(b - a).total_seconds() for a, b in zip(starts, starts[1:])]
        owners = {run.owner for run in runs}
        report.append(f"{name}: {len(runs)} runs in {watched:.1f}s (at most {ceiling}), "
                      f"gaps {min(gaps, default=0):.2f}-{max(gaps, default=0):.2f}s, "
                      f"{len(owners)} owner(s)")
        assert len(runs) <= ceiling, report[-1]
    print("\n".join(report))


def _watch(start: Callable[[str, Path], AbstractContextManager[None]], url: str,
           log_dir: Path) -> None:
    begin = datetime.now(UTC)
    with start(url, log_dir):
        time.sleep(DURATION)
    end = datetime.now(UTC)
    _check_once_per_interval(url, (begin, end))


@pytest.mark.postgresql
def test_jobs_run_once_per_interval_across_two_servers_on_postgresql(tmp_path):
    with contextmanager(scratch_postgres)() as url:
        migrate.upgrade(url)
        _watch(_servers, url, tmp_path)


def test_jobs_run_once_per_interval_across_two_schedulers_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'crowd.sqlite'}"
    migrate.upgrade(url)
    _watch(_schedulers, url, tmp_path)


@pytest.mark.parametrize("setting", sorted(SCHEDULE_ENV))
def test_every_interval_setting_names_a_job(setting):
    assert setting.removeprefix("CROWD_") in {s for s, _ in JOBS.values()}
