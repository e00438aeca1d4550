"""What a worker never sees, and how tokens and roles are refused.

Who may call which route, as which kind of caller, is tests/web/test_access_matrix.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import Api

PASSWORD = "password-123"


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
