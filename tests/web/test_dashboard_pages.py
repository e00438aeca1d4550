"""The manager's dashboard, workers table, worker page and quality page: what they
show, sorting and keyset paging (every worker once), bad query strings (400, never
500), state changes with a reason, and the quality report stored per run."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crowd.jobs.activity import refresh_activity
from crowd.extensions import db
from crowd.services import backlog, quality_cache, worker_table
from tests.conftest import Api, Clock
from tests.support import join, make_users

SORTS = ("worker", "state", "gold", "estimated", "labels", "median", "last_active")


def login(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": username, "password": "password-123",
                                         "csrf_token": token})
    assert answer.status_code == 302
    return client


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', page).group(1)


def build(app: Flask, manager: Api, make_project: Any, make_user: Any, clock: Clock,
          n_workers: int = 7) -> tuple[int, FlaskClient, list[int]]:
    project = make_project(n_items=24, n_gold=4, labels=("pos", "neg"), gold_rate=0.25,
                           redundancy=2, max_redundancy=3)["id"]
    workers = make_users(app, manager, *[f"dw{i}" for i in range(n_workers)])
    for turn in range(4):
        for n, (_, worker) in enumerate(workers[: n_workers - 1]):  # the last never works
            offer = worker.post(f"/projects/{project}/next")
            if offer.status_code != 200:
                continue
            body = offer.get_json()
            worker.post(f"/assignments/{body['assignment_id']}/answer",
                        {"label": ("pos", "neg")[(n * turn) % 2], "duration_ms": 2000 + 900 * n})
            clock.advance(400)
    workers[-1][1].post(f"/projects/{project}/next")  # a standing, no label
    make_user("manager", username="dash-manager")
    join(manager, project, "dash-manager")
    return project, login(app, "dash-manager"), [w for w, _ in workers]


@pytest.fixture
def world(app: Flask, manager: Api, make_project: Any, make_user: Any,
          clock: Clock) -> tuple[int, FlaskClient, list[int]]:
    return build(app, manager, make_project, make_user, clock)


def test_the_dashboard_shows_progress_series_eta_cost_and_downloads(world, app) -> None:
    project, client, _ = world
    page = client.get(f"/manage/{project}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('role="img"') >= 3  # progress, per day, per hour
    assert "Work items by status" in html and "Labels per hour" in html
    assert "gold items" in html and "promotes to gold" in html
    assert 'id="eta"' in html and "work labels per hour" in html
    assert "Gold share of answers" in html
    for kind in ("results", "labels", "workers"):
        assert f"/manage/{project}/download/{kind}.csv" in html
    assert f"/manage/{project}/workers" in html and f"/manage/{project}/quality" in html
    assert "style=" not in html and "<script>" not in html
    with app.app_context():
        refresh_activity(db.session)
    assert client.get(f"/manage/{project}").get_data(as_text=True).count('role="img"') >= 3


def test_no_recent_activity_is_said_when_nobody_labels(app, manager, make_project, make_user,
                                                       clock) -> None:
    project = make_project(n_items=3, labels=("a", "b"))["id"]
    make_user("manager", username="idle-manager")
    join(manager, project, "idle-manager")
    html = login(app, "idle-manager").get(f"/manage/{project}").get_data(as_text=True)
    assert "no recent activity" in html and "No labels yet." in html


def _walk(client: FlaskClient, project: int, sort: str, direction: str) -> list[int]:
    seen, after = [], None
    for _ in range(50):
        query = f"sort={sort}&dir={direction}" + (f"&after={after}" if after else "")
        page = client.get(f"/manage/{project}/workers?{query}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        seen += [int(w) for w in re.findall(rf'href="/manage/{project}/workers/(\d+)"', html)]
        found = re.search(r'rel="next" href="[^"]*after=(\d+)"', html)
        if not found:
            return seen
        after = found.group(1)
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_pages_every_worker_once_in_order(world, app, monkeypatch, sort) -> None:
    project, client, workers = world
    with app.app_context():
        refresh_activity(db.session)
    monkeypatch.setattr(worker_table, "PAGE", 3)
    with app.app_context():
        rows = list(worker_table.report_rows(db.session, project))
    column = {"worker": "username", "state": "state", "gold": "gold_accuracy",
              "estimated": "estimated_accuracy", "labels": "labels",
              "median": "median_answer_ms", "last_active": "last_active_at"}[sort]
    order = {"qualification": 0, "active": 1, "retraining": 2, "suspended": 3}
    for direction in ("asc", "desc"):
        seen = _walk(client, project, sort, direction)
        assert sorted(seen) == sorted(workers), (direction, seen)
        value = {r["worker"]: r[column] for r in rows}
        keys = [order[value[w]] if sort == "state" else value[w] for w in seen]
        present = [k if k is not None else (-1 if sort != "last_active" else "") for k in keys]
        assert present == sorted(present, reverse=direction == "desc"), (direction, keys)


@pytest.mark.parametrize("query", [
    "sort=evil", "sort=labels;drop", "dir=sideways", "after=abc", "after=-1", "after=1.5",
    "after=99999999999999999999", "after=%D9%A1%D9%A2", "after=2147483648", "after=2147483647",
    "sort=%00", "after=0x10",
])
def test_bad_query_strings_get_a_400_page(world, query) -> None:
    project, client, _ = world
    page = client.get(f"/manage/{project}/workers?{query}")
    assert page.status_code == 400, query
    assert "crowd" in page.get_data(as_text=True)


def test_the_worker_report_downloads_every_worker(world) -> None:
    project, client, workers = world
    body = client.get(f"/manage/{project}/download/workers.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sorted(int(r["worker"]) for r in rows) == sorted(workers)
    assert set(worker_table.COLUMNS) == set(rows[0])
    lines = client.get(f"/manage/{project}/download/workers.jsonl").get_data(as_text=True)
    assert len(lines.splitlines()) == len(workers)


def test_the_worker_page_suspends_with_a_reason_and_offers_no_misleading_state(world) -> None:
    project, client, workers = world
    worker = workers[0]
    path = f"/manage/{project}/workers/{worker}"
    html = client.get(path).get_data(as_text=True)
    assert html.count('role="img"') == 2  # the heat map and the gold chart
    assert 'value="active"' not in html  # already active: not offered
    token = csrf(client, path)
    state = f"{path}/state"
    refused = client.post(state, data={"csrf_token": token, "state": "suspended", "reason": " "},
                          follow_redirects=True)
    assert "A reason is required" in refused.get_data(as_text=True)
    evil = client.post(state, data={"csrf_token": token, "state": "deleted", "reason": "x"},
                       follow_redirects=True)
    assert evil.status_code == 200 and "A reason is required" in evil.get_data(as_text=True)
    same = client.post(state, data={"csrf_token": token, "state": "active", "reason": "x"},
                       follow_redirects=True)
    assert "already active" in same.get_data(as_text=True)
    done = client.post(state, data={"csrf_token": token, "state": "suspended",
                                    "reason": "copied <answers> from a friend"},
                       follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "State changed to suspended" in html
    assert "copied &lt;answers&gt; from a friend" in html and "manager_override" in html
    assert 'value="suspended"' not in html and "Reinstate" in html
    assert 'name="state" value="active"' in html


def test_a_worker_of_no_standing_is_404(world) -> None:
    project, client, _ = world
    assert client.get(f"/manage/{project}/workers/2147483647").status_code == 404
    assert client.get(f"/manage/{project}/workers/2147483648").status_code == 404


def test_aggregate_now_says_what_changed_and_which_labels_it_fitted(world) -> None:
    project, client, _ = world
    token = csrf(client, f"/manage/{project}")
    done = client.post(f"/manage/{project}/aggregate", data={"csrf_token": token},
                       follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "completed" in html and "reopened" in html and "sent to expert review" in html
    assert "differs from" in html and "labels collected" in html


def test_the_quality_page_is_live_when_small_and_stored_per_run_when_large(
        world, monkeypatch) -> None:
    project, client, _ = world
    html = client.get(f"/manage/{project}/quality").get_data(as_text=True)
    assert "Computed now" in html and "Fleiss' kappa" in html
    assert "how much more often workers give an item the same label" in html
    assert html.count('role="img"') >= 4
    monkeypatch.setattr(quality_cache, "LIVE_LIMIT", 0)
    assert "Not computed yet" in client.get(f"/manage/{project}/quality").get_data(as_text=True)
    token = csrf(client, f"/manage/{project}")
    client.post(f"/manage/{project}/aggregate", data={"csrf_token": token})
    html = client.get(f"/manage/{project}/quality").get_data(as_text=True)
    assert "after aggregation run #" in html and "Fleiss' kappa" in html


def test_a_large_project_shows_the_item_counts_the_job_stored(world, app, manager,
                                                               monkeypatch) -> None:
    project, client, _ = world
    monkeypatch.setattr(backlog, "LIVE_ITEMS", 0)
    with app.app_context():
        refresh_activity(db.session)
        live = backlog.item_counts(db.session, project)
    html = client.get(f"/manage/{project}").get_data(as_text=True)
    assert "Counted by the activity job at" in html
    assert f"<b>{live['items']}</b>work items" in html
    more = [{"external_id": f"late{i}", "data": {"text": "late"}} for i in range(3)]
    assert manager.post(f"/projects/{project}/items", more).status_code == 201
    assert f"<b>{live['items']}</b>work items" in client.get(f"/manage/{project}").get_data(
        as_text=True)  # the stored counts until the job or Aggregate now
    token = csrf(client, f"/manage/{project}")
    client.post(f"/manage/{project}/aggregate", data={"csrf_token": token})
    assert f"<b>{live['items'] + 3}</b>work items" in client.get(
        f"/manage/{project}").get_data(as_text=True)
