"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json."""
from __future__ import annotations

from typing import Any

from crowd.domain.settings import SETTINGS
from crowd.web.api import bp

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, roles: str, ok: int = 200, body: dict[str, Any] | None = None,
        answer: dict[str, Any] | None = None, errors: tuple[int, ...] = (401, 403),
        params: tuple[str, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "description": f"Who: {roles}.",
        "responses": {str(ok): {"description": "OK",
                                **({"content": {"application/json": {"schema": answer}}}
                                   if answer else {})}},
    }
    for status in errors:
        op["responses"][str(status)] = {
            "description": "error", "content": {"application/json": {"schema": ERROR}}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "integer"}}
            for p in params
        ]
    return op


def _obj(*required: str, **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


S, I, N, B = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
USER = _obj("id", "username", "role", id=I, username=S, role=S)
SETTINGS_PROPS = {s.name: (I if s.kind is int else N) | {"default": s.default} for s in SETTINGS}
PROJECT_BODY = _obj("name", "labels", name=S, labels={"type": "array", "items": S},
                    guidelines=S, **SETTINGS_PROPS)
PROJECT = {"$ref": "#/components/schemas/Project"}
MANAGER = "manager, admin"


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    pid = ("project_id",)
    return {
        "openapi": "3.1.0",
        "info": {"title": "crowd API", "version": "1",
                 "description": "Crowdsourcing task routing: see README.md for the rules."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": _obj("error", error=_obj("code", "message", code=S, message=S)),
                "Project": _obj("id", "name", "labels", id=I, name=S,
                                labels={"type": "array", "items": S}, guidelines=S,
                                guidelines_version=I, progress={"type": "object"},
                                **SETTINGS_PROPS),
                "Assignment": _obj(
                    "assignment_id", "item", "labels", "expires_at", "mode",
                    assignment_id=I, item=_obj("id", "data", id=I, data={"type": "object"}),
                    labels={"type": "array", "items": S}, expires_at=S,
                    mode={"enum": ["qualification", "training", "work"]}),
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/tokens": {
                "post": _op("Exchange credentials for a bearer token", "anyone", 201,
                            _obj("username", "password", username=S, password=S),
                            _obj("token", "user", token=S, user=USER), (401, 422))
                | {"security": []},
                "delete": _op("Revoke the token used for this request", "any user", 204),
            },
            "/users": {"post": _op("Create a user (managers: workers and experts only)",
                                   MANAGER, 201,
                                   _obj("username", "password", "role", username=S,
                                        password=S, role=S), USER, (401, 403, 409, 422))},
            "/me": {"get": _op("The current user", "any user", answer=USER)},
            "/projects": {
                "get": _op("List projects", "any user (workers see no progress)"),
                "post": _op("Create a project", MANAGER, 201, PROJECT_BODY, PROJECT,
                            (401, 403, 422)),
            },
            "/projects/{project_id}": {
                "get": _op("A project with its progress counts", MANAGER, answer=PROJECT,
                           errors=(401, 403, 404), params=pid),
                "patch": _op("Change settings; new guidelines bump guidelines_version",
                             MANAGER, body={"type": "object"}, answer=PROJECT,
                             errors=(401, 403, 404, 409, 422), params=pid),
            },
            "/projects/{project_id}/items": {"post": _op(
                "Import items: a JSON list, or CSV / JSONL as the body or a multipart 'file'. "
                "?on_error=skip imports the valid rows; otherwise any bad row refuses all.",
                MANAGER, 201, {"type": "array", "items": _obj(
                    "external_id", external_id=S, data={"type": "object"}, gold_label=S,
                    priority=I)},
                _obj("created", "skipped_duplicates", "errors", created=I,
                     skipped_duplicates=I, errors={"type": "array"}),
                (400, 401, 403, 404, 413, 415, 422), pid)},
            "/projects/{project_id}/next": {"post": _op(
                "Reserve the next item (204: nothing left; 403 code suspended)", "worker",
                answer={"$ref": "#/components/schemas/Assignment"},
                errors=(401, 403, 404), params=pid)},
            "/assignments/{assignment_id}/answer": {"post": _op(
                "Answer an assignment (idempotent; 409 other label; 410 expired; 422 unknown "
                "label; 404 not yours)", "worker",
                body=_obj("label", label=S, duration_ms=I),
                answer=_obj("accepted", accepted=B, feedback=_obj(
                    "correct", "expected", correct=B, expected=S)),
                errors=(401, 403, 404, 409, 410, 422), params=("assignment_id",))},
            "/projects/{project_id}/me": {"get": _op(
                "The worker's own state, gold record and history", "worker",
                errors=(401, 403, 404), params=pid)},
            "/projects/{project_id}/workers": {"get": _op(
                "The worker report: state and scores of every worker (?format=json|csv|jsonl)",
                MANAGER, errors=(400, 401, 403, 404), params=pid)},
            "/projects/{project_id}/results": {"get": _op(
                "Results, streamed (?format=json|jsonl|csv): one row per non-gold item with "
                "external_id, status, label, confidence, source, n_labels, posterior",
                MANAGER, errors=(400, 401, 403, 404), params=pid)},
            "/projects/{project_id}/labels": {"get": _op(
                "Every raw label with provenance, streamed (?format=jsonl|csv|json)",
                MANAGER, errors=(400, 401, 403, 404), params=pid)},
            "/projects/{project_id}/aggregate": {"post": _op(
                "Run Dawid-Skene now and re-decide items", MANAGER,
                answer=_obj("items", "iterations", "converged", items=I, iterations=I,
                            converged=B),
                errors=(401, 403, 404), params=pid)},
            "/projects/{project_id}/quality": {"get": _op(
                "The quality report: Fleiss' kappa, Krippendorff's alpha, per-class agreement, "
                "class balance, confusion against gold and expert truth, worker accuracy, "
                "gold items to re-check", MANAGER, errors=(401, 403, 404), params=pid)},
            "/reviews": {"get": _op(
                "The review queue of ?project=<id> (&limit=), most uncertain first",
                "expert, admin", errors=(401, 403, 404, 422)) | {"parameters": [
                    {"name": "project", "in": "query", "required": True,
                     "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}}]}},
            "/reviews/{item_id}": {"post": _op(
                "Resolve an item in review; final, source expert; may promote it to gold",
                "expert, admin", body=_obj("label", label=S, note=S, promote_to_gold=B),
                errors=(401, 403, 404, 409, 422), params=("item_id",))},
            "/projects/{project_id}/workers/{worker_id}": {"get": _op(
                "One worker's standing, confusion matrix and state history with evidence",
                MANAGER, errors=(401, 403, 404), params=("project_id", "worker_id"))},
            "/projects/{project_id}/workers/{worker_id}/state": {"post": _op(
                "Override a worker's state (recorded with the reason)", MANAGER,
                body=_obj("state", "reason", state={"enum": ["active", "retraining",
                                                             "suspended"]}, reason=S),
                errors=(401, 403, 404, 422), params=("project_id", "worker_id"))},
        },
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
