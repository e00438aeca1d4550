"""A manager reads the dashboard, sorts the workers table, opens a worker's page and
suspends them with a reason, in a real browser (and the table fits a phone)."""
from __future__ import annotations

import pytest

from crowd.extensions import db
from crowd.jobs.activity import refresh_activity
from tests.support import join, make_users
from tests.web.browser_support import chromium, live_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_project(app, make_project, make_user, manager, clock):
    project = make_project(n_items=40, n_gold=6, labels=("positive", "negative", "neutral"),
                           gold_rate=0.3, redundancy=3, max_redundancy=4)["id"]
    workers = make_users(app, manager, *[f"crowd-{i:02d}" for i in range(8)])
    for turn in range(6):
        for n, (_, worker) in enumerate(workers):
            offer = worker.post(f"/projects/{project}/next")
            if offer.status_code != 200:
                continue
            body = offer.get_json()
            label = body["labels"][0 if n < 5 else (turn + n) % 3]
            worker.post(f"/assignments/{body['assignment_id']}/answer",
                        {"label": label, "duration_ms": 1800 + 450 * n + 120 * turn})
            clock.advance(600)
    manager.post(f"/projects/{project}/aggregate")
    with app.app_context():
        refresh_activity(db.session)
    make_user("manager", username="mona")
    join(manager, project, "mona")
    return project


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "password-123")
    page.click("button[type=submit]")


def test_manager_reads_the_dashboard_and_suspends_a_worker_with_a_reason(app, busy_project):
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        _login(page, base, "mona")
        page.goto(f"{base}/manage/{busy_project}")
        for name in ("progress", "per-day", "per-hour"):
            assert page.locator(f"svg[aria-labelledby='{name}-title {name}-desc']").is_visible()
        assert page.locator("svg .segment").count() >= 2
        screenshot(page, "manager-dashboard")

        page.click(".manage-nav >> text=Workers")
        page.click("table.workers th >> text=Labels")
        assert "Sorted by labels (highest first)" in page.inner_text("main")
        counts = [int(c.replace(",", "")) for c in
                  page.locator("td[data-label=Labels]").all_inner_texts()]
        assert counts == sorted(counts, reverse=True) and len(counts) == 8
        page.click("table.workers th >> text=Labels")
        assert "lowest first" in page.inner_text("main")
        screenshot(page, "manager-workers")

        phone = browser.new_page(viewport={"width": 375, "height": 800})
        _login(phone, base, "mona")
        phone.goto(f"{base}/manage/{busy_project}/workers")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(phone, "manager-workers-phone")
        phone.goto(f"{base}/manage/{busy_project}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(phone, "manager-dashboard-phone")

        page.click("table.workers >> text=crowd-07")
        worker_page = page.url
        assert page.locator("svg.heat").is_visible()
        assert page.locator("svg[aria-labelledby='gold-title gold-desc']").is_visible()
        assert page.locator("form.override button:has-text('Reinstate')").count() == 0
        screenshot(page, "manager-worker")
        page.fill("#reason-suspended", "answers look random on the spot check")
        page.click("form.override >> button:has-text('Suspend')")
        assert "State changed to suspended" in page.inner_text(".flash")
        history = page.inner_text("table.history")
        assert "answers look random on the spot check" in history and "suspended" in history
        assert page.locator("form.override button:has-text('Reinstate')").count() == 1
        assert page.locator("form.override button:has-text('Suspend')").count() == 0
        screenshot(page, "manager-worker-suspended")

        page.click(".manage-nav >> text=Quality")
        assert "Fleiss' kappa" in page.inner_text("main")
        assert page.locator("svg.heat").count() == 1  # against gold; no expert has resolved
        assert page.locator("svg[aria-labelledby='against-expert-title against-expert-desc']"
                            ).is_visible()
        screenshot(page, "manager-quality")
        for name, path in (("worker", worker_page), ("quality", page.url)):
            phone.goto(path)
            assert phone.evaluate("document.documentElement.scrollWidth") <= 375, name
            screenshot(phone, f"manager-{name}-phone")
