"""The schedule: which job runs how often (intervals from the settings)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.orm import Session

from crowd.jobs import bodies
from crowd.jobs.locks import run_once

JOBS: dict[str, tuple[str, Callable[[Session], str]]] = {
    "reaggregate": ("AGGREGATE_INTERVAL_SECONDS", bodies.reaggregate),
    "drift": ("DRIFT_INTERVAL_SECONDS", bodies.check_drift),
    "leases": ("LEASE_CLEANUP_INTERVAL_SECONDS", bodies.clean_leases),
}


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Put every job on ``scheduler``; each run claims its interval in the database."""
    bound = app.extensions["crowd_db"]
    for name, (setting, body) in JOBS.items():
        interval = timedelta(seconds=int(app.config[setting]))

        def tick(name: str = name, interval: timedelta = interval,
                 body: Callable[[Session], str] = body) -> None:
            with app.app_context():
                run_once(bound.engine, bound.factory, name, interval, body)

        scheduler.add_job(tick, "interval", seconds=interval.total_seconds(), id=name,
                          max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))


def start_background(app: Flask) -> BackgroundScheduler:
    """Run the jobs in a thread of this process (``CROWD_SCHEDULER_ENABLED``)."""
    scheduler = BackgroundScheduler(daemon=True, timezone=UTC)
    add_jobs(scheduler, app)
    scheduler.start()
    app.extensions["crowd_scheduler"] = scheduler
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the jobs in the foreground until interrupted (``crowd scheduler``)."""
    scheduler = BlockingScheduler(timezone=UTC)
    add_jobs(scheduler, app)
    scheduler.start()
