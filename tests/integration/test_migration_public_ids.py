"""Migration 0003 gives the items already stored distinct random public ids,
in no relation to their sequential ids."""
from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import column, create_engine, insert, select, table, text

from crowd import migrate
from crowd.domain.public_ids import PUBLIC_ID_MAX

N_ITEMS = 400


def _spearman(xs: list[int], ys: list[int]) -> float:
    rank_x = {v: r for r, v in enumerate(sorted(xs))}
    rank_y = {v: r for r, v in enumerate(sorted(ys))}
    n = len(xs)
    d2 = sum((rank_x[x] - rank_y[y]) ** 2 for x, y in zip(xs, ys))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_upgrade_fills_existing_items_with_distinct_random_public_ids(blank_database: str):
    migrate.upgrade(blank_database, "0002")  # items as they were before 0003
    now = datetime.now(UTC)
    projects = table("projects", *(column(c) for c in (
        "id", "name", "labels", "guidelines", "guidelines_version", "redundancy",
        "max_redundancy", "confidence_threshold", "gold_rate", "lease_seconds",
        "qualification_size", "qualification_accuracy", "min_accuracy", "drift_window",
        "review_rate", "created_at")))
    items = table("items", *(column(c) for c in (
        "project_id", "external_id", "data", "is_gold", "status", "priority", "needed",
        "n_labels", "started", "shuffle_key", "created_at")))
    engine = create_engine(blank_database)
    with engine.begin() as conn:
        conn.execute(insert(projects), [{
            "id": 1, "name": "old", "labels": '["a", "b"]', "guidelines": "",
            "guidelines_version": 1, "redundancy": 3, "max_redundancy": 5,
            "confidence_threshold": 0.9, "gold_rate": 0.1, "lease_seconds": 600,
            "qualification_size": 0, "qualification_accuracy": 0.8, "min_accuracy": 0.6,
            "drift_window": 50, "review_rate": 0.0, "created_at": now}])
        conn.execute(insert(items), [
            {"project_id": 1, "external_id": f"i{n}", "data": "{}",
             "is_gold": n >= N_ITEMS - 40, "status": "open", "priority": 0, "needed": 3,
             "n_labels": 0, "started": False, "shuffle_key": n, "created_at": now}
            for n in range(N_ITEMS)])
    engine.dispose()
    migrate.upgrade(blank_database)
    engine = create_engine(blank_database)
    with engine.connect() as conn:
        rows = conn.execute(select(text("id"), text("public_id")).select_from(text("items"))
                            .order_by(text("id"))).all()
    engine.dispose()
    ids, public = [r[0] for r in rows], [r[1] for r in rows]
    assert len(rows) == N_ITEMS and len(set(public)) == N_ITEMS
    assert all(1 <= p <= PUBLIC_ID_MAX for p in public)
    # No order along the sequential ids, in the whole value or in its low bits:
    # |rho| * sqrt(n - 1) is about standard normal; 4.42 is a 1e-5 two-sided bar each.
    for values in (public, [p % 1024 for p in public]):
        assert abs(_spearman(ids, values)) * math.sqrt(N_ITEMS - 1) < 4.42
