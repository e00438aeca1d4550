"""The manager's project and member pages: create, edit, validation kept beside each
field (the API's own rules), members added by name or pasted list, removed, enrollment."""
from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from crowd.domain.settings import SETTINGS
from tests.support import join

PASSWORD = "password-123"


def csrf(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def login(client: FlaskClient, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def post(client: FlaskClient, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf(client, "/projects")}, **kw)


def field_error(page: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{name}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    if found:
        return html.unescape(found.group(1))
    area = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', page, re.S)
    return html.unescape(area.group(1)) if area else None


@pytest.fixture
def maria(client: FlaskClient, make_user: Any) -> FlaskClient:
    make_user("manager", username="maria")
    login(client, "maria")
    return client


BASE = {"name": "Sentiment", "labels": "positive\nnegative, neutral", "enrollment": "open",
        "guidelines": "# Read\n\nPick **one**. <script>alert(1)</script>"}


def test_a_manager_creates_a_project_and_sees_its_guidelines_rendered_safely(maria, manager):
    response = post(maria, "/projects/new", {**BASE, "gold_rate": "0.2", "redundancy": ""})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    project_id = int(re.search(r"/projects/(\d+)/edit", response.headers["Location"]).group(1))
    page = maria.get(response.headers["Location"]).get_data(as_text=True)
    assert "created" in page
    assert "<h1>Read</h1>" in page and "<strong>one</strong>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    listed = maria.get("/projects").get_data(as_text=True)
    assert "Sentiment" in listed and f"/projects/{project_id}/items" in listed


def test_validation_errors_are_shown_beside_their_fields_and_keep_the_input(maria):
    typed = {**BASE, "name": "Keep <me>", "labels": "only-one", "redundancy": "abc",
             "gold_rate": "2", "lease_seconds": "1.5", "confidence_threshold": "nan"}
    response = post(maria, "/projects/new", typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_error(page, "labels") == "labels must hold 2 to 100 classes"
    assert field_error(page, "redundancy") == "redundancy must be a number"
    assert field_error(page, "gold_rate") == "gold_rate must be between 0 and 1"
    assert field_error(page, "lease_seconds") == "lease_seconds must be a whole number"
    assert field_error(page, "confidence_threshold") == (
        "confidence_threshold must be a finite number")
    assert field_error(page, "min_accuracy") is None
    assert input_value(page, "name") == "Keep <me>"
    assert input_value(page, "redundancy") == "abc" and input_value(page, "gold_rate") == "2"
    assert input_value(page, "labels") == "only-one"
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="redundancy-hint redundancy-error"' in page
    assert "Nothing was saved" in page
    assert "Sentiment" not in maria.get("/projects").get_data(as_text=True)


def test_the_rule_between_fields_is_the_apis(maria, manager):
    response = post(maria, "/projects/new", {**BASE, "redundancy": "7", "max_redundancy": "5"})
    assert response.status_code == 422
    api = manager.post("/projects", {"name": "x", "labels": ["a", "b"], "redundancy": 7,
                                     "max_redundancy": 5}).get_json()["error"]["message"]
    assert field_error(response.get_data(as_text=True), "max_redundancy") == api


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_each_setting_is_refused_on_the_page_as_by_the_api(maria, manager, setting):
    too_big = setting.high + 1
    response = post(maria, "/projects/new", {**BASE, setting.name: str(too_big)})
    body = {"name": "x", "labels": ["a", "b"], setting.name: too_big}
    api = manager.post("/projects", body).get_json()["error"]["message"]
    assert field_error(response.get_data(as_text=True), setting.name) == api


def test_every_setting_is_on_the_form_with_its_meaning_and_default(maria):
    page = maria.get("/projects/new").get_data(as_text=True)
    for setting in SETTINGS:
        assert input_value(page, setting.name) == str(setting.default), setting.name
        hint = re.search(rf'id="{setting.name}-hint">(.*?)</span>', page, re.S).group(1)
        shown = f"{setting.default:,}" if setting.kind is int else f"{setting.default:g}"
        assert f"default {shown};" in hint and len(hint) > 30, hint
        assert f'<label for="{setting.name}"' in page


def test_editing_guidelines_shows_the_new_version_and_labels_lock_once_answered(
        maria, manager, make_project, make_user):
    project = make_project(n_items=2, labels=("a", "b"))
    join(manager, project["id"], "maria")
    edit = f"/projects/{project['id']}/edit"
    assert input_value(maria.get(edit).get_data(as_text=True), "labels") == "a\nb"
    form = {"name": "renamed", "labels": "a\nb", "enrollment": "open", "guidelines": "New *rules*"}
    response = post(maria, edit, form)
    assert response.status_code == 303
    page = maria.get(edit).get_data(as_text=True)
    assert "now version 2" in page and "<em>rules</em>" in page
    assert manager.get(f"/projects/{project['id']}").get_json()["guidelines_version"] == 2
    worker = manager.as_(make_user("worker")[1])
    offer = worker.post(f"/projects/{project['id']}/next").get_json()
    worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    page = maria.get(edit).get_data(as_text=True)
    assert "Locked: answers were collected" in page
    assert re.search(r'<textarea[^>]*name="labels"[^>]*readonly', page)
    response = post(maria, edit, {**form, "labels": "a\nb\nc"})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "labels") == (
        "labels cannot change once answers were collected")
    assert manager.get(f"/projects/{project['id']}").get_json()["labels"] == ["a", "b"]


def test_a_refused_edit_changes_nothing(maria, manager, make_project):
    project = make_project(n_items=1)
    join(manager, project["id"], "maria")
    before = manager.get(f"/projects/{project['id']}").get_json()
    response = post(maria, f"/projects/{project['id']}/edit", {
        "name": "changed", "labels": "a\nb\nc", "enrollment": "invite", "guidelines": "new",
        "redundancy": "9", "max_redundancy": "4"})
    assert response.status_code == 422
    assert manager.get(f"/projects/{project['id']}").get_json() == before


def test_members_added_one_and_pasted_with_each_refused_name_explained(
        maria, manager, make_project, make_user):
    project = make_project(n_items=1)
    join(manager, project["id"], "maria")
    for name in ("ann", "bob", "cat"):
        make_user("worker", username=name)
    make_user("expert", username="eve")
    path = f"/projects/{project['id']}/members"
    assert post(maria, path, {"usernames": "ann", "role": "worker"}).status_code == 303
    response = post(maria, path, {"usernames": "bob\n\ncat\nghost\nann\neve", "role": "worker"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Added 2: bob, cat." in page
    refused = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td></tr>", page))
    assert refused == {"ghost": "no such user", "ann": "already a member",
                       "eve": "an expert account, not a worker"}
    assert input_value(page, "usernames") == "ghost\nann\neve"
    names = {m["username"]: m for m in manager.get(path).get_json()["members"]}
    assert {"ann", "bob", "cat"} <= set(names) and "eve" not in names
    listing = maria.get(path).get_data(as_text=True)
    assert all(f"<td class=\"ext\">{name}</td>" in listing for name in ("ann", "bob", "cat"))


def test_a_member_is_removed_by_a_post_and_enrollment_changes(maria, manager, make_project,
                                                             make_user):
    project = make_project(n_items=1)
    join(manager, project["id"], "maria")
    ann_id, _ = make_user("worker", username="ann")
    path = f"/projects/{project['id']}/members"
    post(maria, path, {"usernames": "ann", "role": "worker"})
    assert maria.get(f"{path}/{ann_id}/remove").status_code == 405
    assert post(maria, f"{path}/{ann_id}/remove", {}).status_code == 303
    current = [m for m in manager.get(path).get_json()["members"] if m["removed_at"] is None]
    assert "ann" not in {m["username"] for m in current}
    assert post(maria, f"{path}/enrollment", {"enrollment": "invite"}).status_code == 303
    assert manager.get(f"/projects/{project['id']}").get_json()["enrollment"] == "invite"
    assert "Only the workers listed" in maria.get(path).get_data(as_text=True)
    assert post(maria, f"{path}/enrollment", {"enrollment": "closed"}).status_code == 303
    assert manager.get(f"/projects/{project['id']}").get_json()["enrollment"] == "invite"


@pytest.mark.parametrize("path", ["/projects/new", "/projects/{id}/edit", "/projects/{id}/members",
                                  "/projects/{id}/members/enrollment", "/projects/{id}/items"])
def test_a_post_without_its_csrf_token_is_refused(maria, manager, make_project, path):
    project = make_project(n_items=1)
    join(manager, project["id"], "maria")
    before = manager.get(f"/projects/{project['id']}").get_json()
    response = maria.post(path.format(id=project["id"]), data={**BASE, "usernames": "maria"})
    assert response.status_code == 400
    assert manager.get(f"/projects/{project['id']}").get_json() == before
    assert len(manager.get("/projects").get_json()["projects"]) == 1


@pytest.mark.parametrize("role", ["worker", "expert"])
def test_workers_and_experts_get_403_and_another_teams_manager_404(client, make_user,
                                                                    make_project, role):
    project = make_project(n_items=1)
    make_user(role, username="someone")
    login(client, "someone")
    for path in ("/projects", "/projects/new", f"/projects/{project['id']}/edit",
                 f"/projects/{project['id']}/members", f"/projects/{project['id']}/items"):
        assert client.get(path).status_code == 403, path
    other = client.application.test_client()
    make_user("manager", username="other-team")
    login(other, "other-team")
    for suffix in ("edit", "members", "items"):
        assert other.get(f"/projects/{project['id']}/{suffix}").status_code == 404
    assert "test project" not in other.get("/projects").get_data(as_text=True)
