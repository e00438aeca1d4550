"""Planner statistics: a bulk change analyses the items table after its commit, a
small one costs nothing, and the statistics job analyses the tables changed enough
since their last analysis (autovacuum's rule) and no other."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from crowd.domain.gold import SHUFFLE_KEYS
from crowd.extensions import db
from crowd.jobs.schedule import JOBS, Tick
from crowd.persistence import JobRun
from crowd.persistence.statistics import BULK_ROWS, needs_refresh


def _rows(start: int, stop: int) -> list[dict[str, Any]]:
    return [{"external_id": f"item-{i}", "data": {"text": f"item {i}"}} for i in range(start, stop)]


def _analysed_rows(engine: Any, table: str) -> float | None:
    """The row count of ``table`` the last ANALYZE stored; None if it was never analysed."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = :t"),
                               {"t": table})
            return None if rows < 0 else rows
        if conn.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")):
            stat = conn.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table})
            return float(stat.split()[0]) if stat else None
        return None


def _analyze_counts(engine: Any) -> dict[str, int]:
    """PostgreSQL's count of ANALYZEs of each table (nothing on SQLite)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT relname, analyze_count FROM pg_stat_user_tables")).all())


@contextmanager
def _analyses(engine: Any) -> Iterator[list[str]]:
    """The ANALYZE statements run inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("ANALYZE"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _import(manager: Any, pid: int, rows: list[dict[str, Any]]) -> None:
    response = manager.post(f"/projects/{pid}/items", rows)
    assert response.status_code == 201 and response.get_json()["created"] == len(rows)


def test_a_large_import_or_change_analyses_items_after_its_commit_and_a_small_one_does_not(
        app, make_project, manager):
    engine = app.extensions["crowd_db"].engine
    pid = make_project(n_items=0)["id"]
    before = _analyze_counts(engine).get("items", 0)
    assert _analysed_rows(engine, "items") is None

    _import(manager, pid, _rows(0, 6000))  # over BULK_ROWS
    assert _analysed_rows(engine, "items") == 6000
    with _analyses(engine) as seen:
        _import(manager, pid, _rows(6000, 6040))  # 50 rows or fewer: not even a look
    assert seen == [] and _analysed_rows(engine, "items") == 6000
    _import(manager, pid, _rows(6040, 6740))  # 700 > 50 + 10% of 6,000
    assert _analysed_rows(engine, "items") == 6740
    _import(manager, pid, _rows(6740, 6840))  # 100 <= 50 + 10% of 6,740
    assert _analysed_rows(engine, "items") == 6740
    if engine.dialect.name == "postgresql":
        assert _analyze_counts(engine)["items"] == before + 2

    with _analyses(engine) as seen:  # every open item waits on the new redundancy
        assert manager.patch(f"/projects/{pid}", {"redundancy": 4}).status_code == 200
    assert [s.replace('"', "") for s in seen] == ["ANALYZE items"]
    assert _analysed_rows(engine, "items") == 6840


def _insert_items(engine: Any, pid: int, n: int) -> None:
    """``n`` items written with SQL, as growth no bulk change follows would leave them."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # the change counts reach the job at once
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
        conn.execute(text(
            "INSERT INTO items (project_id, external_id, data, is_gold, status, priority,"
            " needed, n_labels, started, shuffle_key, created_at, public_id)"
            " VALUES (:pid, :x, '{}', false, 'open', 0, 3, 0, false, :key, :at, :public)"),
            [{"pid": pid, "x": f"sql-{i}", "key": i % SHUFFLE_KEYS, "at": "2026-01-01 00:00:00",
              "public": 10**12 + i} for i in range(n)])


def _run_job(app: Any) -> set[str]:
    """The statistics job, run as the scheduler runs it (due at every tick); the
    tables it analysed."""
    _, body = JOBS["statistics"]
    assert Tick(app, "statistics", timedelta(0), body)() is True
    with app.app_context():
        detail = db.session.scalars(select(JobRun.detail).where(JobRun.name == "statistics")
                                    .order_by(JobRun.id.desc()).limit(1)).one()
    assert detail.startswith(("analysed ", "no table")), detail
    return set(detail.removeprefix("analysed ").split(", ")) if "analysed" in detail else set()


def test_the_statistics_job_analyses_a_table_changed_enough_and_skips_the_others(
        app, make_project):
    engine = app.extensions["crowd_db"].engine
    pid = make_project(n_items=0)["id"]
    _run_job(app)  # whatever earlier work left changed enough
    counts = _analyze_counts(engine)
    _insert_items(engine, pid, 2000)

    analysed = _run_job(app)
    assert "items" in analysed and "projects" not in analysed, analysed
    assert _analysed_rows(engine, "items") == 2000
    if engine.dialect.name == "postgresql":
        after = _analyze_counts(engine)
        assert after["items"] == counts["items"] + 1
        assert after["projects"] == counts["projects"]
    assert "items" not in _run_job(app)


@pytest.mark.parametrize(("changed", "analysed", "refresh"), [
    (BULK_ROWS, 10**7, True), (BULK_ROWS - 1, 10**7, False), (51, 0, True), (50, 0, False),
    (651, 6000, True), (650, 6000, False),
])
def test_a_change_is_worth_an_analyse_from_bulk_rows_or_a_tenth_of_the_table(
        changed, analysed, refresh):
    assert needs_refresh(changed, analysed) is refresh
