"""A manager sets a project up in the browser: creates it (with a mistake first),
adds members, uploads items (one bad row), and browses the item table."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from crowd.extensions import db
from crowd.persistence import Item
from tests.web.browser_support import chromium, live_server, screenshot

pytestmark = pytest.mark.browser

GUIDELINES = """# How to label

Read the **whole** review, then pick *one* label:

- positive: the writer liked it
- negative: the writer did not

<script>alert("never run")</script> See [the style guide](https://example.org/guide)."""
ITEMS = (
    "external_id,text,gold_label\n"
    "rev-001,Loved every minute,\n"
    "rev-002,Dull and far too long,\n"
    "rev-003,A delight from start to end,\n"
    "rev-004,Fine I guess,maybe\n"
    "rev-005,Terrible acting,negative\n"
)


@pytest.fixture
def people(make_user):
    make_user("manager", username="maria")
    for name in ("ann", "bob", "cat"):
        make_user("worker", username=name)


def test_a_manager_sets_up_a_project_in_the_browser(app, people, tmp_path):
    items_file = tmp_path / "reviews.csv"
    items_file.write_text(ITEMS)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        # (a 422 page, as the refused forms are, is logged as a failed load: not a fault)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                and "status of 422" not in m.text else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "maria")
        page.fill("input[name=password]", "password-123")
        page.click("button[type=submit]")
        page.click("text=New project")
        screenshot(page, "manager-project-new")

        page.fill("input[name=name]", "Movie reviews")
        page.fill("textarea[name=labels]", "positive\nnegative")
        page.fill("textarea[name=guidelines]", GUIDELINES)
        page.fill("input[name=redundancy]", "two")
        page.click("button:has-text('Create project')")
        assert page.inner_text("#redundancy-error") == "redundancy must be a number"
        assert page.input_value("input[name=name]") == "Movie reviews"
        assert page.input_value("textarea[name=guidelines]") == GUIDELINES
        screenshot(page, "manager-project-invalid")
        page.fill("input[name=redundancy]", "2")
        page.click("button:has-text('Create project')")
        assert "created" in page.inner_text(".flash.success")
        preview = page.locator(".guidelines-preview .markdown")
        assert preview.locator("h1").inner_text() == "How to label"
        assert preview.locator("strong").inner_text() == "whole"
        assert preview.locator("a").get_attribute("href") == "https://example.org/guide"
        assert '<script>alert("never run")</script>' in preview.inner_text()
        assert page.input_value("input[name=redundancy]") == "2"
        screenshot(page, "manager-project-created")

        page.click(".project-tabs >> text=Members")
        page.fill("textarea[name=usernames]", "ann")
        page.click("button:has-text('Add')")
        assert "Added 1: ann." in page.inner_text(".flash.success")
        page.fill("textarea[name=usernames]", "bob\ncat\nghost")
        page.click("button:has-text('Add')")
        assert "Added 2: bob, cat." in page.inner_text(".flash.success")
        assert "ghost" in page.inner_text("table.refused") and "no such user" in page.inner_text(
            "table.refused")
        assert page.input_value("textarea[name=usernames]") == "ghost"
        members = page.inner_text("table.members")
        assert all(name in members for name in ("ann", "bob", "cat", "maria"))
        screenshot(page, "manager-members")

        page.click(".project-tabs >> text=Items")
        page.wait_for_load_state("load")
        loads: list[str] = []
        page.on("load", lambda: loads.append(page.url))
        page.set_input_files("input[name=file]", str(items_file))
        page.click("button:has-text('Upload')")
        page.wait_for_selector("table.row-errors")
        assert "Nothing was imported: 1 row is invalid" in page.inner_text("#upload-result")
        assert page.inner_text("table.row-errors tbody").split("\t")[:2] == ["4", "gold_label"]
        assert loads == [], "the upload went through upload.js, not a page load"
        screenshot(page, "manager-items-upload-refused")

        page.set_input_files("input[name=file]", str(items_file))
        page.check("input[name=skip_invalid]")
        page.click("button:has-text('Upload')")
        page.wait_for_selector("#upload-result .flash.warning")
        assert "Imported 4 items" in page.inner_text("#upload-result")
        assert "1 invalid row was left out" in page.inner_text("#upload-result")
        assert page.locator("table.items tbody tr").count() == 4
        assert page.locator("table.items .pill.gold").count() == 1
        screenshot(page, "manager-items-imported")

        with app.app_context():
            db.session.execute(update(Item).where(Item.external_id.in_(["rev-001", "rev-003"]))
                               .values(status="complete", result_label="positive",
                                       confidence=0.97, n_labels=2))
            db.session.commit()
        page.select_option("select[name=status]", "complete")
        page.select_option("select[name=label]", "positive")
        page.click("button:has-text('Filter')")
        rows = page.locator("table.items tbody tr")
        assert rows.count() == 2
        assert "rev-001" in rows.nth(0).inner_text() and "0.97" in rows.nth(0).inner_text()
        screenshot(page, "manager-items-filtered")

        page.set_viewport_size({"width": 375, "height": 800})
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "manager-items-phone")
        page.goto(f"{base}/projects")
        assert "Movie reviews" in page.inner_text("table.projects")
        screenshot(page, "manager-projects-phone")
        page.set_viewport_size({"width": 1280, "height": 900})
        screenshot(page, "manager-projects")
        assert errors == []
