"""Migration 0005 fills each standing's hidden-gold record from its labels: gold
met in work mode only, never qualification or training answers."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from crowd import migrate

WHEN = datetime(2026, 1, 1)  # naive: the reflected tables take it as stored
# (mode, correct) of each gold answer of worker 1; worker 2 answers only work items.
GOLD_ANSWERS = [("qualification", True)] * 4 + [("training", True)] * 3 + [
    ("work", True), ("work", False), ("work", False), ("work", True), ("work", False)]


def _fill_at_0004(url: str) -> None:
    """A project, two workers, gold items and their labels, and their standings,
    written into the tables as 0004 has them (reflected, not the models: those
    describe the head)."""
    answers = [(1, mode, correct) for mode, correct in GOLD_ANSWERS] + [(2, "work", True)] * 2
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    t = tables.tables
    with engine.begin() as conn:
        conn.execute(sa.insert(t["users"]), [
            {"id": i, "username": f"u{i}", "password_hash": "!", "role": "worker",
             "active": True, "created_at": WHEN} for i in (1, 2)])
        conn.execute(sa.insert(t["projects"]), [{
            "id": 1, "name": "old", "labels": ["a", "b"], "guidelines": "",
            "guidelines_version": 1, "redundancy": 3, "max_redundancy": 5,
            "confidence_threshold": 0.9, "gold_rate": 0.1, "lease_seconds": 600,
            "qualification_size": 4, "qualification_accuracy": 0.8, "min_accuracy": 0.7,
            "drift_window": 20, "review_rate": 0.0, "created_at": WHEN}])
        for n, (worker, mode, correct) in enumerate(answers):
            conn.execute(sa.insert(t["items"]), [{
                "id": n + 1, "project_id": 1, "external_id": f"i{n}", "data": {},
                "gold_label": "a", "is_gold": True, "status": "open", "priority": 0,
                "needed": 3, "n_labels": 0, "started": True, "shuffle_key": n,
                "created_at": WHEN, "public_id": n + 1}])
            conn.execute(sa.insert(t["assignments"]), [{
                "id": n + 1, "project_id": 1, "item_id": n + 1, "worker_id": worker,
                "mode": mode, "is_gold": True, "created_at": WHEN,
                "expires_at": WHEN + timedelta(hours=1), "answered_at": WHEN}])
            conn.execute(sa.insert(t["labels"]), [{
                "project_id": 1, "item_id": n + 1, "worker_id": worker,
                "assignment_id": n + 1, "label": "a" if correct else "b", "mode": mode,
                "is_gold": True, "correct": correct, "counted": True, "created_at": WHEN,
                "guidelines_version": 1}])
        conn.execute(sa.insert(t["worker_standings"]), [{
            "project_id": 1, "worker_id": w, "state": "active", "state_changed_at": WHEN,
            "round_seen": 0, "round_correct": 0, "work_labels": 0, "created_at": WHEN,
            "gold_seen": sum(a[0] == w for a in answers),
            "gold_correct": sum(a[0] == w and a[2] for a in answers)} for w in (1, 2)])
    engine.dispose()


def test_upgrade_counts_only_hidden_gold_into_the_new_record(blank_database: str):
    migrate.upgrade(blank_database, "0004")
    _fill_at_0004(blank_database)
    migrate.upgrade(blank_database)
    engine = sa.create_engine(blank_database)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT worker_id, gold_seen, gold_correct, hidden_gold_seen, hidden_gold_correct "
            "FROM worker_standings ORDER BY worker_id")).all()
    engine.dispose()
    # Worker 1: 12 gold answers, 9 right, of which hidden 5 and 2 right; worker 2: 2 and 2.
    assert [tuple(r) for r in rows] == [(1, 12, 9, 5, 2), (2, 2, 2, 2, 2)]
