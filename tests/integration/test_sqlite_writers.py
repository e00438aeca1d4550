"""SQLite writers of one process take turns on a lock, each turn ending when its
connection goes back to the pool (commit, rollback, or a failed BEGIN)."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from crowd.extensions import db

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Generous: only a hang (a turn never given back) runs into it.
HANG = 30.0


def _second_writer(app: Any, done: threading.Event) -> threading.Thread:
    def write() -> None:
        with app.app_context():
            session = app.extensions["crowd_db"].factory()
            session.execute(text("UPDATE users SET session_version = session_version + 1"))
            session.commit()
            session.close()
            done.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_a_writer_waits_for_the_turn_and_gets_it_when_the_first_ends(app, make_user, ending):
    make_user("worker")
    factory = app.extensions["crowd_db"].factory
    first = factory()
    first.execute(text("UPDATE users SET active = active"))  # BEGIN IMMEDIATE: the turn
    done = threading.Event()
    thread = _second_writer(app, done)
    assert not done.wait(0.3), "a second writer got in while the first held the turn"
    getattr(first, ending)()
    first.close()
    assert done.wait(HANG), "the turn was never given back"
    thread.join(HANG)


def test_a_reader_does_not_wait_for_a_writer(app, make_user):
    make_user("worker")
    writer = app.extensions["crowd_db"].factory()
    writer.execute(text("UPDATE users SET active = active"))
    try:
        with app.app_context():
            reader = db.readonly_session()
            assert reader.execute(text("SELECT count(*) FROM users")).scalar() == 1
            reader.close()
    finally:
        writer.rollback()
        writer.close()


def test_one_session_writing_twice_keeps_its_turn_without_waiting_on_itself(app, make_user):
    make_user("worker")
    session = app.extensions["crowd_db"].factory()
    with session.connection() as conn:
        conn.execute(text("UPDATE users SET active = active"))
        conn.commit()
        conn.execute(text("UPDATE users SET active = active"))  # a new transaction
        conn.commit()
    session.close()
    done = threading.Event()
    _second_writer(app, done).join(HANG)
    assert done.is_set()
