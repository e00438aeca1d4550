"""Which gold a worker meets: rounds with feedback cover the classes evenly, and
hidden gold is never the only thing left to serve."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item
from tests.integration.test_gold_and_qualification import LEVEL, _binomial_interval
from tests.support import make_users


def _gold_of(app: Any, project_id: int, label: str) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(Item.public_id).where(
            Item.project_id == project_id, Item.is_gold.is_(True), Item.gold_label == label)))


def test_a_qualification_round_draws_its_gold_evenly_over_the_classes(app, manager):
    # 18 gold of class a, 2 of class b: drawn from the pool, a first offer is
    # of class b with probability 0.1; drawn class first, with probability 0.5.
    project = manager.post("/projects", {"name": "skewed gold", "labels": ["a", "b"],
                                         "qualification_size": 4, "gold_rate": 0.0}).get_json()
    pid = project["id"]
    items = [{"external_id": f"g{i}", "data": {"text": f"gold {i}"},
              "gold_label": "a" if i < 18 else "b"} for i in range(20)]
    items.append({"external_id": "w0", "data": {"text": "work"}})
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201
    rare = _gold_of(app, pid, "b")
    n = 60
    firsts = []
    for _, worker in make_users(app, manager, *(f"q{i}" for i in range(n))):
        offer = worker.post(f"/projects/{pid}/next").get_json()
        assert offer["mode"] == "qualification"
        firsts.append(offer["item"]["id"] in rare)
    lo, hi = _binomial_interval(n, 0.5, LEVEL)
    # [14, 46]: a pool-drawn round (p = 0.1) reaches 14 with probability 0.001.
    assert lo <= sum(firsts) <= hi, (sum(firsts), lo, hi)


def test_no_hidden_gold_once_no_work_is_left_for_the_worker(app, make_project, manager):
    project = make_project(n_items=1, n_gold=5, gold_rate=0.0, redundancy=1, max_redundancy=1)
    pid = project["id"]
    (_, first), (_, second) = make_users(app, manager, "first", "second")
    offer = first.post(f"/projects/{pid}/next").get_json()
    assert first.post(f"/assignments/{offer['assignment_id']}/answer",
                      {"label": "a"}).status_code == 200
    assert manager.patch(f"/projects/{pid}", {"gold_rate": 1.0}).status_code == 200
    # Five unseen gold items remain, but serving one now would tell it for gold.
    assert second.post(f"/projects/{pid}/next").status_code == 204
