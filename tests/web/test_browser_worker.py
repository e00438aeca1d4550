"""A worker in a real browser: qualification with feedback on the answered item, then
20 items labelled with the keyboard alone and no page load between them; the lease
countdown running out; the page without its script."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Label, User
from tests.support import join
from tests.web.browser_support import chromium, live_server, screenshot

pytestmark = pytest.mark.browser

GUIDELINES = ("Answer **positive** when the text is glad, **negative** when it is not.\n\n"
              "- Sarcasm counts as negative.\n- When unsure, read the whole text once more.")


@pytest.fixture
def keyboard_project(make_project: Any, make_user: Any) -> dict[str, Any]:
    """Qualification of 2 at a 0.5 bar, hidden gold in the work (at 0.4, 20 items hold
    none with chance 0.6**20 = 4e-5; the seed is fixed anyway), the fast-answer and
    same-label rules off (keys are fast, and this worker answers one label throughout)."""
    project = make_project(n_items=30, n_gold=16, labels=("positive", "negative"),
                           qualification_size=2, qualification_accuracy=0.5, gold_rate=0.4,
                           fast_answer_ms=0, same_label_alpha=0.0, guidelines=GUIDELINES)
    make_user("worker", username="kim")
    return project


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _tab_to(page: Any, text: str) -> None:
    """Move the focus with Tab until it is on the control showing ``text``."""
    for _ in range(30):
        page.keyboard.press("Tab")
        if text in page.evaluate("document.activeElement.textContent"):
            return
    raise AssertionError(f"Tab never reached {text!r}")


def _assignment(page: Any) -> str:
    return page.input_value("#answer-form input[name=assignment_id]")


def _answer_and_wait(page: Any, key: str) -> None:
    """Press ``key`` on a work item and wait for the next item to be in place."""
    before = _assignment(page)
    page.keyboard.press(key)
    page.wait_for_function(
        "(before) => { const f = document.querySelector('#answer-form input[name=assignment_id]');"
        " return !f || f.value !== before; }", arg=before)


def test_worker_qualifies_then_labels_20_items_by_keyboard_without_a_page_load(
        app, keyboard_project):
    pid = keyboard_project["id"]
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        _login(page, base, "kim")
        screenshot(page, "worker-home")
        loads: list[str] = []
        page.on("framenavigated", lambda frame: loads.append(frame.url)
                if frame == page.main_frame else None)
        _tab_to(page, "Start")
        page.keyboard.press("Enter")
        page.wait_for_selector("#task[data-mode=qualification]")
        assert loads == [f"{base}/work/{pid}"]
        page.evaluate("window.stillThisPage = true")
        assert page.locator("#guidelines").get_attribute("open") is not None
        assert "answer 1 · a pass takes at least 2 answers" in page.inner_text("#round-progress")
        screenshot(page, "worker-qualification")

        # Feedback shows on the answered item; Enter moves on.
        for number, (key, shown) in enumerate([
                ("1", "Correct!"),
                ("2", "Not quite: you answered “negative”; the expected answer was “positive”."),
                ("1", "Correct!"), ("1", "Correct!")], start=1):
            assert f"answer {number} ·" in page.inner_text("#round-progress")
            page.keyboard.press(key)
            page.wait_for_selector("#feedback:not([hidden])")
            assert page.inner_text("#feedback") == shown
            assert f"Answered today: {number}" in page.inner_text("#progress")
            assert page.is_hidden("#lease")
            assert page.locator("#answer-form button[name=label]:disabled").count() == 2
            assert page.locator("#answer-form button.expected").inner_text().endswith("positive")
            if number <= 2:
                screenshot(page, f"worker-qualification-feedback-{number}")
            page.keyboard.press("Enter")
            page.wait_for_function("(n) => !document.querySelector('#feedback:not([hidden])')"
                                   " && document.querySelector('#task').dataset.mode !== ''",
                                   arg=number)
        page.wait_for_selector("#state-notice")
        assert "You passed qualification" in page.inner_text("#state-notice")
        assert page.get_attribute("#task", "data-state") == "active"
        screenshot(page, "worker-passed-qualification")

        page.keyboard.press("g")  # the guidelines close and open again by key
        assert page.locator("#guidelines").get_attribute("open") is None
        page.keyboard.press("g")
        assert page.locator("#guidelines").get_attribute("open") is not None
        page.keyboard.press("g")

        sent: list[str] = []
        page.on("request", lambda request: sent.append(
            f"{request.method} {re.sub(r'[0-9]+', '#', request.url.removeprefix(base))}"))
        items = []
        for done in range(20):
            assert page.get_attribute("#task", "data-mode") == "work"
            items.append(int(_assignment(page)))
            _answer_and_wait(page, "1")
            if done == 0:
                screenshot(page, "worker-work-item")
        # Each item, gold or work, took the same three requests in the same order.
        assert sent == ["POST /api/v#/assignments/#/answer", "POST /api/v#/projects/#/next",
                        "GET /work/#/task?since=active&assignment=#"] * 20
        assert "Answered today: 24" in page.inner_text("#progress")
        assert loads == [f"{base}/work/{pid}"], "an answer loaded a new page"
        assert page.evaluate("window.stillThisPage") is True
        screenshot(page, "worker-after-20-items")
        page.set_viewport_size({"width": 375, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(page, "worker-phone")
        page.set_viewport_size({"width": 1100, "height": 900})
        page.goto(f"{base}/")
        assert "Continue" in page.inner_text(".home-project")
        screenshot(page, "worker-home-working")
    with app.app_context():
        kim = db.session.scalar(select(User.id).where(User.username == "kim"))
        labels = list(db.session.scalars(select(Label).where(Label.worker_id == kim)))
    assert len(labels) == 24 and sum(label.mode == "work" for label in labels) == 20
    kinds = {label.is_gold for label in labels if label.assignment_id in items}
    assert kinds == {True, False}, "the 20 items should mix hidden gold and work"
    assert all(label.duration_ms is not None for label in labels)


def test_the_lease_counts_down_and_says_when_it_ran_out(app, make_project, make_user, clock):
    pid = make_project(n_items=3, lease_seconds=2)["id"]
    make_user("worker", username="lee")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        _login(page, base, "lee")
        page.goto(f"{base}/work/{pid}")
        first = _assignment(page)
        page.wait_for_selector("#lease.expired", timeout=15_000)
        assert "Time ran out" in page.inner_text("#lease")
        assert page.locator("#answer-form button[name=label]:disabled").count() == 3
        screenshot(page, "worker-lease-ran-out")
        clock.advance(5)  # the server's clock: the lease is over there too
        page.keyboard.press("Enter")
        page.wait_for_function("(first) => document.querySelector("
                               "'#answer-form input[name=assignment_id]').value !== first",
                               arg=first)


def test_without_the_script_the_buttons_post_the_form(app, make_project, make_user):
    pid = make_project(n_items=3)["id"]
    make_user("worker", username="noa")
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        _login(page, base, "noa")
        page.goto(f"{base}/work/{pid}")
        assert not page.is_visible("#keys")  # no promise of keys the page cannot keep
        screenshot(page, "worker-no-script")
        first = _assignment(page)
        with page.expect_navigation():
            page.click("#answer-form button[value=b]")
        assert _assignment(page) != first
    with app.app_context():
        assert db.session.scalar(select(Label.label)) == "b"


def test_the_last_item_leads_to_the_nothing_left_page_without_a_load(app, make_project,
                                                                     make_user):
    pid = make_project(n_items=2, labels=("yes", "no"))["id"]
    make_user("worker", username="ida")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        _login(page, base, "ida")
        page.goto(f"{base}/work/{pid}")
        loads: list[str] = []
        page.on("framenavigated", lambda frame: loads.append(frame.url)
                if frame == page.main_frame else None)
        _answer_and_wait(page, "2")
        _answer_and_wait(page, "1")
        page.wait_for_selector("#nothing-left")
        assert "Nothing left for you right now" in page.inner_text("#nothing-left")
        assert loads == []
        screenshot(page, "worker-nothing-left")


def test_undo_brings_the_last_item_back_to_answer_again(app, make_project, make_user):
    pid = make_project(n_items=4, allow_undo=True)["id"]
    make_user("worker", username="uma")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        _login(page, base, "uma")
        page.goto(f"{base}/work/{pid}")
        assert page.is_hidden("#undo-bar")
        first = _assignment(page)
        _answer_and_wait(page, "1")
        page.wait_for_selector("#undo-bar:not([hidden])")
        assert "Previous item answered “a”." in page.inner_text("#undo-bar")
        screenshot(page, "worker-undo-offered")
        page.keyboard.press("u")
        page.wait_for_function("(first) => document.querySelector("
                               "'#answer-form input[name=assignment_id]').value === first",
                               arg=first)
        assert page.is_hidden("#undo-bar")
        _answer_and_wait(page, "2")
    with app.app_context():
        labels = {label.assignment_id: label.label for label in db.session.scalars(select(Label))}
    assert labels == {int(first): "b"}


def test_retraining_and_suspended_pages(app, make_project, make_user, manager):
    """Screenshots of the states' pages, as a worker meets them."""
    pid = make_project(n_items=3, n_gold=6, qualification_size=2,
                       guidelines="Look twice.")["id"]
    worker_id, _ = make_user("worker", username="ola")
    make_user("manager", username="mina")
    join(manager, pid, "mina")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        _login(page, base, "ola")
        page.goto(f"{base}/work/{pid}")
        for state, reason in (("retraining", "your checked answers fell to 55%, 70% needed"),
                              ("suspended", "answers at random on the last 40 items")):
            changed = manager.post(f"/projects/{pid}/workers/{worker_id}/state",
                                   {"state": state, "reason": reason})
            assert changed.status_code == 200, changed.get_json()
            page.goto(f"{base}/work/{pid}")
            assert reason in page.inner_text("main")
            screenshot(page, f"worker-{state}")
        assert "mina" in page.inner_text("#suspended")
        page.goto(f"{base}/")
        screenshot(page, "worker-home-suspended")
