"""Helpers shared by the test modules: users made quickly, item names, the worker's loop,
and a project caught mid-flight with an answered item and a live lease."""
from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Item, User
from crowd.services.accounts import issue_token

if TYPE_CHECKING:
    from tests.conftest import Api


def make_users(app: Flask, manager: Api, *names: str,
               role: str = "worker") -> list[tuple[int, Api]]:
    """(id, client) of users made straight in the database, one per name: a dummy
    password hash (skipping the slow hashing) and a fresh bearer token each."""
    with app.app_context():
        accounts = [User(username=n, password_hash="!", role=role) for n in names]
        db.session.add_all(accounts)
        db.session.commit()
        return [(a.id, manager.as_(issue_token(db.session, a))) for a in accounts]


def join(manager: Api, project_id: int, *usernames: str) -> None:
    """Make these users members of the project (each in their own role)."""
    response = manager.post(f"/projects/{project_id}/members", {"usernames": list(usernames)})
    assert response.status_code == 201, response.get_json()


def item_names(app: Flask, project_id: int) -> dict[int, str]:
    """A project's items: external id by the opaque id workers and experts see."""
    with app.app_context():
        return dict(db.session.execute(
            select(Item.public_id, Item.external_id).where(Item.project_id == project_id)).all())


def item_ids(app: Flask, project_id: int) -> dict[str, int]:
    """A project's items: the opaque id workers and experts see, by external id."""
    return {name: item_id for item_id, name in item_names(app, project_id).items()}


def internal_ids(app: Flask, project_id: int) -> dict[int, int]:
    """A project's items: the internal (sequential) id by the opaque one."""
    with app.app_context():
        return dict(db.session.execute(
            select(Item.public_id, Item.id).where(Item.project_id == project_id)).all())


def work_through(worker: Api, project_id: int, names: dict[int, str],
                 choose: Callable[[str], str]) -> list[str]:
    """Take and answer items (label ``choose(external id)``) until ``next`` says 204;
    the external ids answered, in order."""
    done = []
    for _ in range(500):
        response = worker.post(f"/projects/{project_id}/next")
        if response.status_code == 204:
            return done
        assert response.status_code == 200, response.get_json()
        offer = response.get_json()
        name = names[offer["item"]["id"]]
        answered = worker.post(f"/assignments/{offer['assignment_id']}/answer",
                               {"label": choose(name)})
        assert answered.status_code == 200, answered.get_json()
        done.append(name)
    raise AssertionError("next never ran dry")


def results_by_name(manager: Api, project_id: int) -> dict[str, dict[str, Any]]:
    """The project's results (JSON export), one row per external id."""
    response = manager.get(f"/projects/{project_id}/results?format=json")
    assert response.status_code == 200
    return {row["external_id"]: row for row in response.get_json()}


def api_routes(app: Flask) -> set[tuple[str, str]]:
    """Every (method, rule with its variables blanked) the app serves under /api/v1."""
    return {
        (method, re.sub(r"<[^>]*>", "<>", rule.rule))
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
        for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
    }


@dataclass
class LiveLease:
    """A project mid-flight: one item answered (and so in review), a second leased."""

    project: int
    worker_id: int
    worker_token: str
    assignment: int
    reviewed_item: int


def answered_then_leased(manager: Api, make_project: Callable[..., dict[str, Any]],
                         make_user: Callable[..., tuple[int, str]],
                         worker_name: str) -> LiveLease:
    """Four work items and one gold, each settled by one label at threshold 1.0 (so
    into review); the worker ``worker_name`` answers one and holds a lease on the next."""
    project = make_project(n_items=4, n_gold=1, redundancy=1, max_redundancy=1,
                           confidence_threshold=1.0)["id"]
    worker_id, worker_token = make_user("worker", username=worker_name)
    worker = manager.as_(worker_token)
    first = worker.post(f"/projects/{project}/next").get_json()
    answered = worker.post(f"/assignments/{first['assignment_id']}/answer", {"label": "a"})
    assert answered.status_code == 200, answered.get_json()
    second = worker.post(f"/projects/{project}/next")
    assert second.status_code == 200, second.get_json()
    return LiveLease(project, worker_id, worker_token, second.get_json()["assignment_id"],
                     first["item"]["id"])


def agreeing_label(offer: dict[str, Any]) -> str:
    """The label every simulated honest worker gives ``offer``'s item: fixed by the
    item's data, so the crowd agrees and no quality rule sanctions anyone. Load and
    fault tests check assignment invariants; random answers would (rightly) get
    workers sanctioned and their labels discounted, which reopens items."""
    labels = offer["labels"]
    text = json.dumps(offer["item"]["data"], sort_keys=True)
    return labels[zlib.crc32(text.encode()) % len(labels)]


# Durations the fast-answer rule never flags (its default floor is 1,000 ms).
HUMAN_DURATION_MS = (1_500, 60_000)
