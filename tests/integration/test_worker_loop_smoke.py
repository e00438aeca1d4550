"""The worker loop end to end through the API."""
from __future__ import annotations


def test_worker_gets_item_then_answers(make_project, make_user, manager):
    project = make_project(n_items=2)
    _, token = make_user("worker")
    worker = manager.as_(token)
    response = worker.post(f"/projects/{project['id']}/next")
    assert response.status_code == 200, response.get_json()
    offer = response.get_json()
    assert set(offer) == {"assignment_id", "item", "labels", "expires_at", "mode"}
    answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    assert answered.status_code == 200, answered.get_json()
    assert answered.get_json() == {"accepted": True}
