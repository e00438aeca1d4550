"""The assignment rules of the worker's loop (API.md, "The worker's loop"), through the API."""
from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from crowd.extensions import db
from crowd.persistence import Assignment, Item
from tests.support import item_ids


def _worker(make_user: Any, manager: Any) -> Any:
    return manager.as_(make_user("worker")[1])


def _next(worker: Any, project_id: int) -> dict[str, Any] | None:
    response = worker.post(f"/projects/{project_id}/next")
    if response.status_code == 204:
        assert response.get_data() == b""
        return None
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _answer(worker: Any, offer: dict[str, Any], label: str = "a") -> Any:
    return worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": label})


def _progress(manager: Any, project_id: int) -> dict[str, int]:
    response = manager.get(f"/projects/{project_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["progress"]


def _expiry(offer: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(offer["expires_at"].replace("Z", "+00:00"))


def _overfilled_items(app: Any, project_id: int) -> list[tuple[int, int, int, int]]:
    """Items whose labels plus live leases exceed their target: (id, n_labels, leases, needed)."""
    now = app.extensions["crowd_clock"]()
    with app.app_context():
        leases = (
            select(func.count()).select_from(Assignment)
            .where(Assignment.item_id == Item.id, Assignment.answered_at.is_(None),
                   Assignment.released_at.is_(None), Assignment.expires_at > now)
            .correlate(Item).scalar_subquery()
        )
        rows = db.session.execute(
            select(Item.id, Item.n_labels, leases, Item.needed)
            .where(Item.project_id == project_id, Item.n_labels + leases > Item.needed)
        ).all()
        return [tuple(row) for row in rows]


def test_worker_never_gets_the_same_item_twice(make_project, make_user, manager, clock):
    project = make_project(n_items=6, redundancy=3, lease_seconds=60)
    worker = _worker(make_user, manager)
    seen: list[int] = []
    # Let the first lease lapse unanswered: the item must not come back to this worker.
    first = _next(worker, project["id"])
    assert first is not None
    seen.append(first["item"]["id"])
    clock.advance(61)
    while (offer := _next(worker, project["id"])) is not None:
        seen.append(offer["item"]["id"])
        assert _answer(worker, offer).status_code == 200
        assert len(seen) <= 6, seen
    assert len(seen) == len(set(seen)) == 6


def test_an_item_never_has_more_labels_and_live_leases_than_needed(
    app, make_project, make_user, manager
):
    project = make_project(n_items=1, redundancy=2, max_redundancy=2)
    a, b, c = (_worker(make_user, manager) for _ in range(3))
    offer_a = _next(a, project["id"])
    offer_b = _next(b, project["id"])
    assert offer_a is not None and offer_b is not None
    assert offer_a["item"]["id"] == offer_b["item"]["id"]
    assert _next(c, project["id"]) is None  # two live leases fill both slots
    assert _answer(a, offer_a).status_code == 200
    assert _next(c, project["id"]) is None  # one label + one live lease
    assert _overfilled_items(app, project["id"]) == []


def test_labels_and_leases_stay_within_target_under_a_random_interleaving(
    app, make_project, make_user, manager, clock
):
    project = make_project(n_items=8, redundancy=2, max_redundancy=4, lease_seconds=60)
    workers = [_worker(make_user, manager) for _ in range(7)]
    held: dict[int, dict[str, Any] | None] = {i: None for i in range(len(workers))}
    chooser = random.Random(7)
    for _ in range(150):
        i = chooser.randrange(len(workers))
        action = chooser.random()
        if held[i] is None or action < 0.3:
            offer = _next(workers[i], project["id"])
            if held[i] is not None and offer is not None and clock() < _expiry(held[i]):
                assert offer["assignment_id"] == held[i]["assignment_id"]
            held[i] = offer
        elif action < 0.9:
            response = _answer(workers[i], held[i], chooser.choice("abc"))
            assert response.status_code in (200, 410), response.get_json()
            held[i] = None
        else:
            clock.advance(chooser.choice((5, 30, 61)))
        assert _overfilled_items(app, project["id"]) == []


def test_next_while_holding_a_live_lease_returns_the_same_assignment(
    make_project, make_user, manager, clock
):
    project = make_project(n_items=3, lease_seconds=60)
    worker = _worker(make_user, manager)
    first = _next(worker, project["id"])
    clock.advance(30)
    again = _next(worker, project["id"])
    assert again == first


def test_queue_prefers_started_items_then_higher_priority_then_older(
    app, make_project, make_user, manager
):
    project = make_project(n_items=0, redundancy=2, max_redundancy=2)
    pid = project["id"]

    def add(*rows: tuple[str, int]) -> None:
        body = [{"external_id": e, "data": {"text": e}, "priority": p} for e, p in rows]
        assert manager.post(f"/projects/{pid}/items", body).status_code == 201

    add(("started-low", 0))
    starter = _worker(make_user, manager)
    first = _next(starter, pid)
    assert first is not None
    assert _answer(starter, first).status_code == 200  # its first label starts it
    add(("high-1", 5), ("high-2", 5), ("low", 0), ("mid", 3))
    ids = item_ids(app, pid)
    order = []
    for _ in range(9):
        offer = _next(_worker(make_user, manager), pid)
        assert offer is not None
        order.append(offer["item"]["id"])
    expected = ["started-low", "high-1", "high-1", "high-2", "high-2", "mid", "mid", "low", "low"]
    by_id = {v: k for k, v in ids.items()}
    assert first["item"]["id"] == ids["started-low"]
    assert [by_id[i] for i in order] == expected


def test_a_lease_alone_does_not_put_an_item_first(app, make_project, make_user, manager):
    """Leased but unanswered is not started: a higher priority fresh item goes first."""
    project = make_project(n_items=0, redundancy=2, max_redundancy=2)
    pid = project["id"]
    body = [{"external_id": "leased-low", "data": {"text": "l"}, "priority": 0}]
    assert manager.post(f"/projects/{pid}/items", body).status_code == 201
    assert _next(_worker(make_user, manager), pid) is not None  # leased, not answered
    body = [{"external_id": "high", "data": {"text": "h"}, "priority": 5}]
    assert manager.post(f"/projects/{pid}/items", body).status_code == 201
    offer = _next(_worker(make_user, manager), pid)
    assert offer is not None and offer["item"]["id"] == item_ids(app, pid)["high"]


def test_next_is_204_when_nothing_is_left_for_this_worker(make_project, make_user, manager):
    project = make_project(n_items=2, redundancy=1, max_redundancy=1)
    a, b = _worker(make_user, manager), _worker(make_user, manager)
    offer = _next(a, project["id"])
    assert offer is not None
    assert _answer(a, offer).status_code == 200
    held = _next(b, project["id"])  # the last free slot, leased by b
    assert held is not None
    assert _next(a, project["id"]) is None  # a labelled one item, b holds the other
    assert _next(b, project["id"]) == held
    assert _answer(b, held).status_code == 200
    assert _next(b, project["id"]) is None
    assert _next(_worker(make_user, manager), project["id"]) is None


def test_answering_again_with_the_same_label_returns_the_same_body(
    make_project, make_user, manager
):
    project = make_project(n_items=1)
    worker = _worker(make_user, manager)
    offer = _next(worker, project["id"])
    first = _answer(worker, offer, "b")
    again = _answer(worker, offer, "b")
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json() == {"accepted": True}
    assert _progress(manager, project["id"])["labels_collected"] == 1


def test_answering_again_with_another_label_is_a_conflict(make_project, make_user, manager):
    project = make_project(n_items=1)
    worker = _worker(make_user, manager)
    offer = _next(worker, project["id"])
    assert _answer(worker, offer, "a").status_code == 200
    response = _answer(worker, offer, "b")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "already_answered"
    assert _progress(manager, project["id"])["labels_collected"] == 1
    assert _answer(worker, offer, "a").status_code == 200  # the stored answer is still "a"


def test_answering_another_workers_assignment_is_not_found(make_project, make_user, manager):
    project = make_project(n_items=1)
    owner, intruder = _worker(make_user, manager), _worker(make_user, manager)
    offer = _next(owner, project["id"])
    response = _answer(intruder, offer, "a")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert _answer(intruder, {"assignment_id": 999_999}, "a").status_code == 404
    assert _progress(manager, project["id"])["labels_collected"] == 0
    assert _answer(owner, offer, "a").status_code == 200


def test_answering_with_a_label_outside_the_project_is_unprocessable(
    make_project, make_user, manager
):
    project = make_project(n_items=1)
    worker = _worker(make_user, manager)
    offer = _next(worker, project["id"])
    response = _answer(worker, offer, "not-a-label")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unknown_label"
    assert _progress(manager, project["id"])["labels_collected"] == 0
    assert _answer(worker, offer, "c").status_code == 200


def test_agreeing_labels_complete_the_item_after_redundancy(make_project, make_user, manager):
    project = make_project(n_items=1, redundancy=3, max_redundancy=5)
    pid = project["id"]
    workers = [_worker(make_user, manager) for _ in range(4)]
    for done, worker in enumerate(workers[:3]):
        assert _progress(manager, pid)["complete"] == 0
        offer = _next(worker, pid)
        assert offer is not None
        assert _answer(worker, offer, "a").status_code == 200
        assert _progress(manager, pid)["labels_collected"] == done + 1
    progress = _progress(manager, pid)
    assert progress["complete"] == 1 and progress["open"] == 0 and progress["in_review"] == 0
    assert _next(workers[3], pid) is None


def test_disagreeing_labels_raise_the_target_up_to_max_redundancy_then_review(
    app, make_project, make_user, manager
):
    project = make_project(n_items=1, redundancy=3, max_redundancy=5)
    pid = project["id"]
    item_id = item_ids(app, pid)["w0"]

    def needed() -> int:
        with app.app_context():
            return db.session.scalar(select(Item.needed).where(Item.public_id == item_id))

    workers = [_worker(make_user, manager) for _ in range(6)]
    targets = []
    for worker, label in zip(workers[:5], ["a", "b", "c", "a", "b"]):
        offer = _next(worker, pid)
        assert offer is not None and offer["item"]["id"] == item_id
        assert _answer(worker, offer, label).status_code == 200
        targets.append(needed())
    assert targets == [3, 3, 4, 5, 5]
    progress = _progress(manager, pid)
    assert progress["in_review"] == 1 and progress["open"] == 0 and progress["complete"] == 0
    assert progress["labels_collected"] == 5
    assert _next(workers[5], pid) is None
