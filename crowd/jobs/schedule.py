"""The schedule: which job runs how often (intervals from the settings), and who runs it.

Only the web processes (``wsgi.py``, when ``CROWD_SCHEDULER_ENABLED``), ``crowd
scheduler`` and ``crowd serve`` start the schedule: ``create_app`` never does, so
``crowd db upgrade`` and the other commands run no job. A tick on a database that
cannot be used (no tables yet, or unreachable) logs one line and skips, and the
next tick tries again.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from crowd.jobs import bodies
from crowd.jobs.activity import refresh_activity
from crowd.jobs.locks import run_once
from crowd.persistence import Base

log = logging.getLogger("crowd.jobs")

JOBS: dict[str, tuple[str, Callable[[Session], str]]] = {
    "reaggregate": ("AGGREGATE_INTERVAL_SECONDS", bodies.reaggregate),
    "drift": ("DRIFT_INTERVAL_SECONDS", bodies.check_drift),
    "leases": ("LEASE_CLEANUP_INTERVAL_SECONDS", bodies.clean_leases),
    "statistics": ("STATISTICS_INTERVAL_SECONDS", bodies.refresh_statistics),
    "activity": ("ACTIVITY_INTERVAL_SECONDS", refresh_activity),
}


def missing_tables(engine: Engine) -> list[str]:
    """crowd's tables that the database at ``engine`` does not have (all of them
    before ``crowd db upgrade``)."""
    present = set(inspect(engine).get_table_names())
    return sorted(set(Base.metadata.tables) - present)


class Tick:
    """One job's scheduled call: skips, with one log line, while the database
    cannot be used; runs ``run_once`` otherwise."""

    def __init__(self, app: Flask, name: str, interval: timedelta,
                 body: Callable[[Session], str]) -> None:
        self.app, self.name, self.interval, self.body = app, name, interval, body
        self._skipping: str | None = None  # why the last tick skipped, if it did
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """Run the job if this process wins the interval; False if skipped or not won."""
        bound = self.app.extensions["crowd_db"]
        with self.app.app_context():
            try:
                missing = missing_tables(bound.engine)
                if missing:
                    what = ("none of crowd's tables" if len(missing) == len(Base.metadata.tables)
                            else f"no table {', '.join(missing)}")
                    return self._skip(f"the database has {what} (run `crowd db upgrade`)")
                ran = run_once(bound.engine, bound.factory, self.name, self.interval, self.body)
            except DBAPIError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else ""
                return self._skip(f"the database cannot be used: {type(exc.orig).__name__}: "
                                  f"{reason}")
        with self._lock:
            if self._skipping is not None:
                log.warning("crowd job %s: the database can be used again; running", self.name)
                self._skipping = None
        return ran

    def _skip(self, why: str) -> bool:
        with self._lock:
            level = logging.DEBUG if why == self._skipping else logging.WARNING
            self._skipping = why
        log.log(level, "crowd job %s skipped: %s", self.name, why)
        return False


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Put every job on ``scheduler``; each run claims its interval in the database."""
    for name, (setting, body) in JOBS.items():
        interval = timedelta(seconds=int(app.config[setting]))
        scheduler.add_job(Tick(app, name, interval, body), "interval",
                          seconds=interval.total_seconds(), id=name, max_instances=1,
                          coalesce=True, next_run_time=datetime.now(UTC))


def _log_to_stderr() -> None:
    """Show crowd's job lines (and APScheduler's warnings) when nothing else set up logging."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("crowd.jobs").setLevel(logging.INFO)


def start_background(app: Flask) -> BackgroundScheduler:
    """Run the jobs in a thread of this process; started once per app."""
    running = app.extensions.get("crowd_scheduler")
    if isinstance(running, BackgroundScheduler):
        return running
    _log_to_stderr()
    scheduler = BackgroundScheduler(daemon=True, timezone=UTC)
    add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["crowd_scheduler"] = scheduler
    return scheduler


def start_if_enabled(app: Flask) -> BackgroundScheduler | None:
    """``start_background`` when the settings say ``CROWD_SCHEDULER_ENABLED``, else None
    (the web processes' entry point and ``crowd serve`` call this)."""
    if not app.config.get("SCHEDULER_ENABLED"):
        return None
    return start_background(app)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    log.info("crowd scheduler: stopping on signal %d once running jobs finish", signum)
    raise SystemExit(0)


def run_blocking(app: Flask) -> None:
    """Run the jobs in the foreground until interrupted (``crowd scheduler``).

    SIGTERM (``systemctl stop``, ``docker stop``) and Ctrl-C stop it after the
    jobs that are running finish, so none leaves its lock row held."""
    _log_to_stderr()
    scheduler = BlockingScheduler(timezone=UTC)
    add_jobs(scheduler, app)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        scheduler.start()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
