"""The worker's pages through the test client: home, the task page and its fragment,
the states (qualification, retraining, suspended, nothing left), the no-script answer
form, and the JSON API reached with the browser session and its CSRF token."""
from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from crowd.extensions import db
from crowd.persistence import Assignment, Label
from tests.conftest import Api
from tests.support import join

FRAGMENT = {"X-Crowd-Fragment": "1"}  # what the page's script sends for the fragment alone
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: FlaskClient, username: str) -> str:
    """Log in through the form; the session's CSRF token (the same for every page)."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": "password-123",
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return csrf_of(client.get("/").get_data(as_text=True))


def assignment_of(page: str) -> int:
    found = re.search(r'name="assignment_id" type="hidden" value="(\d+)"', page)
    assert found, page[:800]
    return int(found.group(1))


def worker_client(app: Flask, make_user: Any, username: str = "pat") -> FlaskClient:
    make_user("worker", username=username)
    client = app.test_client()
    login(client, username)
    return client


def _items(manager: Api, project_id: int, items: list[dict[str, Any]]) -> None:
    response = manager.post(f"/projects/{project_id}/items", items)
    assert response.status_code == 201, response.get_json()


# --- home --------------------------------------------------------------------------------


def test_home_lists_a_workers_projects_with_their_standing_and_the_way_in(
        app, make_project, make_user, manager):
    started = make_project(n_items=3, name="started one")["id"]
    fresh = make_project(n_items=3, name="fresh one", qualification_size=4, n_gold=4)["id"]
    client = worker_client(app, make_user)
    client.get(f"/work/{started}")  # takes an item: the standing is made
    page = client.get("/").get_data(as_text=True)
    assert "started one" in page and "fresh one" in page
    assert f'href="/work/{started}">Continue' in page and f'href="/work/{fresh}">Start' in page
    assert 'class="pill active"' in page and "the project asks for no qualification" in page
    assert "You begin with a qualification round" in page
    assert "only in whole blocks of 10" in page  # point 7: why the figure can differ


def test_home_keeps_the_links_of_managers_and_experts(app, make_project, make_user, manager):
    project = make_project(n_items=1)["id"]
    make_user("expert", username="erin")
    join(manager, project, "erin")
    client = app.test_client()
    login(client, "erin")
    page = client.get("/").get_data(as_text=True)
    assert f'href="/review/{project}"' in page and "Continue" not in page


# --- the task page -----------------------------------------------------------------------


def test_the_item_is_shown_safely_image_long_text_and_a_table(app, make_project, make_user,
                                                              manager):
    project = make_project(n_items=0)["id"]
    long_text = "line\n" * 10 + "<b>end</b>"
    _items(manager, project, [{"external_id": "x", "data": {
        "title": "<script>alert(1)</script>", "photo": PNG, "body": long_text,
        "remote": "https://img.example.com/cat.jpg", "count": 3}}])
    client = worker_client(app, make_user)
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert html.escape("<script>alert(1)</script>", quote=False) in page
    assert f'<img src="{PNG}" alt="Image: photo"' in page
    assert 'class="long-text-body pre" tabindex="0">line' in page and "&lt;b&gt;end" in page
    assert '<th scope="row">count</th><td class="pre">3</td>' in page
    # Another site's image is a link unless the deployment lists its origin.
    assert 'href="https://img.example.com/cat.jpg" target="_blank" rel="noopener noreferrer"' in page
    assert '<img src="https://img.example.com' not in page


def test_an_image_from_a_listed_origin_is_shown_and_the_csp_allows_it(
        app, make_project, make_user, manager, monkeypatch):
    from crowd.web.headers import headers_for

    project = make_project(n_items=0)["id"]
    _items(manager, project, [{"external_id": "x", "data": {
        "remote": "https://img.example.com/cat.jpg"}}])
    client = worker_client(app, make_user)
    monkeypatch.setitem(app.config, "IMAGE_ORIGINS", ("https://img.example.com",))
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert '<img src="https://img.example.com/cat.jpg"' in page
    policy = headers_for(("https://img.example.com",))["Content-Security-Policy"]
    assert "img-src 'self' data: https://img.example.com;" in policy


def test_a_malformed_image_origin_stops_the_app_from_starting():
    from config import TestConfig
    from crowd import create_app

    with pytest.raises(ValueError, match="CROWD_IMAGE_SOURCES"):
        create_app(TestConfig("sqlite://", IMAGE_SOURCES="https://ok.example.com https://*.x"))


def test_buttons_show_their_keys_and_the_lease_is_a_countdown(app, make_project, make_user):
    project = make_project(n_items=2, labels=tuple(f"l{i}" for i in range(11)),
                           lease_seconds=600)["id"]
    page = worker_client(app, make_user).get(f"/work/{project}").get_data(as_text=True)
    assert 'data-key="1" aria-keyshortcuts="1"><kbd class="js-only">1</kbd> l0</button>' in page
    assert 'data-key="9"' in page and 'data-key="10"' not in page  # 1-9 only
    assert 'value="l10">l10</button>' in page
    assert 'id="lease" data-seconds="600">This item is held for you for 10 minutes.' in page
    assert not re.search(r"\d\d:\d\d:\d\d", page)  # no wall-clock time


def test_qualification_keeps_the_guidelines_open_and_counts_the_round(app, make_project,
                                                                      make_user):
    project = make_project(n_items=3, n_gold=6, qualification_size=3,
                           guidelines="Read *twice*.")["id"]
    client = worker_client(app, make_user)
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert '<details class="card guidelines" id="guidelines" open>' in page
    assert "Qualification</b> · you see after each answer whether it was right" in page
    assert ("This round: answer 1 · a pass takes at least 3 answers, the round ends by 9."
            in page)
    token = csrf_of(page)
    client.post(f"/work/{project}/answer", data={
        "csrf_token": token, "assignment_id": assignment_of(page), "label": "a"})
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert "This round: answer 2 ·" in page


def test_an_active_worker_has_the_guidelines_closed_and_a_progress_line(
        app, make_project, make_user):
    project = make_project(n_items=5, guidelines="Look.")["id"]
    client = worker_client(app, make_user)
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert '<details class="card guidelines" id="guidelines">' in page
    assert "Answered today: <b>0</b>" in page and "up to 4 more items for you" in page
    client.post(f"/work/{project}/answer", data={
        "csrf_token": csrf_of(page), "assignment_id": assignment_of(page), "label": "b"})
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert "Answered today: <b>1</b>" in page and "up to 3 more items for you" in page


def test_items_left_are_counted_up_to_a_cap(app, make_project, make_user):
    project = make_project(n_items=120)["id"]
    page = worker_client(app, make_user).get(f"/work/{project}").get_data(as_text=True)
    assert "100 or more items left for you" in page


def test_nothing_left_is_a_clear_page(app, make_project, make_user):
    project = make_project(n_items=0)["id"]
    page = worker_client(app, make_user).get(f"/work/{project}").get_data(as_text=True)
    assert "Nothing left for you right now" in page and 'href="/"' in page


def test_a_suspended_worker_reads_why_whom_to_ask_and_the_blocks_rule(
        app, make_project, make_user, manager):
    project = make_project(n_items=3)["id"]
    make_user("manager", username="mona")
    join(manager, project, "mona")
    worker_id, _ = make_user("worker", username="sam")
    client = app.test_client()
    login(client, "sam")
    client.get(f"/work/{project}")
    changed = manager.post(f"/projects/{project}/workers/{worker_id}/state",
                           {"state": "suspended", "reason": "answers at random"})
    assert changed.status_code == 200, changed.get_json()
    response = client.get(f"/work/{project}")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "You are suspended from this project" in page and "answers at random" in page
    assert "ask your project manager" in page and "mona" in page
    assert "only in whole blocks of 10" in page
    assert 'id="answer-form"' not in page
    home = client.get("/").get_data(as_text=True)
    assert f'href="/work/{project}">Why suspended' in home


def test_retraining_says_what_it_means_and_what_happens_next(app, make_project, make_user,
                                                             manager):
    project = make_project(n_items=3, n_gold=5, qualification_size=2,
                           qualification_accuracy=0.75)["id"]
    worker_id, _ = make_user("worker", username="rae")
    client = app.test_client()
    login(client, "rae")
    client.get(f"/work/{project}")
    manager.post(f"/projects/{project}/workers/{worker_id}/state",
                 {"state": "retraining", "reason": "too many misses"})
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert "<h2>Retraining</h2>" in page and "too many misses" in page
    assert "below 75%, you are suspended" in page
    assert "Training</b> · you see after each answer" in page


# --- the fragment the script swaps in ---------------------------------------------------


def test_the_fragment_renders_the_held_lease_and_never_reserves(app, make_project, make_user):
    project = make_project(n_items=4)["id"]
    client = worker_client(app, make_user)
    held = assignment_of(client.get(f"/work/{project}").get_data(as_text=True))
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Assignment))
    fragment = client.get(f"/work/{project}/task?assignment={held}", headers=FRAGMENT)
    assert fragment.status_code == 200 and "X-Crowd-Fragment" in fragment.headers["Vary"]
    text = fragment.get_data(as_text=True)
    assert text.startswith("<div id=\"task\"") and "<html" not in text
    assert assignment_of(text) == held
    page = client.get(f"/work/{project}/task?assignment={held}").get_data(as_text=True)
    assert page.startswith("<!doctype html>") and assignment_of(page) == held  # opened as a page
    for odd in ("abc", "9" * 40, "-1", str(held + 1000)):  # none is the worker's: the held one
        assert assignment_of(client.get(f"/work/{project}/task?assignment={odd}")
                             .get_data(as_text=True)) == held
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == before


def test_the_fragment_says_when_qualification_was_passed(app, make_project, make_user):
    project = make_project(n_items=3, n_gold=4, qualification_size=1)["id"]
    client = worker_client(app, make_user)
    page = client.get(f"/work/{project}").get_data(as_text=True)
    client.post(f"/work/{project}/answer", data={
        "csrf_token": csrf_of(page), "assignment_id": assignment_of(page), "label": "a"})
    fragment = client.get(f"/work/{project}/task?since=qualification").get_data(as_text=True)
    assert "You passed qualification" in fragment and 'data-state="active"' in fragment
    assert "passed qualification" in client.get(
        f"/work/{project}/task?since=bogus").get_data(as_text=True)  # the reason, no notice
    assert "You passed" not in client.get(f"/work/{project}/task?since=bogus").get_data(
        as_text=True)


# --- the answer form without the script --------------------------------------------------


def test_without_the_script_the_form_posts_and_the_next_item_follows(app, make_project,
                                                                     make_user):
    project = make_project(n_items=3, n_gold=2, qualification_size=1)["id"]
    client = worker_client(app, make_user)
    page = client.get(f"/work/{project}").get_data(as_text=True)
    first = assignment_of(page)
    response = client.post(f"/work/{project}/answer", data={
        "csrf_token": csrf_of(page), "assignment_id": first, "label": "a",
        "duration_ms": "2500"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Correct!" in page
    assert assignment_of(page) != first
    with app.app_context():
        label = db.session.scalar(select(Label).where(Label.assignment_id == first))
        assert (label.label, label.duration_ms) == ("a", 2500)


# --- the JSON API with the browser session ----------------------------------------------


def _session_call(client: FlaskClient, path: str, token: str | None, body: Any = None,
                  **headers: str) -> Any:
    if token is not None:
        headers["X-CSRFToken"] = token
    return client.post(f"/api/v1{path}", json=body, headers=headers)


def test_the_api_takes_the_session_only_with_its_csrf_token(app, make_project, make_user):
    project = make_project(n_items=3)["id"]
    make_user("worker", username="sid")
    client = app.test_client()
    token = login(client, "sid")
    for refused in (None, "", "not-a-token", token[:-2] + "xx"):
        response = _session_call(client, f"/projects/{project}/next", refused)
        assert response.status_code == 401, refused
        assert response.get_json()["error"]["code"] == "unauthorized"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Assignment)) == 0
    offer = _session_call(client, f"/projects/{project}/next", token)
    assert offer.status_code == 200, offer.get_json()
    answered = _session_call(client, f"/assignments/{offer.get_json()['assignment_id']}/answer",
                             token, {"label": "a", "duration_ms": 1800})
    assert answered.status_code == 200 and answered.get_json() == {"accepted": True}
    me = client.get("/api/v1/me", headers={"X-CSRFToken": token})
    assert me.get_json()["username"] == "sid"


def test_a_token_of_another_session_or_a_logged_out_one_is_refused(app, make_project,
                                                                   make_user):
    project = make_project(n_items=3)["id"]
    make_user("worker", username="ann")
    make_user("worker", username="ben")
    ann, ben = app.test_client(), app.test_client()
    ann_token, _ = login(ann, "ann"), login(ben, "ben")
    assert _session_call(ben, f"/projects/{project}/next", ann_token).status_code == 401
    ann.post("/logout", data={"csrf_token": ann_token})
    assert _session_call(ann, f"/projects/{project}/next", ann_token).status_code == 401


def test_a_bearer_header_is_never_mixed_with_the_session(app, make_project, make_user):
    project = make_project(n_items=3)["id"]
    make_user("worker", username="bea")
    client = app.test_client()
    token = login(client, "bea")
    response = _session_call(client, f"/projects/{project}/next", token,
                             Authorization="Bearer wrong")
    assert response.status_code == 401  # a wrong token is wrong, session or not
    anonymous = app.test_client().post(f"/api/v1/projects/{project}/next")
    assert response.get_data() == anonymous.get_data()  # the body of no credentials at all


def test_a_retraining_round_served_as_work_says_nothing_of_its_items(app, make_project,
                                                                     make_user, manager):
    """After a sniffing finding the round is gold served as work: its page must read as
    a work page (no feedback, no round counter, no word about known answers)."""
    from crowd.domain.fraud import SNIFFING
    from crowd.persistence import WorkerStanding

    project = make_project(n_items=3, n_gold=5)["id"]
    worker_id, _ = make_user("worker", username="sly")
    client = app.test_client()
    login(client, "sly")
    client.get(f"/work/{project}")
    manager.post(f"/projects/{project}/workers/{worker_id}/state",
                 {"state": "retraining", "reason": "checks answered far better than work"})
    with app.app_context():
        standing = db.session.scalar(select(WorkerStanding).where(
            WorkerStanding.worker_id == worker_id))
        standing.state_reason_code = SNIFFING
        db.session.commit()
    page = client.get(f"/work/{project}").get_data(as_text=True)
    assert 'data-mode="work"' in page and "keep working as usual" in page
    assert "known" not in page and "round-progress" not in page and "Training" not in page
