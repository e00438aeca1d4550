"""The OpenAPI 3.1 document of the API, served at /api/v1/openapi.json.

Every operation lists each status it can answer, with the JSON error body
``{"error": {"code", "message", "details"?}}`` for the refusals; ``x-roles`` names
the roles that may call it. tests/web/test_openapi.py holds the document to the
app's URL map, and tests/web/test_fuzz.py holds the app to the document.
"""
from __future__ import annotations

from typing import Any

from crowd.services.importing import FORMATS
from crowd.web.api import bp
from crowd.web.api.openapi_access import TOKENS, access_paths
from crowd.web.api.openapi_undo import undo_paths
from crowd.web.api.openapi_schemas import (
    AGGREGATED,
    ANSWER,
    ANSWERED,
    HEALTHY,
    ID,
    HTML_REFUSAL,
    ITEMS_JSON,
    ITEMS_UPLOAD,
    NEW_USER,
    OBJECT,
    PUBLIC_ID,
    READY,
    RESOLVE,
    RESOLVED,
    RETRY_AFTER,
    S,
    SCHEMAS,
    STATE_CHANGE,
    STATUS_TEXT,
    TOKEN,
    TOKEN_BODY,
    Schema,
    arr,
    download,
    error,
    formats,
    json_content,
    obj,
    query_param,
    ref,
)

ANYONE: tuple[str, ...] = ()
ANY_USER = ("worker", "expert", "manager", "admin")
MANAGER = ("manager", "admin")
EXPERT = ("expert", "admin")
WORKER = ("worker",)



def op(summary: str, roles: tuple[str, ...], ok: int = 200, answer: Schema | None = None, *,
       body: Schema | None = None, content: dict[str, Any] | None = None,
       path: tuple[str, ...] = (), query: tuple[dict[str, Any], ...] = (),
       errors: tuple[int, ...] = (), why: dict[int, str] | None = None,
       empty: tuple[int, ...] = (), database: bool = True) -> dict[str, Any]:
    """One operation under /api/v1. Any request may be refused 422 (NUL in a query
    parameter) or 431 (headers too large); a JSON ``body`` adds 400 and 413; ``roles``
    add 401 (and 403 unless every user may call it); ``path`` ids add 404;
    ``database`` adds 503. ``empty`` are further successes without a body."""
    statuses = {*errors, 422, 431}
    if body is not None:
        statuses |= {400, 413}
    if roles:
        statuses.add(401)
        if set(roles) != set(ANY_USER):
            statuses.add(403)
    if path:
        statuses.add(404)
    if database:
        statuses.add(503)
    responses: dict[str, Any] = {str(ok): {"description": "OK"}}
    if answer is not None:
        responses[str(ok)]["content"] = json_content(answer)
    if content is not None:
        responses[str(ok)] |= content
    texts = {**STATUS_TEXT, **(why or {})}
    texts[422] = ((texts[422] if 422 in (why or {}) else "") + ANY_422).strip()
    for status in empty:
        responses[str(status)] = {"description": texts[status]}
    for status in sorted(statuses):
        responses[str(status)] = error(status, texts[status])
    out: dict[str, Any] = {
        "summary": summary,
        "description": f"Who: {', '.join(roles) if roles else 'anyone'}.",
        "x-roles": list(roles) if roles else ["anonymous", *ANY_USER],
        "responses": responses,
    }
    if not roles:
        out["security"] = []
    if body is not None:
        out["requestBody"] = {"required": True, "content": json_content(body)}
    params = [{"name": p, "in": "path", "required": True,
               "schema": PUBLIC_ID if p == "item_id" else ID} for p in path]
    if params or query:
        out["parameters"] = params + list(query)
    return out


PID = ("project_id",)
ANY_422 = (" Any request: a query parameter or form field holding NUL (`invalid_text`). A JSON "
           "body: a key or string holding NUL or a lone surrogate (`invalid_text`), an integer "
           "beyond 64 bits or a number not finite (`invalid_number`), nesting deeper than 64 "
           "(`too_deep`); details: the field.")
BAD_FORMAT = {400: "An unknown `format` (`bad_format`)."}
IMPORT_400 = ("Unreadable upload: not valid UTF-8 (`bad_encoding`), not valid JSON or JSONL "
              "(`invalid_json`), not a list of items (`invalid_body`), a CSV without an "
              "external_id column or with repeated or extra cells (`missing_column`, "
              "`bad_csv`), a multipart body without a 'file' part (`missing_file`), or an "
              "unknown format (`bad_format`).")


def _probe(summary: str, answer: Schema, unavailable: str | None) -> dict[str, Any]:
    """A probe outside /api/v1: its refusals at the edge are short HTML pages."""
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": json_content(answer)},
        "400": {"description": "A query parameter holds NUL.", "content": HTML_REFUSAL},
        "431": {"description": STATUS_TEXT[431], "content": HTML_REFUSAL}}
    if unavailable:
        responses["503"] = {"description": unavailable, "content": json_content(ref("Error")),
                            "headers": {"Retry-After": RETRY_AFTER["Retry-After"]
                                        | {"required": False}}}
    return {"servers": [{"url": "/"}], "get": {
        "summary": summary, "description": "Who: anyone.", "x-roles": ["anonymous", *ANY_USER],
        "security": [], "responses": responses}}


def _probes() -> dict[str, Any]:
    """/healthz and /readyz, outside /api/v1 (crowd/web/health.py)."""
    return {
        "/healthz": _probe("Liveness: 200 while the process serves; the database is not "
                           "touched", HEALTHY, None),
        "/readyz": _probe(
            "Readiness: 200 when the database answers and is migrated to head", READY,
            "The database cannot be reached (`database_unavailable`, with `Retry-After`) or "
            "its schema is not at the migrations' head (`migrations_not_at_head`, details: "
            "the current and head revisions)."),
    }


def paths() -> dict[str, Any]:
    """Every operation, by path relative to the server /api/v1."""
    return {
        "/tokens": {
            "post": op("Exchange credentials for a bearer token (it expires: expires_at)",
                       ANYONE, 201, TOKEN, body=TOKEN_BODY, errors=(401, 429), why={
                           401: "Wrong username or password, or a deactivated user "
                                "(`bad_credentials`).",
                           429: "Too many failed logins for this account or address "
                                "(`too_many_logins`); no password was checked. Retry "
                                "after `Retry-After` seconds.",
                           422: "username or password missing (`missing_field`), or text "
                                "holding NUL (`invalid_text`)."}),
            "get": op("The caller's live tokens; current marks the one in use", ANY_USER,
                      answer=TOKENS),
            "delete": op("Revoke the token used for this request", ANY_USER, 204),
        },
        **access_paths(op, {"manager": MANAGER, "any_user": ANY_USER}),
        "/users": {"post": op(
            "Create a user (managers: workers and experts only)", MANAGER, 201, ref("User"),
            body=NEW_USER, errors=(409,), why={
                403: "Not a manager or admin, or a manager creating a manager or admin.",
                409: "The username is taken (`username_taken`).",
                422: "A field is missing (`missing_field`) or wrong (`invalid_username`, "
                     "`invalid_password`, `invalid_role`, `invalid_body`, `invalid_text`)."})},
        "/me": {"get": op("The current user", ANY_USER, answer=ref("User"))},
        "/openapi.json": {"get": op(
            "This document", ANYONE, answer=OBJECT,
            why={503: STATUS_TEXT[503] + " Only when a bearer token is sent (it is looked "
                 "up)."})},
        "/projects": {
            "get": op("List projects, newest first (managers also see progress)", ANY_USER,
                      answer=obj("projects", projects=arr(
                          {"anyOf": [ref("Project"), ref("ProjectSummary")]}))),
            "post": op("Create a project", MANAGER, 201, ref("Project"),
                       body=ref("ProjectCreate"), why={422: (
                           "A field is missing (`missing_field`), unknown (`unknown_field`) "
                           "or wrong (`invalid_name`, `invalid_labels`, `invalid_setting`, "
                           "`invalid_guidelines`, `invalid_body`, `invalid_text`); also "
                           "max_redundancy below redundancy.")}),
        },
        "/projects/{project_id}": {
            "get": op("A project with its progress counts", MANAGER, answer=ref("Project"),
                      path=PID),
            "patch": op("Change settings; new guidelines bump guidelines_version", MANAGER,
                        answer=ref("Project"), body=ref("ProjectChange"), path=PID,
                        errors=(409,), why={
                            409: "labels cannot change once answers were collected "
                                 "(`labels_in_use`).",
                            422: "A field is unknown (`unknown_field`) or wrong (as for "
                                 "create), or the merged settings break a rule."}),
        },
        "/projects/{project_id}/items": {"post": op(
            "Import items: a JSON list (or {\"items\": [...]}), CSV or JSONL as the body "
            "(also application/csv, application/jsonl, application/x-jsonlines), or a "
            "multipart 'file'. ?on_error=skip imports the valid rows and reports the others; "
            "otherwise any bad row refuses all.", MANAGER, 201, ref("ImportReport"),
            path=PID, errors=(400, 413, 415, 422), query=(
                query_param("format", {"enum": list(FORMATS)},
                            "the upload's format, when the media type or file name does not "
                            "say"),
                query_param("on_error", S, "`skip`: import the valid rows; anything else: "
                            "all or nothing")),
            why={400: IMPORT_400, 415: "A body that is none of JSON, CSV, JSONL or multipart "
                 "(`unsupported_media_type`).",
                 422: "Some rows are invalid and nothing was imported (`invalid_rows`; "
                      "details: the import report)."}) | {"requestBody": {
                "required": True, "content": {
                    **json_content(ITEMS_JSON), "text/csv": {"schema": S},
                    "application/x-ndjson": {"schema": S},
                    "multipart/form-data": {"schema": ITEMS_UPLOAD}}}}},
        "/projects/{project_id}/next": {"post": op(
            "Reserve the next item, or the lease already held (204: nothing left)", WORKER,
            answer=ref("Assignment"), path=PID, empty=(204,), why={
                204: "Nothing is left for this worker.",
                403: "Not a worker, or a worker suspended in this project (`suspended`)."})},
        "/assignments/{assignment_id}/answer": {"post": op(
            "Answer an assignment; the same answer again returns the same 200", WORKER,
            answer=ANSWERED, body=ANSWER, path=("assignment_id",), errors=(409, 410), why={
                404: "No such assignment, or another worker's.",
                409: "Already answered with another label (`already_answered`).",
                410: "The lease expired (`lease_expired`).",
                422: "label missing (`missing_field`) or not one of the project's labels "
                     "(`unknown_label`), a bad duration_ms (`invalid_duration`), or "
                     "`invalid_label`, `invalid_body`, `invalid_text`."})},
        **undo_paths(op, WORKER),
        "/projects/{project_id}/me": {"get": op(
            "The worker's own state, gold record and history", WORKER,
            answer=ref("OwnStanding"), path=PID)},
        "/projects/{project_id}/workers": {"get": op(
            "The worker report: state and scores of every worker who worked in the project",
            MANAGER, path=PID, query=(formats("json", "csv", "jsonl"),), errors=(400,),
            why=BAD_FORMAT, content=download(ref("Standing"), obj(
                "workers", workers=arr(ref("Standing")))))},
        "/projects/{project_id}/workers/{worker_id}": {"get": op(
            "One worker's standing, confusion matrix and state history with evidence",
            MANAGER, answer=ref("WorkerDetail"), path=("project_id", "worker_id"),
            why={404: "No such project, or the worker has not worked in it."})},
        "/projects/{project_id}/workers/{worker_id}/state": {"post": op(
            "Override a worker's state (recorded with the reason)", MANAGER,
            answer=ref("Standing"), body=STATE_CHANGE, path=("project_id", "worker_id"),
            why={404: "No such project, or the worker has not worked in it.",
                 422: "A bad state (`invalid_state`), no reason (`missing_reason`), "
                      "`invalid_body` or `invalid_text`."})},
        "/projects/{project_id}/results": {"get": op(
            "Results, streamed: one row per non-gold item", MANAGER, path=PID,
            query=(formats("json", "jsonl", "csv"),), errors=(400,), why=BAD_FORMAT,
            content=download(ref("ResultRow")))},
        "/projects/{project_id}/labels": {"get": op(
            "Every raw label with provenance, streamed", MANAGER, path=PID,
            query=(formats("jsonl", "csv", "json"),), errors=(400,), why=BAD_FORMAT,
            content=download(ref("LabelRow")))},
        "/projects/{project_id}/aggregate": {"post": op(
            "Run Dawid-Skene now and re-decide items", MANAGER, answer=AGGREGATED, path=PID)},
        "/projects/{project_id}/quality": {"get": op(
            "The quality report: agreement, class balance, confusion against gold and "
            "expert truth, worker accuracy, gold items to re-check", MANAGER,
            answer=ref("Quality"), path=PID)},
        "/reviews": {"get": op(
            "The review queue of ?project=<id>, most uncertain first", EXPERT,
            answer=obj("items", items=arr(ref("ReviewItem"))), errors=(404, 422), query=(
                query_param("project", ID, "the project's id", required=True),
                query_param("limit", {"type": "integer", "minimum": 0, "maximum": 999_999_999,
                                 "default": 50}, "at most this many items (1 to 500)")),
            why={404: "No such project.", 422: "project missing or not a whole number "
                 "(`missing_project`), or a bad limit (`invalid_limit`)."})},
        "/reviews/{item_id}": {"post": op(
            "Resolve an item in review; final, source expert; may promote it to gold", EXPERT,
            answer=RESOLVED, body=RESOLVE, path=("item_id",), errors=(409,), why={
                404: "No such item in review (or a gold item).",
                409: "Already resolved (`already_resolved`) or not in review "
                     "(`not_in_review`).",
                422: "label missing (`missing_field`) or not a project label "
                     "(`unknown_label`), `invalid_note`, `invalid_promote`, `invalid_body`, "
                     "`invalid_text`."})},
        **_probes(),
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "crowd API", "version": "1",
                 "description": "Crowdsourcing task routing: see README.md for the rules. "
                                "Errors are {\"error\": {\"code\", \"message\", "
                                "\"details\"?}}; a client's mistake is never a 5xx. "
                                "At the edge, before any view, a request with too large "
                                "headers is 431 and one whose body (chunked or not) is over "
                                "the limit is 413."},
        "servers": [{"url": "/api/v1"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": SCHEMAS},
        "security": [{"bearer": []}],
        "paths": paths(),
    }


@bp.get("/openapi.json")
def openapi() -> Any:
    return document()
