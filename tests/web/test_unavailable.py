"""A database that cannot be reached, or fails mid-request: 503 with Retry-After, never 500.

On PostgreSQL the app talks to the database through a real TCP proxy
(tests/system/tcp_proxy.py) that the test cuts; on SQLite, which has no
connection to cut, the failure is a real unopenable file or a real lock, and
a driver error raised at the same point where PostgreSQL would fail.
Afterwards nothing half-written may remain, and a retry of the same answer
must store it exactly once.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import make_url

import config
from crowd import create_app
from crowd.persistence import Assignment, Item, Label
from crowd.web.errors import RETRY_AFTER_SECONDS
from tests.conftest import Api, Clock
from tests.databases import backends, pg_admin_url
from tests.system.server import free_port
from tests.system.tcp_proxy import TcpProxy

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _via(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy | None]:
    """A cuttable proxy in front of the PostgreSQL test database (None on SQLite)."""
    if database_url.startswith("sqlite"):
        yield None
        return
    with TcpProxy("127.0.0.1", make_url(database_url).port or 5432) as running:
        yield running


@pytest.fixture
def app(database_url: str, proxy: TcpProxy | None, clock: Clock) -> Iterator[Flask]:
    """Overrides conftest's app: the same database, reached through ``proxy`` on PostgreSQL."""
    url = database_url if proxy is None else _via(database_url, proxy.port)
    application = create_app(config.TestConfig(url, DATABASE_CONNECT_TIMEOUT=2))
    application.extensions["crowd_clock"] = clock
    yield application
    application.extensions["crowd_db"].engine.dispose()


def _stored(database_url: str) -> dict[str, Any]:
    """Labels, answered leases and label counts, read directly (not through the proxy)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                "labels": conn.execute(select(Label.assignment_id, Label.label)).all(),
                "answered": conn.scalar(select(func.count()).select_from(Assignment)
                                        .where(Assignment.answered_at.is_not(None))),
                "n_labels": conn.scalar(select(func.coalesce(func.sum(Item.n_labels), 0))),
            }
    finally:
        engine.dispose()


def _assert_503(response: Any, *, json: bool = True) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    if json:
        error = response.get_json()["error"]
        assert error["code"] == "database_unavailable"
        assert error["message"]
    else:
        assert response.mimetype == "text/html"  # crowd's bare 503 page (error_pages)
        assert "unavailable" in response.get_data(as_text=True)


def _leased(app: Flask, qualification: bool = False) -> tuple[Api, int]:
    """A worker (API client) holding a lease on the one item of a fresh project
    (with ``qualification``, a gold item of a one-question qualification round)."""
    from crowd.extensions import db
    from crowd.services.accounts import create_user, issue_token

    with app.app_context():
        manager = create_user(db.session, "boss", "password-123", "manager")
        worker = create_user(db.session, "hand", "password-123", "worker")
        tokens = issue_token(db.session, manager), issue_token(db.session, worker)
    client = app.test_client()
    boss = Api(client, tokens[0])
    project = boss.post("/projects", {"name": "faults", "labels": ["a", "b", "c"],
                                      "redundancy": 1, "max_redundancy": 1,
                                      "qualification_size": int(qualification),
                                      "gold_rate": 0.0})
    assert project.status_code == 201, project.get_json()
    project_id = project.get_json()["id"]
    item: dict[str, Any] = {"external_id": "x", "data": {}}
    if qualification:
        item["gold_label"] = "a"
    items = boss.post(f"/projects/{project_id}/items", [item])
    assert items.status_code == 201, items.get_json()
    hand = Api(client, tokens[1])
    offer = hand.post(f"/projects/{project_id}/next")
    assert offer.status_code == 200, offer.get_json()
    return hand, offer.get_json()["assignment_id"]


@pytest.fixture
def leased(app: Flask) -> tuple[Api, int]:
    return _leased(app)


# --- an unreachable database -----------------------------------------------------------


def _unreachable_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}"  # a directory: "unable to open database file"
    closed_port = free_port()  # nothing listens there
    return _via(pg_admin_url(), closed_port)


@pytest.mark.parametrize("backend", backends())
def test_unreachable_database_answers_503_everywhere_and_healthz_stays_up(
    backend: str, tmp_path: Path,
) -> None:
    url = _unreachable_url(backend, tmp_path)
    app = create_app(config.TestConfig(url, DATABASE_CONNECT_TIMEOUT=2))
    try:
        client = app.test_client()
        api = Api(client, "some-token")
        _assert_503(api.get("/projects"))
        _assert_503(api.post("/assignments/1/answer", {"label": "a"}))
        _assert_503(client.post("/api/v1/tokens", json={"username": "u", "password": "p"}))
        # A browser page whose user must be loaded from the database.
        with client.session_transaction() as cookie:
            cookie["_user_id"] = "1:0"  # user 1 at session version 0
            cookie["_fresh"] = True
        _assert_503(client.get("/work/1"), json=False)
        _assert_503(client.get("/readyz"))
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json() == {"status": "ok"}
        # Bad input is still refused as such where no database is needed to say so.
        assert client.get("/api/v1/no-such-endpoint").status_code == 404
    finally:
        app.extensions["crowd_db"].engine.dispose()


def test_sqlite_database_is_locked_answers_503(
    sqlite_template: Any, tmp_path: Path,
) -> None:
    """SQLite only: its write lock, held by another process past the busy timeout."""
    database_url = sqlite_template.fresh(tmp_path)
    app = create_app(config.TestConfig(database_url))
    try:
        worker, assignment_id = _leased(app)
        engine = app.extensions["crowd_db"].engine
        engine.dispose()  # new connections get the short busy timeout below
        event.listen(engine, "connect",
                     lambda conn, _record: conn.execute("PRAGMA busy_timeout=200"))
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            _assert_503(worker.post(f"/assignments/{assignment_id}/answer", {"label": "a"}))
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert _stored(database_url)["labels"] == []
        retried = worker.post(f"/assignments/{assignment_id}/answer", {"label": "a"})
        assert retried.status_code == 200 and retried.get_json() == {"accepted": True}
        assert len(_stored(database_url)["labels"]) == 1
    finally:
        app.extensions["crowd_db"].engine.dispose()


# --- failing in the middle of an answer ------------------------------------------------


def _fail_connection(proxy: TcpProxy | None) -> None:
    """Make the database go away now: cut the proxy, or on SQLite raise its I/O error."""
    if proxy is not None:
        proxy.cut()
    else:
        raise sqlite3.OperationalError("disk I/O error")


def test_connection_lost_mid_answer_leaves_nothing_half_written(
    app: Flask, database_url: str, proxy: TcpProxy | None, leased: tuple[Api, int],
) -> None:
    worker, assignment_id = leased
    armed = {"on": True}

    @event.listens_for(app.extensions["crowd_db"].engine, "before_cursor_execute")
    def _cut_at_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed["on"] and statement.lstrip().upper().startswith("INSERT INTO LABELS"):
            armed["on"] = False
            _fail_connection(proxy)

    _assert_503(worker.post(f"/assignments/{assignment_id}/answer", {"label": "b"}))
    assert not armed["on"], "the fault was never injected"
    assert _stored(database_url) == {"labels": [], "answered": 0, "n_labels": 0}

    if proxy is not None:
        _assert_503(worker.post(f"/assignments/{assignment_id}/answer", {"label": "b"}))
        proxy.restore()
    retried = worker.post(f"/assignments/{assignment_id}/answer", {"label": "b"})
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json() == {"accepted": True}
    assert _stored(database_url) == {"labels": [(assignment_id, "b")], "answered": 1,
                                     "n_labels": 1}


@pytest.mark.parametrize("qualification", [False, True], ids=["work", "qualification"])
def test_reply_to_commit_lost_after_the_answer_was_stored_is_safe_to_retry(
    app: Flask, database_url: str, proxy: TcpProxy | None, qualification: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database stored the answer but the app never heard back: 503, then the
    retry of the same label is 200 with the body the first try would have had
    (with its gold feedback in a qualification round) and stores nothing more."""
    worker, assignment_id = _leased(app, qualification)
    expected: dict[str, Any] = {"accepted": True}
    if qualification:
        expected["feedback"] = {"correct": False, "expected": "a"}
    engine = app.extensions["crowd_db"].engine
    state = {"after_insert": False, "lost": 0}
    real_commit = engine.dialect.do_commit

    @event.listens_for(engine, "before_cursor_execute")
    def _watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO LABELS"):
            state["after_insert"] = True

    def commit_then_lose_reply(dbapi_connection: Any) -> None:
        real_commit(dbapi_connection)
        if state["after_insert"] and not state["lost"]:
            state["lost"] += 1
            if proxy is not None:
                proxy.cut()
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(engine.dialect, "do_commit", commit_then_lose_reply)
    _assert_503(worker.post(f"/assignments/{assignment_id}/answer", {"label": "c"}))
    assert state["lost"] == 1
    stored = {"labels": [(assignment_id, "c")], "answered": 1, "n_labels": int(not qualification)}
    assert _stored(database_url) == stored
    if proxy is not None:
        proxy.restore()
    retried = worker.post(f"/assignments/{assignment_id}/answer", {"label": "c"})
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json() == expected
    other = worker.post(f"/assignments/{assignment_id}/answer", {"label": "a"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "already_answered"
    assert _stored(database_url) == stored


def test_a_failing_statement_is_still_a_500_not_a_503(tmp_path: Path) -> None:
    """Only outages are 503: a broken statement is a bug, logged and answered 500."""
    from sqlalchemy import exc as sa_exc

    from crowd.web.errors import database_unavailable

    app = create_app(config.TestConfig(f"sqlite:///{tmp_path / 'x.sqlite'}"))
    app.testing = False  # answer as in production instead of raising into the test

    @app.get("/api/v1/_broken")
    def _broken() -> Any:
        raise sa_exc.ProgrammingError("SELECT nonsense", {}, Exception("syntax error"))

    response = app.test_client().get("/api/v1/_broken")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal"
    assert "Retry-After" not in response.headers
    lost = sa_exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)
    assert database_unavailable(lost)
    assert not database_unavailable(sa_exc.IntegrityError("INSERT", {}, Exception("dup")))
    for bug in ("no such table: users", 'near "SELEC": syntax error'):
        assert not database_unavailable(
            sa_exc.OperationalError("SELEC", {}, sqlite3.OperationalError(bug)))
    assert database_unavailable(sa_exc.OperationalError(
        "BEGIN", {}, sqlite3.OperationalError("database is locked")))
    app.extensions["crowd_db"].engine.dispose()
