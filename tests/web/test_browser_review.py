"""An expert works through the review queue in a real browser, with the keyboard alone."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.integration.test_reviews import _build
from tests.support import join
from tests.web.browser_support import chromium, live_server, screenshot
from tests.web.test_review_pages import _item

pytestmark = pytest.mark.browser

# Five disputed items, most uncertain first: three-way splits (1/3 each, oldest
# first), then the two-to-one splits.
PLAN = {"split-1": "abc", "split-2": "abc", "split-3": "abc", "lean-a": "aab", "lean-b": "bba"}


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password-123")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")


def _press(page: Any, key: str, clock: Any) -> None:
    """Press a key that posts a form, wait for the page it lands on; a minute passes."""
    with page.expect_navigation():
        page.keyboard.press(key)
    clock.advance(60)


def test_expert_resolves_three_with_the_keyboard_promotes_one_skips_one_and_sees_history(
    app: Flask, manager: Any, make_user: Any, clock: Any,
) -> None:
    pid, _, ids = _build(app, manager, PLAN, review_rate=0.0)
    make_user("expert", username="erin")
    join(manager, pid, "erin")
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        _login(page, base, "erin")
        page.goto(f"{base}/review/{pid}")
        assert page.evaluate("document.activeElement.id") == "review-item-title"
        assert page.inner_text("#review-item-title") == "split-1"
        assert "5 items left in review" in page.inner_text("#review-left")
        screenshot(page, "review-item")

        page.keyboard.press("p")  # promote to gold, then label 1 ("a")
        assert page.is_checked("#promote")
        _press(page, "1", clock)
        assert "split-1 resolved as “a” and promoted to gold." in page.inner_text(".flash")
        assert page.inner_text("#review-item-title") == "split-2"
        screenshot(page, "review-after-resolve")

        page.keyboard.press("n")  # a note, Esc back out of it, then label 2 ("b")
        page.keyboard.type("two of three said b elsewhere")
        page.keyboard.press("Escape")
        _press(page, "2", clock)
        assert page.inner_text("#review-item-title") == "split-3"
        _press(page, "3", clock)
        assert "3 items left" not in page.inner_text("#review-left")
        assert "2 items left in review" in page.inner_text("#review-left")

        assert page.inner_text("#review-item-title") == "lean-a"
        _press(page, "s", clock)
        assert page.inner_text("#review-item-title") == "lean-b"
        assert "1 skipped by you" in page.inner_text("#review-left")
        page.click("details.skipped summary")
        assert page.is_visible("details.skipped a >> text=lean-a")
        screenshot(page, "review-after-skip")

        page.click("text=Your decisions")
        rows = page.locator("table.history tbody tr")
        assert rows.count() == 3
        assert [rows.nth(i).locator("td").first.inner_text() for i in range(3)] == [
            "split-3", "split-2", "split-1"]
        assert "two of three said b elsewhere" in rows.nth(1).inner_text()
        assert "promoted" in rows.nth(2).inner_text()
        screenshot(page, "review-history")

        phone = browser.new_context(viewport={"width": 375, "height": 812})
        small = phone.new_page()
        _login(small, base, "erin")
        small.goto(f"{base}/review/{pid}")
        assert small.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(small, "review-phone")
        small.goto(f"{base}/review/{pid}/history")
        assert small.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(small, "review-history-phone")

    for name, label in (("split-1", "a"), ("split-2", "b"), ("split-3", "c")):
        item = _item(app, ids[name])
        assert (item.status, item.result_label, item.result_source) == ("resolved", label,
                                                                        "expert")
    assert _item(app, ids["split-1"]).is_gold and _item(app, ids["split-1"]).gold_label == "a"
    assert not _item(app, ids["split-2"]).is_gold
    assert _item(app, ids["split-2"]).review_note == "two of three said b elsewhere"
    assert _item(app, ids["lean-a"]).status == _item(app, ids["lean-b"]).status == "in_review"
    progress = manager.get(f"/projects/{pid}").get_json()["progress"]
    assert (progress["items"], progress["gold"], progress["resolved"]) == (4, 1, 2)
