"""A manager and an expert use crowd in a real browser (the worker:
tests/web/test_browser_worker.py)."""
from __future__ import annotations

import pytest

from tests.support import join
from tests.web.browser_support import chromium, live_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_project(make_project, make_user, manager):
    project = make_project(n_items=3, n_gold=3, labels=("positive", "negative"),
                           qualification_size=2, qualification_accuracy=0.5)
    make_user("worker", username="alice")
    make_user("manager", username="maria")
    join(manager, project["id"], "maria")
    return project


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password-123")
    page.click("button[type=submit]")


def test_manager_sees_progress_and_overrides_a_worker(app, browser_project, make_user, manager):
    _, token = make_user("worker", username="bob")
    worker = manager.as_(token)
    worker.post(f"/projects/{browser_project['id']}/next")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        _login(page, base, "maria")
        page.click("text=Open")
        page.click(".manage-nav >> text=Workers")
        page.click("table.workers >> text=bob")
        page.fill("#reason-suspended", "spot check failed")
        page.click("form.override >> button:has-text('Suspend')")
        assert "State changed to suspended" in page.inner_text(".flash")
        assert "spot check failed" in page.inner_text("table.history")
        screenshot(page, "manager-project")


def test_login_form_without_csrf_token_is_refused(app, client, browser_project):
    response = client.post("/login", data={"username": "alice", "password": "password-123"})
    assert response.status_code == 400


def test_wrong_password_shows_an_error(app, browser_project):
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        assert "Wrong username or password" in page.inner_text("main")


def test_expert_resolves_an_item_from_the_review_queue(app, make_project, make_user, manager):
    project = make_project(n_items=1, labels=("positive", "negative"), redundancy=2,
                           max_redundancy=2)
    for label in ("positive", "negative"):
        _, token = make_user("worker")
        worker = manager.as_(token)
        offer = worker.post(f"/projects/{project['id']}/next").get_json()
        worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": label})
    make_user("expert", username="erin")
    join(manager, project["id"], "erin")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        _login(page, base, "erin")
        page.click("text=Review")
        assert "The crowd disagreed after 2 labels" in page.inner_text(".review-item")
        assert "1 item left in review" in page.inner_text("#review-left")
        screenshot(page, "expert-review")
        page.click(".review-item .labels button >> text=negative")
        assert "resolved as “negative”" in page.inner_text(".flash")
        assert "Nothing left to review" in page.inner_text("main")
        assert "0 items left in review" in page.inner_text("#review-left")
        screenshot(page, "expert-review-empty")
    results = manager.get(f"/projects/{project['id']}/results?format=json").get_json()
    assert results[0]["source"] == "expert" and results[0]["label"] == "negative"


def _thief(browser, base: str, cookies) -> object:
    """Another browser that replays a copied session cookie."""
    context = browser.new_context()
    context.add_cookies(cookies)
    page = context.new_page()
    page.goto(f"{base}/")
    return page


def test_a_copied_session_cookie_gets_the_login_page_after_logout_and_deactivation(
    app, make_user, manager,
):
    user_id, _ = make_user("worker", username="carol")
    admin = manager.as_(make_user("admin")[1])
    with live_server(app) as base, chromium() as browser:
        owner = browser.new_context()
        page = owner.new_page()
        _login(page, base, "carol")
        copied = owner.cookies()
        assert any(cookie["name"] == "session" for cookie in copied)
        assert "carol" in _thief(browser, base, copied).inner_text("header")
        page.click("text=Log out")
        stolen = _thief(browser, base, copied)
        assert "/login" in stolen.url and stolen.is_visible("input[name=password]")
        screenshot(stolen, "copied-cookie-after-logout")

        _login(page, base, "carol")
        copied = owner.cookies()
        assert "carol" in _thief(browser, base, copied).inner_text("header")
        assert admin.patch(f"/users/{user_id}", {"active": False}).status_code == 200
        stolen = _thief(browser, base, copied)
        assert "/login" in stolen.url and stolen.is_visible("input[name=password]")
        page.reload()
        assert "/login" in page.url  # the owner's own session has ended too
