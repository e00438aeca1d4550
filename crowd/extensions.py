"""Extensions made once and bound to an app in the factory."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm import Session, sessionmaker

from crowd.persistence import token_cache

READONLY = "crowd_readonly"


def _configure_sqlite(engine: Engine) -> None:
    """Make SQLite transactions serialise writers instead of failing them.

    pysqlite's own transaction handling is switched off so that we emit BEGIN
    ourselves: ``BEGIN IMMEDIATE`` takes the write lock up front, so two writers
    queue on the busy timeout rather than one failing on a stale snapshot.
    Read-only sessions (``crowd_readonly`` execution option) use a plain BEGIN.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    writers = _WriterQueue()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READONLY, False):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = conn.connection.dbapi_connection
        writers.enter(dbapi_conn)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(dbapi_conn)
            raise

    # The turn ends when the connection goes back to the pool: after the COMMIT or
    # ROLLBACK has run (the engine's commit and rollback events come before it,
    # and the next writer would find the database still locked). A session gives
    # its connection back at the end of each transaction.
    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn: Any, _record: Any) -> None:
        writers.leave(dbapi_conn)

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_conn: Any, _record: Any, _exc: Any) -> None:
        writers.leave(dbapi_conn)


class _WriterQueue:
    """This process's SQLite writers, one at a time, waiting on a lock.

    SQLite lets one writer in; the others' ``busy_timeout`` polls with sleeps
    growing to 100 ms, so under load a writer could wait seconds while others
    passed it. Threads of one process queue here instead and start the moment
    the writer before them ends (8 threads looping next and answer in one
    process: p99 of ``next`` 940 ms without, 120 ms with, at the same rate); the
    busy timeout still orders writers of different processes.
    """

    # Never wait forever on a writer this process lost track of: after this,
    # go on to SQLite's own busy timeout.
    WAIT_SECONDS = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: int | None = None

    def enter(self, dbapi_conn: Any) -> None:
        if self._holder == id(dbapi_conn):
            return  # a further transaction on the connection whose turn it is
        if self._lock.acquire(timeout=self.WAIT_SECONDS):
            self._holder = id(dbapi_conn)

    def leave(self, dbapi_conn: Any) -> None:
        if self._holder is not None and self._holder == id(dbapi_conn):
            self._holder = None
            self._lock.release()


DEFAULT_CONNECT_TIMEOUT = 5


def make_engine(url: str, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings crowd relies on.

    ``connect_timeout`` (seconds, PostgreSQL only) bounds how long opening a
    connection may take, so an unreachable server fails the request quickly
    (503) instead of holding a worker thread; a ``connect_timeout`` in the URL wins.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        _configure_sqlite(engine)
        return engine
    connect_args = {} if "connect_timeout=" in url else {"connect_timeout": connect_timeout}
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args=connect_args, **kwargs)


class Database:
    """Engine and request-scoped session (one session per request) of each app."""

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(
            url, app.config.get("DATABASE_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT))
        app.extensions["crowd_db"] = _Bound(engine, sessionmaker(engine, expire_on_commit=False))
        token_cache.install(engine, app.config.get("TOKEN_CACHE_SECONDS", 0))
        app.teardown_appcontext(self._remove)

    @staticmethod
    def _bound() -> _Bound:
        return current_app.extensions["crowd_db"]

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._bound().engine

    @property
    def session(self) -> Session:
        """The session of the current app context, made on first use."""
        if "db_session" not in g:
            g.db_session = self._bound().factory()
        return g.db_session

    def readonly_session(self) -> Session:
        """A new session whose SQLite transactions do not take the write lock."""
        bound = self._bound()
        return bound.factory(bind=bound.engine.execution_options(**{READONLY: True}))

    @staticmethod
    def discard() -> None:
        """Roll back and drop this request's session after a database failure.

        A connection that cannot even roll back (the server went away) is
        invalidated, so the pool opens a fresh one instead of reusing it. Loaded
        objects (the request's user) are detached first, keeping at least their
        primary key even when the failed flush or commit expired them, so the
        request log can still read ``user.id`` without a query.
        """
        session = g.pop("db_session", None)
        if session is None:
            return
        for obj in list(session.identity_map.values()):
            state = inspect(obj)
            for column, value in zip(state.mapper.primary_key, state.identity or (), strict=False):
                set_committed_value(obj, state.mapper.get_property_by_column(column).key, value)
        session.expunge_all()
        try:
            session.rollback()
        except Exception:  # noqa: BLE001 - the connection is gone; drop it
            session.invalidate()
        else:
            session.close()

    @staticmethod
    def _remove(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


@dataclass(frozen=True)
class _Bound:
    engine: Engine
    factory: sessionmaker[Session]


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
