"""On large projects, the hot queries walk an index of items: the duplicate check
of an import, and the work and gold picks of `next`.

PostgreSQL only: SQLite's planner is not what production runs on. Each test has a
database made for it (TRUNCATE keeps a table's statistics), and no test runs
ANALYZE: what statistics the planner has, crowd gathered, through a large import's
refresh or the statistics job, called as the scheduler calls it. The SQL that is
explained is captured from the real code, with the parameters it was run with.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from crowd import migrate
from crowd.domain.gold import SHUFFLE_KEYS
from crowd.extensions import db
from crowd.jobs.schedule import JOBS, Tick
from crowd.persistence import JobRun
from crowd.services import assignment
from tests.databases import scratch_postgres

pytestmark = [pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
              pytest.mark.fresh_app]

N_WORK = 100_000
N_GOLD = 1_000
N_DONE = 30_000  # items already complete, each answered by the three history workers
N_STARTED = 500  # open items with one label in
N_TEXTS = 60_000  # items of about 700 bytes of text, as earlier imports left them
N_IMPORTED = 5_000  # then imported through the API, before the batch whose check is explained


@pytest.fixture
def database_url() -> Iterator[str]:
    """A new, migrated PostgreSQL database for this test alone (dropped after it)."""
    with contextmanager(scratch_postgres)("crowd_plan") as url:
        migrate.upgrade(url)
        yield url


@contextmanager
def _capturing(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _fill(engine: Any, project_id: int, history_workers: list[int]) -> None:
    """100,000 work items (some done, some started), 1,000 gold items, and the
    assignments that history would have left; no ANALYZE. The cumulative statistics
    (the change counts the statistics job reads) are flushed at the commit instead
    of up to a second later."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
        conn.execute(text("""
            INSERT INTO items (project_id, external_id, data, is_gold, status, priority, needed,
                               n_labels, started, shuffle_key, created_at, public_id)
            SELECT :pid, 'w' || g, json_build_object('text', 'item ' || g), false,
                   CASE WHEN g <= :done THEN 'complete' ELSE 'open' END,
                   CASE WHEN g % 1000 = 0 THEN 5 ELSE 0 END,
                   3,
                   CASE WHEN g <= :done THEN 3 WHEN g <= :done + :started THEN 1 ELSE 0 END,
                   g <= :done + :started,
                   floor(random() * :keys)::int, now(), g::bigint * 7919
            FROM generate_series(1, :n) AS g
        """), {"pid": project_id, "done": N_DONE, "started": N_STARTED, "n": N_WORK,
               "keys": SHUFFLE_KEYS})
        conn.execute(text("""
            INSERT INTO items (project_id, external_id, data, gold_label, is_gold, status,
                               priority, needed, n_labels, started, shuffle_key, created_at,
                               public_id)
            SELECT :pid, 'g' || g, json_build_object('text', 'gold ' || g), 'a', true, 'open',
                   0, 3, 0, false, floor(random() * :keys)::int, now(), (:after + g) * 7919
            FROM generate_series(1, :n) AS g
        """), {"pid": project_id, "n": N_GOLD, "keys": SHUFFLE_KEYS, "after": N_WORK})
        for rank, worker_id in enumerate(history_workers):
            conn.execute(text("""
                INSERT INTO assignments (project_id, item_id, worker_id, mode, is_gold,
                                         created_at, expires_at, answered_at)
                SELECT :pid, id, :wid, 'work', false, now(), now(), now()
                FROM items
                WHERE project_id = :pid AND NOT is_gold
                  AND (n_labels = 3 OR (n_labels = 1 AND :rank = 0))
            """), {"pid": project_id, "wid": worker_id, "rank": rank})


def _fill_texts(engine: Any, project_id: int) -> None:
    """N_TEXTS items item-1 ... with about 700 bytes of text each; no ANALYZE."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO items (project_id, external_id, data, is_gold, status, priority, needed,
                               n_labels, started, shuffle_key, created_at, public_id)
            SELECT :pid, 'item-' || g, json_build_object('text', repeat('lorem ipsum ', 60) || g),
                   false, 'open', 0, 3, 0, false, floor(random() * :keys)::int, now(),
                   g::bigint * 7919
            FROM generate_series(1, :n) AS g
        """), {"pid": project_id, "n": N_TEXTS, "keys": SHUFFLE_KEYS})


def _run_statistics_job(app: Any) -> str:
    """The statistics job, run as the scheduler runs it; what it did."""
    setting, body = JOBS["statistics"]
    tick = Tick(app, "statistics", timedelta(seconds=int(app.config[setting])), body)
    assert tick() is True
    with app.app_context():
        return db.session.scalars(select(JobRun.detail).where(JobRun.name == "statistics")
                                  .order_by(JobRun.id.desc())).first() or ""


def _explain(engine: Any, statement: str, parameters: Any) -> str:
    """The plan PostgreSQL runs the statement with (ANALYZE: it is run, then rolled back)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters).all()
        conn.rollback()
    return "\n".join(row[0] for row in rows)


def _rows(start: int, stop: int) -> list[dict[str, Any]]:
    return [{"external_id": f"item-{i}", "data": {"text": f"item {i}"}} for i in range(start, stop)]


def _is_duplicate_check(statement: str) -> bool:
    return (statement.startswith("SELECT items.external_id") and "items.project_id" in statement
            and "items.external_id IN" in statement)


def _assert_index_walk(plan: str, index_names: tuple[str, ...]) -> None:
    assert "Seq Scan on items" not in plan, plan
    walks_index = any(
        f"{kind} on {name}" in plan or f"{kind} using {name} on items" in plan
        for kind in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
        for name in index_names
    )
    assert walks_index, plan


def _estimated_rows(plan: str, index_name: str) -> int:
    """The planner's estimate of the rows the scan of ``index_name`` in ``plan`` gives."""
    found = re.search(rf"Scan using {index_name} on items .*?rows=(\d+)", plan)
    assert found, plan
    return int(found.group(1))


def _is_work_pick(statement: str) -> bool:
    return (statement.startswith("SELECT") and "FROM items" in statement
            and "SKIP LOCKED" in statement)


def _is_gold_pick(statement: str) -> bool:
    return statement.startswith("SELECT items.") and "ORDER BY items.shuffle_key" in statement


def test_the_duplicate_check_of_an_import_looks_up_its_ids_in_the_index(app, make_project,
                                                                        manager):
    """A batch into a project of 65,000 items looks its 1,000-id chunks up in the
    (project_id, external_id) index. Without the refresh that follows the first
    import through the API, each chunk reads the whole project instead
    (ix_items_queue on project_id, the ids a filter: 66,000 rows for 1,000)."""
    engine = app.extensions["crowd_db"].engine
    pid = make_project(n_items=0)["id"]
    _fill_texts(engine, pid)
    first = manager.post(f"/projects/{pid}/items", _rows(N_TEXTS + 1, N_TEXTS + 1 + N_IMPORTED))
    assert first.status_code == 201 and first.get_json()["created"] == N_IMPORTED

    last = N_TEXTS + N_IMPORTED
    with _capturing(engine) as captured:
        second = manager.post(f"/projects/{pid}/items", _rows(last - 999, last + 1001))
    assert second.status_code == 201, second.get_json()
    assert second.get_json()["skipped_duplicates"] == 1000
    checks = [(s, p) for s, p in captured if _is_duplicate_check(s)]
    assert len(checks) == 2, [s[:80] for s, _ in captured]
    for statement, parameters in checks:
        plan = _explain(engine, statement, parameters)
        print(f"\n-- duplicate check:\n{plan[:2000]}")
        assert "Seq Scan on items" not in plan, plan
        conditions = [line for line in plan.splitlines() if "Index Cond:" in line]
        assert any("external_id" in line for line in conditions), plan


def test_work_and_gold_picks_use_item_indexes_on_a_large_project(
    app, make_project, make_user, manager
):
    engine = app.extensions["crowd_db"].engine
    project = make_project(n_items=0, gold_rate=0.0, qualification_size=0)
    pid = project["id"]
    history = [make_user("worker")[0] for _ in range(3)]
    _fill(engine, pid, history)
    done = _run_statistics_job(app)
    assert "items" in done and "assignments" in done, done
    worker_id, token = make_user("worker")
    worker = manager.as_(token)

    # The work pick, exactly as `next` runs it.
    with _capturing(engine) as captured:
        response = worker.post(f"/projects/{pid}/next")
    assert response.status_code == 200, response.get_json()
    work = [(s, p) for s, p in captured if _is_work_pick(s)]
    assert len(work) == 1, [s for s, _ in captured]
    work_plan = _explain(engine, *work[0])
    print(f"\n-- work pick:\n{work[0][0]}\n{work[0][1]}\n{work_plan}")
    _assert_index_walk(work_plan, ("ix_items_queue",))
    # The planner knows the queue is long (never analysed, it guesses one row, and on
    # larger tables picks plans that suit one row).
    assert _estimated_rows(work_plan, "ix_items_queue") > 1000, work_plan

    # The same pick for a veteran who has held 30,500 of the items.
    with app.app_context(), _capturing(engine) as captured:
        item = assignment._pick_work(db.session, pid, history[0], app.extensions["crowd_clock"](),
                                        skip_locked=True)
        assert item is not None and item.n_labels == 0
        db.session.rollback()
    veteran = [(s, p) for s, p in captured if _is_work_pick(s)]
    assert len(veteran) == 1 and veteran[0][0] == work[0][0]
    veteran_plan = _explain(engine, *veteran[0])
    print(f"\n-- work pick, veteran worker:\n{veteran[0][1]}\n{veteran_plan}")
    _assert_index_walk(veteran_plan, ("ix_items_queue",))

    # The gold pick: hidden gold through `next`, then both halves of the ring
    # walk (a start past every key makes the first find nothing and wrap around).
    assert manager.patch(f"/projects/{pid}", {"gold_rate": 1.0}).status_code == 200
    second_id, second_token = make_user("worker")
    with _capturing(engine) as captured:
        response = manager.as_(second_token).post(f"/projects/{pid}/next")
    assert response.status_code == 200, response.get_json()
    with app.app_context(), _capturing(engine) as wrapped:
        picked = assignment._pick_gold(db.session, pid, second_id, SHUFFLE_KEYS)
        assert picked is not None and picked.is_gold
        db.session.rollback()
    gold = [(s, p) for s, p in captured + wrapped if _is_gold_pick(s)]
    assert any(">=" in s for s, _ in gold) and any("shuffle_key <" in s for s, _ in gold)
    for statement, parameters in gold:
        gold_plan = _explain(engine, statement, parameters)
        print(f"\n-- gold pick:\n{statement}\n{parameters}\n{gold_plan}")
        _assert_index_walk(gold_plan, ("ix_items_gold_pick",))
    assert worker_id != second_id
