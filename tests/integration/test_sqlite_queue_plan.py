"""On SQLite too, the work pick of `next` walks the queue index in its order and
sorts nothing (the index once lost its DESC columns there, and every `next`
sorted all of a project's open items)."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_work_pick_walks_ix_items_queue_without_a_sort(app, make_project, make_user,
                                                            manager):
    project = make_project(n_items=50, gold_rate=0.0, qualification_size=0)
    worker = manager.as_(make_user("worker")[1])
    engine = app.extensions["crowd_db"].engine
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert worker.post(f"/projects/{project['id']}/next").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    (pick,) = [(s, p) for s, p in captured
               if s.startswith("SELECT items.") and "ORDER BY items.started DESC" in s]
    with engine.connect() as conn:
        plan = "\n".join(str(row[-1]) for row in
                         conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {pick[0]}", pick[1]))
    print(plan)
    assert "ix_items_queue" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
