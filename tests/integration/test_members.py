"""Project teams: enrollment, adding and removing members, what a removed worker keeps."""
from __future__ import annotations

from typing import Any

import pytest

from crowd.cli import main
from tests.conftest import Api


def _project(manager: Api, enrollment: str = "open", n_items: int = 4) -> int:
    body = {"name": "team", "labels": ["a", "b"], "qualification_size": 0, "gold_rate": 0.0,
            "redundancy": 2, "max_redundancy": 2, "enrollment": enrollment}
    created = manager.post("/projects", body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["enrollment"] == enrollment
    pid = created.get_json()["id"]
    items = [{"external_id": f"w{i}", "data": {"text": f"item {i}"}} for i in range(n_items)]
    assert manager.post(f"/projects/{pid}/items", items).status_code == 201
    return pid


def _members(manager: Api, pid: int) -> dict[str, dict[str, Any]]:
    response = manager.get(f"/projects/{pid}/members")
    assert response.status_code == 200, response.get_json()
    return {m["username"]: m for m in response.get_json()["members"]}


def test_the_creator_is_the_first_manager_and_other_managers_do_not_see_it(manager, make_user):
    pid = _project(manager)
    assert [m["role"] for m in _members(manager, pid).values()] == ["manager"]
    other = manager.as_(make_user("manager")[1])
    hidden, absent = other.get(f"/projects/{pid}"), other.get("/projects/999999")
    assert hidden.status_code == absent.status_code == 404
    assert hidden.get_json()["error"]["message"].replace(str(pid), "N") == \
        absent.get_json()["error"]["message"].replace("999999", "N")
    assert pid not in [p["id"] for p in other.get("/projects").get_json()["projects"]]
    assert pid in [p["id"] for p in manager.get("/projects").get_json()["projects"]]
    admin = manager.as_(make_user("admin")[1])
    assert admin.get(f"/projects/{pid}").status_code == 200


def test_an_invite_project_is_404_to_workers_until_they_are_added(manager, make_user):
    pid = _project(manager, "invite")
    worker_id, token = make_user("worker", username="vetted")
    worker = manager.as_(token)
    assert worker.post(f"/projects/{pid}/next").status_code == 404
    assert pid not in [p["id"] for p in worker.get("/projects").get_json()["projects"]]
    added = manager.post(f"/projects/{pid}/members", {"username": "vetted"})
    assert added.status_code == 201 and added.get_json()["members"][0]["user_id"] == worker_id
    assert worker.post(f"/projects/{pid}/next").status_code == 200
    assert pid in [p["id"] for p in worker.get("/projects").get_json()["projects"]]


def test_removing_a_worker_releases_their_lease_keeps_their_labels_and_they_cannot_rejoin(
    manager, make_user,
):
    pid = _project(manager)  # open: the worker joins by starting work
    worker_id, token = make_user("worker", username="leaver")
    worker = manager.as_(token)
    first = worker.post(f"/projects/{pid}/next").get_json()
    assert worker.post(f"/assignments/{first['assignment_id']}/answer",
                       {"label": "a"}).status_code == 200
    held = worker.post(f"/projects/{pid}/next").get_json()
    assert _members(manager, pid)["leaver"]["joined"] == "open"
    assert manager.delete(f"/projects/{pid}/members/{worker_id}").status_code == 204
    late = worker.post(f"/assignments/{held['assignment_id']}/answer", {"label": "a"})
    assert late.status_code == 410, late.get_json()
    assert worker.post(f"/projects/{pid}/next").status_code == 404  # open, but removed
    labels = manager.get(f"/projects/{pid}/labels?format=json").get_json()
    assert [(row["worker"], row["label"]) for row in labels] == [("leaver", "a")]
    assert _members(manager, pid)["leaver"]["removed_at"] is not None
    assert manager.delete(f"/projects/{pid}/members/{worker_id}").status_code == 404
    back = manager.post(f"/projects/{pid}/members", {"user_id": worker_id})
    assert back.status_code == 201 and back.get_json()["members"][0]["removed_at"] is None
    assert worker.post(f"/projects/{pid}/next").status_code == 200


def test_turning_invite_keeps_the_workers_who_worked_and_shuts_the_door(manager, make_user):
    pid = _project(manager)
    _, early = make_user("worker", username="early")
    _, late = make_user("worker", username="late")
    assert manager.as_(early).post(f"/projects/{pid}/next").status_code == 200
    changed = manager.patch(f"/projects/{pid}", {"enrollment": "invite"})
    assert changed.status_code == 200 and changed.get_json()["enrollment"] == "invite"
    assert _members(manager, pid)["early"]["joined"] == "listed"
    assert manager.as_(early).post(f"/projects/{pid}/next").status_code == 200
    assert manager.as_(late).post(f"/projects/{pid}/next").status_code == 404


def test_experts_review_only_their_projects(manager, make_user):
    pid = _project(manager)
    _, token = make_user("expert", username="reviewer")
    expert = manager.as_(token)
    assert expert.get(f"/reviews?project={pid}").status_code == 404
    manager.post(f"/projects/{pid}/members", {"usernames": ["reviewer"]})
    assert expert.get(f"/reviews?project={pid}").status_code == 200


@pytest.mark.parametrize(("body", "code"), [
    ({"usernames": ["ok-worker", "nobody-here"]}, "unknown_user"),
    ({"usernames": []}, "invalid_user"),
    ({"usernames": "ok-worker"}, "invalid_user"),
    ({"user_id": 0}, "invalid_user"),
    ({"user_id": True}, "invalid_user"),
    ({"username": "ok-worker", "user_id": 1}, "missing_field"),
    ({}, "missing_field"),
    ({"username": "ok-worker", "role": "manager"}, "invalid_role"),
    ({"username": "ok-worker", "role": "boss"}, "invalid_role"),
    ({"username": "ok-worker", "colour": "red"}, "unknown_field"),
])
def test_a_bad_member_request_is_422_and_adds_nobody(body, code, manager, make_user):
    pid = _project(manager)
    make_user("worker", username="ok-worker")
    response = manager.post(f"/projects/{pid}/members", body)
    assert response.status_code == 422 and response.get_json()["error"]["code"] == code
    assert len(_members(manager, pid)) == 1  # the creator only


def test_an_admin_cannot_be_made_a_member(manager, make_user):
    pid = _project(manager)
    make_user("admin", username="root")
    response = manager.post(f"/projects/{pid}/members", {"username": "root"})
    assert response.status_code == 422 and "admins" in response.get_json()["error"]["message"]


def test_the_cli_lists_adds_and_removes_members(app, manager, make_user, monkeypatch, capsys):
    pid = _project(manager, "invite")
    make_user("worker", username="cli-worker")
    make_user("expert", username="cli-expert")
    monkeypatch.setenv("CROWD_CONFIG", "test")
    monkeypatch.setenv("CROWD_DATABASE_URL", app.config["DATABASE_URL"])
    assert main(["members", "add", str(pid), "cli-worker", "cli-expert"]) == 0
    assert main(["members", "list", str(pid)]) == 0
    listed = capsys.readouterr().out
    assert "cli-worker" in listed and "cli-expert" in listed
    assert main(["members", "remove", str(pid), "cli-worker"]) == 0
    assert main(["members", "add", str(pid), "nobody-at-all"]) == 2
    assert "nobody-at-all" in capsys.readouterr().err
    assert _members(manager, pid)["cli-worker"]["removed_at"] is not None
