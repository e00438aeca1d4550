"""The manager's item table at scale: every page of every filter combination is one
walk of an index from the page's first row, with nothing sorted or filtered away.

PostgreSQL: 400,000 items of one project (and 50,000 of another), statuses and top
labels laid out as a project in flight would have them, statistics gathered only by
crowd's own statistics job (as in test_query_plan.py). SQLite: the same queries walk
an index in order with no temporary sort. The SQL explained is the service's own.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from crowd import migrate
from crowd.domain.gold import SHUFFLE_KEYS
from crowd.extensions import db
from crowd.services import item_table
from tests.databases import scratch_postgres
from tests.integration.test_query_plan import _capturing, _explain, _run_statistics_job

N_ITEMS = 400_000
N_OTHER = 50_000
INDEXES = ("ix_items_table", "ix_items_table_status", "ix_items_table_label",
           "ix_items_table_status_label", "ix_items_table_gold", "ix_items_table_gold_label")
COMBINATIONS = list(itertools.product(
    [None, *item_table.STATUS_FILTERS], [None, "a", "c"], ["", "w12", "w9999999"],
    [None, "w5"]))


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite: a copy of the template. PostgreSQL: a new database for this test alone,
    never analysed by hand (dropped after it)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_template").fresh(tmp_path)
        return
    with contextmanager(scratch_postgres)("crowd_item_plan") as url:
        migrate.upgrade(url)
        yield url


def _fill(engine: Any, project_id: int, n: int) -> None:
    """Items w1..wn: 1% gold, then 2% in review, 1% resolved, 57% complete, the rest
    open; top labels a (70%), b, and c (rare, 0.1%) on all but the open items."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO items (project_id, external_id, data, is_gold, gold_label, status,
                               priority, needed, n_labels, started, shuffle_key, created_at,
                               public_id, result_label, confidence)
            SELECT :pid, 'w' || g, json_build_object('text', 'item ' || g), g % 100 = 0,
                   CASE WHEN g % 100 = 0 THEN 'a' END,
                   CASE WHEN g % 100 = 0 THEN 'open' WHEN g % 100 < 3 THEN 'in_review'
                        WHEN g % 100 = 3 THEN 'resolved' WHEN g % 100 < 61 THEN 'complete'
                        ELSE 'open' END,
                   0, 3, CASE WHEN g % 100 < 61 THEN 3 ELSE g % 3 END, g % 100 < 61,
                   floor(random() * :keys)::int, now(), :base + g,
                   CASE WHEN g % 100 = 0 OR g % 100 >= 61 THEN NULL WHEN g % 1000 = 7 THEN 'c'
                        WHEN g % 10 < 7 THEN 'a' ELSE 'b' END,
                   CASE WHEN g % 100 BETWEEN 1 AND 60 THEN 0.97 END
            FROM generate_series(1, :n) AS g
        """), {"pid": project_id, "n": n, "keys": SHUFFLE_KEYS, "base": project_id * 10**7})


def _plan_of(app: Any, project_id: int, wanted: item_table.ItemFilter,
             after: str | None) -> tuple[str, list[dict[str, Any]]]:
    engine = app.extensions["crowd_db"].engine
    with app.app_context(), _capturing(engine) as captured:
        page = item_table.item_page(db.session, project_id, wanted, after)
    (query,) = [(s, p) for s, p in captured if "FROM items" in s]
    return _explain(engine, *query), page.rows


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.fresh_app
def test_every_filter_combination_walks_one_index_on_postgresql(app, make_project, manager):
    engine = app.extensions["crowd_db"].engine
    other = make_project(n_items=0, labels=("a", "b", "c"))["id"]
    pid = make_project(n_items=0, labels=("a", "b", "c"))["id"]
    _fill(engine, other, N_OTHER)
    _fill(engine, pid, N_ITEMS)
    assert "items" in _run_statistics_job(app)
    for status, label, prefix, after in COMBINATIONS:
        plan, rows = _plan_of(app, pid, item_table.ItemFilter(status, label, prefix), after)
        where = (status, label, prefix, after)
        print(f"\n-- {where}:\n{plan}")
        assert "Seq Scan" not in plan and "Sort" not in plan, (where, plan)
        assert "Rows Removed by Filter" not in plan, (where, plan)
        assert any(f"Index Scan using {name} on items" in plan for name in INDEXES), (where, plan)
        assert len(rows) <= item_table.PAGE_SIZE


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_filter_combination_walks_an_index_in_order_on_sqlite(app, make_project):
    pid = make_project(n_items=30, labels=("a", "b", "c"))["id"]
    engine = app.extensions["crowd_db"].engine
    for status, label, prefix, after in COMBINATIONS:
        with app.app_context(), _capturing(engine) as captured:
            item_table.item_page(db.session, pid, item_table.ItemFilter(status, label, prefix),
                                 after)
        (query,) = [(s, p) for s, p in captured if "FROM items" in s]
        with engine.connect() as conn:
            plan = "\n".join(str(row[-1]) for row in
                             conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query[0]}", query[1]))
        where = (status, label, prefix, after)
        assert "TEMP B-TREE" not in plan and "USING" in plan and "INDEX" in plan, (where, plan)
