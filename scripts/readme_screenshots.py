"""Screenshots for the README, taken from the demo.

    .venv/bin/python scripts/readme_screenshots.py [--out docs/screenshots]

Builds the demo (``crowd demo``'s project and accounts) on a temporary SQLite
database, lets a small crowd label it through the JSON API (reliable workers, one
random clicker, one who always picks "positive"), aggregates, then opens the pages
in Debian's chromium as each role and saves a PNG of each: the worker's task page,
the manager's dashboard, a worker's page, the quality report and the review page.
Only 127.0.0.1 is contacted; everything stops by itself.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config import BaseConfig  # noqa: E402
from crowd import create_app, demo, migrate  # noqa: E402
from crowd.extensions import db  # noqa: E402
from crowd.jobs.activity import refresh_activity  # noqa: E402
from tests.web.browser_support import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

PASSWORD = "screenshot-pass-1"
# (name, accuracy or a fixed label): the crowd that labels the demo before the pictures.
CROWD = [(f"reviewer-{n}", acc) for n, acc in enumerate((0.95, 0.92, 0.9, 0.88, 0.85, 0.8), 1)]
CROWD += [("random-clicker", None), ("always-positive", "positive")]


def demo_truth(summary: demo.DemoSummary) -> dict[str, str]:
    """Each demo review's true sentiment: ``demo.seed`` writes them from the same draw."""
    rows = demo._reviews(summary.items + summary.gold, np.random.default_rng(7))
    return {text: label for text, _, label in rows}


class Api:
    """JSON calls to the live server with a bearer token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None

    def login(self, username: str, password: str) -> Api:
        status, body = self.call("POST", "/tokens", {"username": username, "password": password})
        if status != 201:
            raise RuntimeError(f"login of {username} failed: {status} {body}")
        return Api(self.base, body["token"])


def label_the_demo(base: str, project_id: int, manager: Api, truths: dict[str, str],
                   rng: np.random.Generator) -> None:
    """The crowd works until nothing is left for it, then Dawid-Skene runs."""
    labels = ["positive", "negative", "neutral"]
    for name, _ in CROWD:
        manager.call("POST", "/users", {"username": name, "password": PASSWORD, "role": "worker"})
    crowd = [(Api(base).login(name, PASSWORD), skill) for name, skill in CROWD]
    while crowd:  # one answer each in turn, as a crowd works side by side
        still = []
        for worker, skill in crowd:
            status, offer = worker.call("POST", f"/projects/{project_id}/next")
            if status != 200:
                continue
            truth = truths[offer["item"]["data"]["review"]]
            if isinstance(skill, str):
                label = skill
            elif skill is None or rng.random() > skill:
                label = str(rng.choice(labels if skill is None
                                       else [x for x in labels if x != truth]))
            else:
                label = truth
            worker.call("POST", f"/assignments/{offer['assignment_id']}/answer",
                        {"label": label, "duration_ms": int(rng.integers(2500, 9000))})
            still.append((worker, skill))
        crowd = still
    manager.call("POST", f"/projects/{project_id}/aggregate")


def shoot(browser: Any, base: str, username: str, password: str,
          pages: list[tuple[str, str]], out: Path, width: int = 1280) -> None:
    """Log in as ``username`` and save each (path, file name) page as a PNG."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    for path, name in pages:
        response = page.goto(base + path)
        if response is None or response.status != 200:
            print(f"  {path}: {response.status if response else 'no answer'} (skipped)")
            continue
        page.screenshot(path=str(out / name), full_page=True)
        print(f"  {out / name}")
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="crowd-shots-") as folder:
        settings = BaseConfig()
        settings.DATABASE_URL = f"sqlite:///{Path(folder) / 'demo.sqlite'}"
        settings.SCHEDULER_ENABLED = False
        migrate.upgrade(settings.DATABASE_URL)
        app = create_app(settings)
        with app.app_context():
            summary = demo.seed()
        accounts = {username: password for username, _, password in summary.credentials}
        project = summary.project_id
        with live_server(app) as base:
            manager = Api(base).login("demo-manager", accounts["demo-manager"])
            label_the_demo(base, project, manager, demo_truth(summary), np.random.default_rng(3))
            with app.app_context():  # what the scheduled job would have counted by now
                refresh_activity(db.session)
            _, report = manager.call("GET", f"/projects/{project}/workers")
            workers = report["workers"]
            # The least reliable worker still at work: a page with a telling heat map.
            scored = [w for w in workers if w["estimated_accuracy"] is not None]
            shown = min(scored or workers, key=lambda w: w["estimated_accuracy"] or 0)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                     args=CHROMIUM_ARGS)
                try:
                    shoot(browser, base, "demo-worker", accounts["demo-worker"],
                          [("/", "worker-home.png"), (f"/work/{project}", "worker-task.png")],
                          args.out)
                    shoot(browser, base, "demo-manager", accounts["demo-manager"], [
                        (f"/manage/{project}", "manager-dashboard.png"),
                        (f"/manage/{project}/workers", "manager-workers.png"),
                        (f"/manage/{project}/workers/{shown['worker']}", "manager-worker.png"),
                        (f"/manage/{project}/quality", "manager-quality.png"),
                        (f"/projects/{project}/items", "manager-items.png"),
                    ], args.out)
                    shoot(browser, base, "demo-expert", accounts["demo-expert"],
                          [(f"/review/{project}", "expert-review.png")], args.out)
                finally:
                    browser.close()
        app.extensions["crowd_db"].engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
