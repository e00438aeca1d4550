"""The review page's reads walk an index on a large project: the head of the queue
(in review, least confident first) and an expert's history (newest first), with no
sort of every item in review or resolved. PostgreSQL only, on a database made for
the test whose statistics only crowd's own statistics job gathered (see
test_query_plan.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from crowd.extensions import db
from crowd.services import review_history, review_page
from tests.integration.test_query_plan import (
    _assert_index_walk,
    _capturing,
    _explain,
    _run_statistics_job,
    database_url,  # noqa: F401 - the fixture the parametrisation below names
)

pytestmark = [pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
              pytest.mark.fresh_app]
N_ITEMS = 60_000
IN_REVIEW = 7  # one in this many
RESOLVED = 9  # one in this many of the rest, by the expert


def _fill(engine, project_id: int, expert_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
        conn.execute(text("""
            INSERT INTO items (project_id, external_id, data, is_gold, status, priority, needed,
                               n_labels, started, shuffle_key, created_at, public_id,
                               confidence, resolved_by_id, resolved_at)
            SELECT :pid, 'w' || g, json_build_object('text', 'item ' || g), false,
                   CASE WHEN g % :rev = 0 THEN 'in_review'
                        WHEN g % :res = 0 THEN 'resolved' ELSE 'complete' END,
                   0, 3, 3, true, 0, now(), g::bigint * 7919,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE random() END,
                   CASE WHEN g % :rev <> 0 AND g % :res = 0 THEN :expert END,
                   CASE WHEN g % :rev <> 0 AND g % :res = 0
                        THEN now() - g * interval '1 second' END
            FROM generate_series(1, :n) AS g
        """), {"pid": project_id, "n": N_ITEMS, "rev": IN_REVIEW, "res": RESOLVED,
               "expert": expert_id})


def test_the_review_head_and_the_history_walk_their_indexes(app, make_project, make_user):
    engine = app.extensions["crowd_db"].engine
    project = make_project(n_items=0, gold_rate=0.0, qualification_size=0)
    pid = project["id"]
    expert_id, _ = make_user("expert")
    _fill(engine, pid, expert_id)
    assert "items" in _run_statistics_job(app)

    with app.app_context(), _capturing(engine) as captured:
        head = review_page.queue_head(db.session, pid, skipped=[])
        assert head is not None and head["item"]["external_id"].startswith("w")
        db.session.rollback()
    picks = [(s, p) for s, p in captured if "ORDER BY items.confidence" in s]
    assert len(picks) == 1, [s for s, _ in captured]
    plan = _explain(engine, *picks[0])
    print(f"\n-- review head:\n{picks[0][0]}\n{plan}")
    _assert_index_walk(plan, ("ix_items_review",))
    assert "Sort" not in plan, plan

    with app.app_context(), _capturing(engine) as captured:
        page, cursor = review_history.decisions(db.session, pid, expert_id)
        assert len(page) == review_history.PAGE and cursor is not None
        older, _ = review_history.decisions(db.session, pid, expert_id, before=cursor)
        assert older and older[0].resolved_at <= page[-1].resolved_at
        db.session.rollback()
    reads = [(s, p) for s, p in captured if "ORDER BY items.resolved_at DESC" in s]
    assert len(reads) == 2, [s for s, _ in captured]
    for statement, parameters in reads:
        plan = _explain(engine, statement, parameters)
        print(f"\n-- history page:\n{statement}\n{plan}")
        _assert_index_walk(plan, ("ix_items_resolved_by",))
        assert "Sort" not in plan, plan
