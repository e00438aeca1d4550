"""Leases: an unanswered assignment goes back to the pool when it expires; a late answer is
refused and not stored."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item, Label


def _next(worker: Any, project_id: int) -> dict[str, Any] | None:
    response = worker.post(f"/projects/{project_id}/next")
    if response.status_code == 204:
        return None
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _progress(manager: Any, project_id: int) -> dict[str, int]:
    return manager.get(f"/projects/{project_id}").get_json()["progress"]


def _single_slot_project(make_project: Any) -> dict[str, Any]:
    # One item wanting one label; one confident-enough label completes it.
    return make_project(n_items=1, redundancy=1, max_redundancy=1, lease_seconds=60,
                        confidence_threshold=0.5)


def test_lease_expires_at_lease_seconds_after_it_was_given(make_project, make_user, manager, clock):
    project = _single_slot_project(make_project)
    worker = manager.as_(make_user("worker")[1])
    offer = _next(worker, project["id"])
    assert offer is not None
    expires_at = datetime.fromisoformat(offer["expires_at"].replace("Z", "+00:00"))
    assert expires_at == clock() + timedelta(seconds=60)
    assert offer["expires_at"].endswith("Z")


def test_unanswered_lease_returns_to_the_pool_once_expired_and_goes_to_another_worker(
    make_project, make_user, manager, clock
):
    project = _single_slot_project(make_project)
    pid = project["id"]
    late, other = (manager.as_(make_user("worker")[1]) for _ in range(2))
    held = _next(late, pid)
    assert held is not None

    clock.advance(59.999)
    assert _next(other, pid) is None  # the slot is still leased
    assert _next(late, pid) == held  # and still the holder's

    clock.advance(0.002)  # just past expires_at
    taken = _next(other, pid)
    assert taken is not None
    assert taken["item"]["id"] == held["item"]["id"]
    assert taken["assignment_id"] != held["assignment_id"]
    assert _next(late, pid) is None  # never the same item twice, even after a lapse


def test_late_answer_is_gone_and_not_stored(app, make_project, make_user, manager, clock):
    project = _single_slot_project(make_project)
    pid = project["id"]
    late = manager.as_(make_user("worker")[1])
    other_id, other_token = make_user("worker")
    other = manager.as_(other_token)
    held = _next(late, pid)
    clock.advance(61)
    taken = _next(other, pid)
    assert taken is not None and taken["item"]["id"] == held["item"]["id"]

    response = late.post(f"/assignments/{held['assignment_id']}/answer", {"label": "a"})
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "lease_expired"
    progress = _progress(manager, pid)
    assert progress["labels_collected"] == 0 and progress["open"] == 1

    answered = other.post(f"/assignments/{taken['assignment_id']}/answer", {"label": "b"})
    assert answered.status_code == 200, answered.get_json()
    progress = _progress(manager, pid)
    assert progress["labels_collected"] == 1
    assert progress["complete"] == 1 and progress["open"] == 0

    # Still refused after the item completed, and still nothing stored for the late worker.
    again = late.post(f"/assignments/{held['assignment_id']}/answer", {"label": "a"})
    assert again.status_code == 410
    with app.app_context():
        stored = db.session.scalars(
            select(Label.worker_id).join(Item, Item.id == Label.item_id)
            .where(Item.public_id == held["item"]["id"])
        )
        assert list(stored) == [other_id]
