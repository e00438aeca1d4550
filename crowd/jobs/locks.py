"""Running a job once per interval across processes and servers.

A job first *claims* its interval with one conditional UPDATE of its lock row
(``job_states``): only the process whose UPDATE matched runs it, and it moves
``next_run_at`` one interval on. While it runs it holds the row's
``locked_until`` lease, and on PostgreSQL also an advisory lock, so two runs of
one job never overlap even when one overruns its interval.
"""
from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crowd.persistence import JobRun, JobState, utcnow

# A tick up to this share of the interval early still counts, so that
# schedulers whose clocks jitter do not skip a beat.
EARLY = 0.05
MAX_RUNTIME = timedelta(minutes=30)


def owner_name() -> str:
    """This process, as recorded in the lock row and the run log."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"crowd-job:{name}".encode()).digest()[:8], "big",
                          signed=True)


def claim(session: Session, name: str, interval: timedelta, owner: str, now: datetime) -> bool:
    """Take this interval's run of job ``name``; False if another process has it."""
    if session.get(JobState, name) is None:
        try:
            with session.begin_nested():
                session.execute(insert(JobState).values(name=name, next_run_at=now))
        except IntegrityError:
            pass
    result = session.execute(
        update(JobState)
        .where(JobState.name == name,
               JobState.next_run_at <= now + interval * EARLY,
               (JobState.locked_until.is_(None)) | (JobState.locked_until < now))
        .values(next_run_at=now + interval, locked_by=owner, locked_until=now + MAX_RUNTIME)
    )
    session.commit()
    return result.rowcount == 1


def release(session: Session, name: str, owner: str) -> None:
    """Give the lock row back after a run."""
    session.execute(
        update(JobState).where(JobState.name == name, JobState.locked_by == owner)
        .values(locked_by=None, locked_until=None)
    )
    session.commit()


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[bool]:
    """On PostgreSQL, hold ``pg_try_advisory_lock`` for the block (yields whether it
    was got); elsewhere the lock row alone guards the run (yields True)."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = _advisory_key(name)
    with engine.connect() as conn:
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def run_once(
    engine: Engine, factory: sessionmaker[Session], name: str, interval: timedelta,
    body: Callable[[Session], str],
) -> bool:
    """Run ``body`` if this process wins the interval; record the run. True if it ran."""
    owner = owner_name()
    with factory() as session:
        if not claim(session, name, interval, owner, utcnow()):
            return False
    with advisory_lock(engine, name) as got:
        if not got:
            with factory() as session:
                release(session, name, owner)
            return False
        with factory() as session:
            run = JobRun(name=name, owner=owner, started_at=utcnow())
            session.add(run)
            session.commit()
            run_id = run.id
        ok, detail = True, ""
        try:
            with factory() as session:
                detail = body(session)
        except Exception as exc:  # noqa: BLE001 - a failed job is recorded, not fatal
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        with factory() as session:
            session.execute(update(JobRun).where(JobRun.id == run_id)
                            .values(finished_at=utcnow(), ok=ok, detail=detail[:2000]))
            session.commit()
            release(session, name, owner)
    return True


def recent_runs(session: Session, name: str, limit: int = 50) -> list[JobRun]:
    """The latest runs of a job, newest first."""
    return list(session.scalars(
        select(JobRun).where(JobRun.name == name).order_by(JobRun.id.desc()).limit(limit)
    ))
