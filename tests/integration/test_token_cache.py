"""The per-process token cache saves the token lookup and never lets a dead token in."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, event, text


@contextmanager
def _statements(app: Any) -> Iterator[list[str]]:
    engine = app.extensions["crowd_db"].engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _token_lookups(statements: list[str]) -> int:
    return sum("api_tokens" in statement for statement in statements)


def test_a_repeated_request_finds_its_user_without_a_statement(app, make_user, manager):
    worker = manager.as_(make_user("worker")[1])
    with _statements(app) as first:
        assert worker.get("/me").status_code == 200
    with _statements(app) as again:
        me = worker.get("/me")
    assert me.status_code == 200 and me.get_json()["role"] == "worker"
    assert _token_lookups(first) == 1 and _token_lookups(again) == 0


def test_a_revoked_token_is_refused_on_the_next_request(app, make_user, manager):
    worker = manager.as_(make_user("worker")[1])
    assert worker.get("/me").status_code == 200  # now cached
    (mine,) = worker.get("/tokens").get_json()["tokens"]
    assert worker.delete(f"/tokens/{mine['id']}").status_code == 204
    assert worker.get("/me").status_code == 401


def test_a_deactivated_user_is_refused_on_the_next_request(app, make_user, manager):
    worker_id, token = make_user("worker")
    worker = manager.as_(token)
    admin = manager.as_(make_user("admin")[1])
    assert worker.get("/me").status_code == 200
    assert admin.patch(f"/users/{worker_id}", {"active": False}).status_code == 200
    assert worker.get("/me").status_code == 401


def test_logging_out_refuses_the_token_at_once(app, make_user, manager):
    worker = manager.as_(make_user("worker")[1])
    assert worker.get("/me").status_code == 200
    assert worker.delete("/tokens").status_code == 204
    assert worker.get("/me").status_code == 401


def test_the_cache_never_outlives_the_token(app, clock, make_user, manager):
    worker = manager.as_(make_user("worker")[1])
    (mine,) = worker.get("/tokens").get_json()["tokens"]
    with app.extensions["crowd_db"].engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = :at WHERE id = :id"),
                     {"at": clock() + timedelta(seconds=2), "id": mine["id"]})
    assert worker.get("/me").status_code == 200  # cached until the expiry, 2 s away
    clock.advance(3)
    assert worker.get("/me").status_code == 401


def test_a_change_made_by_another_process_is_seen_within_the_cache_time(
        app, clock, database_url, make_user, manager):
    """Another process's engine does not empty this one's cache: the revocation
    takes effect here once ``TOKEN_CACHE_SECONDS`` have passed, never later."""
    worker = manager.as_(make_user("worker")[1])
    assert worker.get("/me").status_code == 200
    other = create_engine(database_url)
    try:
        with other.begin() as conn:
            conn.execute(text("UPDATE api_tokens SET revoked_at = expires_at"))
    finally:
        other.dispose()
    ttl = app.config["TOKEN_CACHE_SECONDS"]
    assert ttl > 0
    assert worker.get("/me").status_code == 200  # still in this process's cache
    clock.advance(ttl)
    assert worker.get("/me").status_code == 401

