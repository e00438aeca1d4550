"""The undo endpoint and the ``allow_undo`` setting over HTTP, on both databases: the
setting in the project JSON, created and patched like every other setting and
refused unless a JSON boolean; the route's answers and JSON errors as the OpenAPI
document states them."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crowd.domain.settings import SWITCHES
from crowd.web.api.openapi import document
from tests.web.conftest import Still, snapshot

JSON = "application/json"


def call(client: FlaskClient, method: str, path: str, token: str, **kwargs: Any) -> Any:
    return client.open(f"/api/v1{path}", method=method,
                       headers={"Authorization": f"Bearer {token}"}, **kwargs)


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == JSON
    error = response.get_json()["error"]
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]
    return error


# --- the setting -------------------------------------------------------------------------

def test_allow_undo_is_off_by_default_and_set_like_any_setting(manager, make_project) -> None:
    plain = make_project(n_items=0)
    assert plain["allow_undo"] is False
    on = make_project(n_items=0, allow_undo=True)
    assert on["allow_undo"] is True
    patched = manager.patch(f"/projects/{plain['id']}", {"allow_undo": True})
    assert patched.status_code == 200 and patched.get_json()["allow_undo"] is True
    assert manager.get(f"/projects/{plain['id']}").get_json()["allow_undo"] is True
    other = manager.patch(f"/projects/{plain['id']}", {"redundancy": 2}).get_json()
    assert other["allow_undo"] is True, "a PATCH of another setting keeps it"


@pytest.mark.parametrize("raw", ["1", "0", '"true"', "null", "[]", "{}", "1.0"])
@pytest.mark.parametrize("target", ["create", "patch"])
def test_allow_undo_takes_only_true_or_false(raw: str, target: str, still: Still) -> None:
    scene, app, client = still
    before = snapshot(app)
    if target == "create":
        response = call(client, "POST", "/projects", scene.manager, content_type=JSON,
                        data='{"name": "p", "labels": ["a", "b"], "allow_undo": %s}' % raw)
    else:
        response = call(client, "PATCH", f"/projects/{scene.project}", scene.manager,
                        content_type=JSON, data='{"allow_undo": %s}' % raw)
    error = error_of(response, 422, "invalid_setting")
    assert "allow_undo" in error["message"]
    assert snapshot(app) == before


def test_the_document_states_the_setting_and_the_route() -> None:
    doc = document()
    create = doc["components"]["schemas"]["ProjectCreate"]["properties"]
    for switch in SWITCHES:
        assert create[switch.name] == {"type": "boolean", "default": switch.default,
                                       "description": switch.help}
        assert doc["components"]["schemas"]["Project"]["properties"][switch.name] == {
            "type": "boolean"}
    route = doc["paths"]["/assignments/{assignment_id}/undo"]["post"]
    assert route["x-roles"] == ["worker"]
    assert {"200", "401", "403", "404", "409", "410", "503"} <= set(route["responses"])
    ok = route["responses"]["200"]["content"][JSON]["schema"]
    assert set(ok["required"]) == {"undone", "assignment_id", "expires_at"}
    assert "requestBody" not in route
    assert "undo_refused" in route["responses"]["409"]["description"]


# --- the route ---------------------------------------------------------------------------

def _undoable(manager: Any, make_project: Any, make_user: Any) -> tuple[Any, dict[str, Any]]:
    project = make_project(n_items=3, allow_undo=True, redundancy=1, max_redundancy=1,
                           confidence_threshold=0.5)
    worker = manager.as_(make_user("worker")[1])
    held = worker.post(f"/projects/{project['id']}/next").get_json()
    answered = worker.post(f"/assignments/{held['assignment_id']}/answer", {"label": "a"})
    assert answered.status_code == 200
    return worker, held


def test_undo_answers_the_assignment_and_its_unchanged_lease(
    app: Flask, manager, make_project, make_user
) -> None:
    worker, held = _undoable(manager, make_project, make_user)
    response = worker.post(f"/assignments/{held['assignment_id']}/undo")
    assert response.status_code == 200 and response.mimetype == JSON
    assert response.get_json() == {"undone": True, "assignment_id": held["assignment_id"],
                                   "expires_at": held["expires_at"]}
    assert response.get_json()["expires_at"].endswith("Z")
    again = worker.post(f"/assignments/{held['assignment_id']}/answer", {"label": "b"})
    assert again.status_code == 200 and again.get_json() == {"accepted": True}


def test_a_garbage_body_is_ignored(app: Flask, manager, make_project, make_user) -> None:
    worker, held = _undoable(manager, make_project, make_user)
    response = worker.post(f"/assignments/{held['assignment_id']}/undo",
                           data='{"truncated": ', content_type=JSON)
    assert response.status_code == 200, response.get_json()


def test_refusals_are_json_errors(app: Flask, manager, make_project, make_user,
                                  client: FlaskClient) -> None:
    worker, held = _undoable(manager, make_project, make_user)
    path = f"/assignments/{held['assignment_id']}/undo"
    error_of(client.post(f"/api/v1{path}"), 401, "unauthorized")
    error_of(manager.post(path), 403, "forbidden")
    error_of(worker.post(f"/assignments/{2**31 - 1}/undo"), 404, "not_found")
    assert worker.post(f"/assignments/{2**31}/undo").status_code == 404
    assert worker.post(path).status_code == 200
    error_of(worker.post(path), 409, "undo_refused")
    wrong = worker.get(path)
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"]


def test_a_refused_undo_writes_nothing(still: Still) -> None:
    """The kept scene's project does not allow undo: its worker's live lease is refused."""
    scene, app, client = still
    before = snapshot(app)
    response = call(client, "POST", f"/assignments/{scene.assignment}/undo", scene.worker)
    assert "does not let" in error_of(response, 409, "undo_refused")["message"]
    assert snapshot(app) == before
