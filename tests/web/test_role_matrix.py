"""Who may call what: every /api/v1 endpoint against every role, and what a worker never sees.

The endpoints are discovered from the app's URL map, so an endpoint added
without an entry in ``EXPECTED`` fails here until someone decides who may call it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import config
from crowd import create_app
from tests.conftest import Api
from tests.support import answered_then_leased, api_routes

ROLES = ("anonymous", "worker", "expert", "manager", "admin")
PUBLIC = frozenset(ROLES)
ANY_USER = frozenset({"worker", "expert", "manager", "admin"})
MANAGERS = frozenset({"manager", "admin"})
WORKERS = frozenset({"worker"})
EXPERTS = frozenset({"expert", "admin"})
PASSWORD = "password-123"
WORKER_NAME = "loop-worker"



@dataclass
class World:
    """A project mid-flight: one item in review, a worker holding a live lease."""

    project: int
    worker_id: int
    assignment: int
    reviewed_item: int
    tokens: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    """Who may call an endpoint, and a request that succeeds for them in a ``World``."""

    allowed: frozenset[str]
    path: Callable[[World], str]
    body: Callable[[World], Any] | None = None


P = "/api/v1/projects/<>"
EXPECTED: dict[tuple[str, str], Endpoint] = {
    ("POST", "/api/v1/tokens"): Endpoint(
        PUBLIC, lambda w: "/tokens", lambda w: {"username": WORKER_NAME, "password": PASSWORD}),
    ("DELETE", "/api/v1/tokens"): Endpoint(ANY_USER, lambda w: "/tokens"),
    ("POST", "/api/v1/users"): Endpoint(
        MANAGERS, lambda w: "/users",
        lambda w: {"username": "new-worker", "password": PASSWORD, "role": "worker"}),
    ("GET", "/api/v1/me"): Endpoint(ANY_USER, lambda w: "/me"),
    ("GET", "/api/v1/openapi.json"): Endpoint(PUBLIC, lambda w: "/openapi.json"),
    ("GET", "/api/v1/projects"): Endpoint(ANY_USER, lambda w: "/projects"),
    ("POST", "/api/v1/projects"): Endpoint(
        MANAGERS, lambda w: "/projects", lambda w: {"name": "another", "labels": ["x", "y"]}),
    ("GET", P): Endpoint(MANAGERS, lambda w: f"/projects/{w.project}"),
    ("PATCH", P): Endpoint(
        MANAGERS, lambda w: f"/projects/{w.project}", lambda w: {"guidelines": "look twice"}),
    ("POST", f"{P}/items"): Endpoint(
        MANAGERS, lambda w: f"/projects/{w.project}/items",
        lambda w: [{"external_id": "fresh", "data": {"text": "fresh"}}]),
    ("GET", f"{P}/results"): Endpoint(
        MANAGERS, lambda w: f"/projects/{w.project}/results?format=json"),
    ("GET", f"{P}/labels"): Endpoint(
        MANAGERS, lambda w: f"/projects/{w.project}/labels?format=jsonl"),
    ("GET", f"{P}/workers"): Endpoint(MANAGERS, lambda w: f"/projects/{w.project}/workers"),
    ("GET", f"{P}/workers/<>"): Endpoint(
        MANAGERS, lambda w: f"/projects/{w.project}/workers/{w.worker_id}"),
    ("POST", f"{P}/workers/<>/state"): Endpoint(
        MANAGERS, lambda w: f"/projects/{w.project}/workers/{w.worker_id}/state",
        lambda w: {"state": "active", "reason": "role matrix"}),
    ("POST", f"{P}/aggregate"): Endpoint(MANAGERS, lambda w: f"/projects/{w.project}/aggregate"),
    ("GET", f"{P}/quality"): Endpoint(MANAGERS, lambda w: f"/projects/{w.project}/quality"),
    ("POST", f"{P}/next"): Endpoint(WORKERS, lambda w: f"/projects/{w.project}/next"),
    ("POST", "/api/v1/assignments/<>/answer"): Endpoint(
        WORKERS, lambda w: f"/assignments/{w.assignment}/answer", lambda w: {"label": "a"}),
    ("GET", f"{P}/me"): Endpoint(WORKERS, lambda w: f"/projects/{w.project}/me"),
    ("GET", "/api/v1/reviews"): Endpoint(EXPERTS, lambda w: f"/reviews?project={w.project}"),
    ("POST", "/api/v1/reviews/<>"): Endpoint(
        EXPERTS, lambda w: f"/reviews/{w.reviewed_item}", lambda w: {"label": "a"}),
}


def _discovered() -> list[tuple[str, str]]:
    # Building the app touches no database; it only lays out the URL map.
    return sorted(api_routes(create_app(config.TestConfig("sqlite://"))))


DISCOVERED = _discovered()


@pytest.fixture
def world(manager: Api, make_project: Callable[..., dict[str, Any]],
          make_user: Callable[..., tuple[int, str]]) -> World:
    """One label given (its item sent to review), then a second item leased to the worker."""
    live = answered_then_leased(manager, make_project, make_user, WORKER_NAME)
    tokens: dict[str, str | None] = {"anonymous": None, "worker": live.worker_token,
                                     "manager": manager.token}
    return World(live.project, live.worker_id, live.assignment, live.reviewed_item, tokens)


def token_for(role: str, world: World, make_user: Callable[..., tuple[int, str]]) -> str | None:
    if role not in world.tokens:
        world.tokens[role] = make_user(role)[1]
    return world.tokens[role]


def call(client: FlaskClient, method: str, path: str, token: str | None, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def assert_error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error


def test_every_api_endpoint_has_an_expected_role_set(app: Flask) -> None:
    unlisted = sorted(api_routes(app) - set(EXPECTED))
    assert not unlisted, f"add these endpoints to EXPECTED with the roles allowed: {unlisted}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "rule"), DISCOVERED, ids=[f"{m} {r}" for m, r in DISCOVERED])
def test_role_gets_2xx_where_allowed_401_when_anonymous_403_otherwise(
    method: str, rule: str, role: str, world: World, client: FlaskClient,
    make_user: Callable[..., tuple[int, str]],
) -> None:
    endpoint = EXPECTED.get((method, rule))
    assert endpoint is not None, f"{method} {rule} is not in EXPECTED: decide who may call it"
    token = token_for(role, world, make_user)
    body = endpoint.body(world) if endpoint.body else None
    response = call(client, method, endpoint.path(world), token, body)
    if role in endpoint.allowed:
        assert 200 <= response.status_code < 300, response.get_data(as_text=True)
    elif role == "anonymous":
        assert_error(response, 401, "unauthorized")
    else:
        assert_error(response, 403, "forbidden")


MANAGER_READS = (P, f"{P}/results", f"{P}/labels", f"{P}/workers", f"{P}/workers/<>",
                 f"{P}/quality")
WORKER_FORBIDDEN_READS = [(m, r) for m, r in DISCOVERED if m == "GET" and r in MANAGER_READS]


@pytest.mark.parametrize(("method", "rule"), WORKER_FORBIDDEN_READS,
                         ids=[r for _, r in WORKER_FORBIDDEN_READS])
def test_worker_cannot_read_project_detail_results_labels_workers_or_quality(
    method: str, rule: str, world: World, client: FlaskClient,
) -> None:
    response = call(client, method, EXPECTED[(method, rule)].path(world), world.tokens["worker"])
    assert_error(response, 403, "forbidden")
    assert "gold" not in response.get_data(as_text=True)


# Keys that would tell a worker the truth, other workers' opinions or scores.
SECRET_KEYS = {"gold_label", "is_gold", "expected", "correct", "posterior", "confidence",
               "result_label", "result_source", "estimated_accuracy", "confusion", "progress",
               "workers", "n_labels"}


def secret_keys_in(value: Any, path: str = "") -> Iterator[str]:
    """Where ``value`` holds a secret key (``feedback`` is looked at by the caller)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in SECRET_KEYS:
                yield f"{path}.{key}"
            if key != "feedback":
                yield from secret_keys_in(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from secret_keys_in(inner, f"{path}[{index}]")


def gold_item_ids(app: Flask, project_id: int) -> set[int]:
    from sqlalchemy import select

    from crowd.extensions import db
    from crowd.persistence import Item

    with app.app_context():
        return set(db.session.scalars(
            select(Item.public_id).where(Item.project_id == project_id, Item.is_gold.is_(True))))


def test_worker_responses_never_reveal_gold_labels_results_or_scores(
    app: Flask, manager: Api, make_project: Callable[..., dict[str, Any]],
    make_user: Callable[..., tuple[int, str]],
) -> None:
    project = make_project(n_items=6, n_gold=8, qualification_size=2, qualification_accuracy=0.5,
                           gold_rate=0.5, redundancy=1)["id"]
    gold_ids = gold_item_ids(app, project)
    other = manager.as_(make_user("worker")[1])
    for _ in range(3):  # another worker's labels exist and must not leak either
        offer = other.post(f"/projects/{project}/next").get_json()
        other.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    worker = manager.as_(make_user("worker")[1])
    seen: list[tuple[str, Any]] = []
    modes_by_item: dict[int, str] = {}
    for _ in range(40):
        offered = worker.post(f"/projects/{project}/next")
        if offered.status_code == 204:
            break
        assert offered.status_code == 200, offered.get_json()
        offer = offered.get_json()
        assert set(offer) == {"assignment_id", "item", "labels", "expires_at", "mode"}
        assert set(offer["item"]) == {"id", "data"}
        modes_by_item[offer["item"]["id"]] = offer["mode"]
        seen.append(("next", offer))
        for _repeat in range(2):  # the idempotent replay must not say more
            answered = worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
            assert answered.status_code == 200, answered.get_json()
            result = answered.get_json()
            if offer["mode"] in ("qualification", "training"):
                assert set(result) == {"accepted", "feedback"}
                assert set(result["feedback"]) == {"correct", "expected"}
            else:
                assert result == {"accepted": True}
            seen.append(("answer", result))
        for path in ("/projects", f"/projects/{project}/me", "/me"):
            response = worker.get(path)
            assert response.status_code == 200, response.get_json()
            seen.append((path, response.get_json()))
    assert "qualification" in modes_by_item.values()
    assert any(modes_by_item[i] == "work" for i in gold_ids & set(modes_by_item)), \
        "the walk should include a hidden gold item served as work"
    leaks = [(where, key) for where, body in seen for key in secret_keys_in(body)]
    assert not leaks


def test_revoked_token_gets_401_and_other_tokens_still_work(client: FlaskClient, make_user) -> None:
    make_user("expert", username="revoker")
    first = client.post("/api/v1/tokens", json={"username": "revoker", "password": PASSWORD})
    second = client.post("/api/v1/tokens", json={"username": "revoker", "password": PASSWORD})
    assert first.status_code == second.status_code == 201
    token, other = first.get_json()["token"], second.get_json()["token"]
    assert call(client, "GET", "/me", token).status_code == 200
    assert call(client, "DELETE", "/tokens", token).status_code == 204
    assert_error(call(client, "GET", "/me", token), 401, "unauthorized")
    assert_error(call(client, "DELETE", "/tokens", token), 401, "unauthorized")
    assert call(client, "GET", "/me", other).get_json()["username"] == "revoker"


@pytest.mark.parametrize("header", [
    "Bearer not-a-token",
    "Bearer {token}x",
    "Bearer {token_prefix}",
    "Basic {token}",
    "{token}",
    "Bearer",
    "Bearer ",
    "",
])
def test_missing_or_wrong_token_gets_401(header: str, client: FlaskClient, make_user) -> None:
    _, token = make_user("manager")
    value = header.format(token=token, token_prefix=token[:-1])
    response = client.get("/api/v1/me", headers={"Authorization": value} if value else {})
    assert_error(response, 401, "unauthorized")


def test_bad_password_gets_401(client: FlaskClient, make_user) -> None:
    make_user("worker", username="someone")
    response = client.post("/api/v1/tokens", json={"username": "someone", "password": "wrong-pass"})
    assert_error(response, 401)
    unknown = client.post("/api/v1/tokens", json={"username": "nobody", "password": PASSWORD})
    assert_error(unknown, 401)


@pytest.mark.parametrize("new_role", ["manager", "admin"])
def test_manager_cannot_create_a_manager_or_admin(new_role: str, client: FlaskClient,
                                                  manager: Api) -> None:
    response = manager.post("/users", {"username": "climber", "password": PASSWORD,
                                       "role": new_role})
    assert_error(response, 403, "forbidden")
    login = client.post("/api/v1/tokens", json={"username": "climber", "password": PASSWORD})
    assert_error(login, 401)


@pytest.mark.parametrize("new_role", ["worker", "expert", "manager", "admin"])
def test_admin_can_create_any_role(new_role: str, client: FlaskClient, manager: Api,
                                   make_user) -> None:
    admin = manager.as_(make_user("admin")[1])
    response = admin.post("/users", {"username": "newcomer", "password": PASSWORD,
                                     "role": new_role})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["role"] == new_role
    login = client.post("/api/v1/tokens", json={"username": "newcomer", "password": PASSWORD})
    assert login.status_code == 201
    assert login.get_json()["user"]["role"] == new_role


@pytest.mark.parametrize("new_role", ["worker", "expert"])
def test_manager_can_create_workers_and_experts(new_role: str, manager: Api) -> None:
    response = manager.post("/users", {"username": "hand", "password": PASSWORD, "role": new_role})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["role"] == new_role
