"""Extensions made once and bound to an app in the factory."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get(READONLY, False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the settings crowd relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


class Database:
    """Engine and request-scoped session (one session per request) of each app."""

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        if url.startswith("sqlite:///") and ":memory:" not in url:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(url)
        app.extensions["crowd_db"] = _Bound(engine, sessionmaker(engine, expire_on_commit=False))
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
