"""The schema parts of the OpenAPI document: request bodies and answers (see openapi.py).

Constraints are read from the code that enforces them (settings ranges, the username
rule, role and state names), so the document cannot drift from the checks.
"""
from __future__ import annotations

from typing import Any

from crowd.services.importing import FORMATS

from crowd.domain.fraud.settings import FRAUD_SETTING_HELP
from crowd.domain.public_ids import PUBLIC_ID_MAX
from crowd.domain.settings import MAX_LABEL_LENGTH, MAX_LABELS, SETTINGS, SWITCHES
from crowd.domain.text import (
    MAX_EXTERNAL_ID,
    MAX_GUIDELINES,
    MAX_NOTE,
    MAX_PASSWORD,
    MAX_PROJECT_NAME,
    MAX_REASON,
)
from crowd.persistence import ROLES
from crowd.persistence.work import WORKER_STATES
from crowd.services.accounts import MIN_PASSWORD, USERNAME_RE
from crowd.web import MAX_ID

Schema = dict[str, Any]

S: Schema = {"type": "string"}
I: Schema = {"type": "integer"}
N: Schema = {"type": "number"}
B: Schema = {"type": "boolean"}
OBJECT: Schema = {"type": "object"}
ANY: Schema = {}
ID: Schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
PUBLIC_ID: Schema = {"type": "integer", "minimum": 1, "maximum": PUBLIC_ID_MAX,
                     "description": "an item's opaque id"}
INT32: Schema = {"type": "integer", "minimum": -(2**31 - 1), "maximum": 2**31 - 1}
STATES = WORKER_STATES
ITEM_STATUSES = ("open", "complete", "in_review", "resolved")


def obj(*required: str, closed: bool = False, **props: Schema) -> Schema:
    """An object schema; ``closed`` refuses properties not listed (as the server does)."""
    out: Schema = {"type": "object", "required": list(required), "properties": props}
    if closed:
        out["additionalProperties"] = False
    return out


def arr(items: Schema, **constraints: Any) -> Schema:
    return {"type": "array", "items": items, **constraints}


def null(schema: Schema) -> Schema:
    """``schema`` or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def text(max_length: int) -> Schema:
    """A string with something other than white space, of at most ``max_length`` characters."""
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S"}


def _setting(kind: type, default: Any, low: float, high: float) -> Schema:
    bounds = {"minimum": int(low), "maximum": int(high)} if kind is int else {
        "minimum": low, "maximum": high}
    return {"type": "integer" if kind is int else "number", "default": default, **bounds}


SETTING_SCHEMAS = {s.name: {**_setting(s.kind, s.default, s.low, s.high),
                            **({"description": FRAUD_SETTING_HELP[s.name]}
                               if s.name in FRAUD_SETTING_HELP else {})}
                   for s in SETTINGS} | {
                       s.name: {"type": "boolean", "default": s.default, "description": s.help}
                       for s in SWITCHES}
LABELS = arr(text(MAX_LABEL_LENGTH), minItems=2, maxItems=MAX_LABELS, uniqueItems=True)
PROJECT_FIELDS: dict[str, Schema] = {
    "name": text(MAX_PROJECT_NAME), "labels": LABELS,
    "guidelines": {"type": "string", "maxLength": MAX_GUIDELINES},
    "enrollment": {"enum": ["open", "invite"]}, **SETTING_SCHEMAS}
PROGRESS = obj("items", "gold", "open", "complete", "in_review", "resolved", "labels_collected",
               **{k: I for k in ("items", "gold", "open", "complete", "in_review", "resolved",
                                 "labels_collected")})
TIME = null({"type": "string", "format": "date-time"})
ROLE: Schema = {"enum": list(ROLES)}
USER = obj("id", "username", "role", id=I, username=S, role=ROLE)
ITEM_ROW = obj(
    "external_id", closed=True,
    external_id={"anyOf": [text(MAX_EXTERNAL_ID), I]}, data=OBJECT,
    gold_label=null({"type": "string", "description": "one of the project's labels"}),
    priority={"anyOf": [INT32, {"type": "string", "pattern": r"^\s*[+-]?[0-9]+\s*$"}]},
)
STANDING = obj(
    "worker", "username", "state", "gold_seen", "gold_correct", "labels",
    worker=I, username=S, state={"enum": list(STATES)}, state_reason=null(S),
    state_reason_code=null(S), state_changed_at=TIME, gold_seen=I, gold_correct=I,
    gold_accuracy=null(N), gold_accuracy_posterior=N, estimated_accuracy=null(N), labels=I,
)
EVENT = obj("at", "from", "to", "reason_code", "reason", "by", **{
    "at": TIME, "from": null(S), "to": S, "reason_code": null(S), "reason": null(S), "by": S})
WORKER_DETAIL = {"allOf": [STANDING, obj("confusion", "history", confusion=ANY, history=arr(
    {"allOf": [EVENT, obj("evidence", evidence=ANY)]}))]}
OWN_STANDING = obj(
    "project_id", "state", "gold_seen", "gold_correct", "gold_accuracy", "labels", "history",
    project_id=I, state={"enum": ["new", *STATES]}, state_reason=null(S),
    state_reason_code=null(S), gold_seen=I, gold_correct=I, gold_accuracy=null(N), labels=I,
    history=arr(EVENT),
)
RESULT_ROW = obj("external_id", "status", "label", "confidence", "source", "n_labels",
                 "posterior", external_id=S, status={"enum": list(ITEM_STATUSES)},
                 label=null(S), confidence=null(N), source=null(S), n_labels=I,
                 posterior=null(OBJECT))
LABEL_ROW = obj("external_id", "worker", "worker_id", "label", "created_at", "is_gold",
                external_id=S, worker=S, worker_id=I, label=S, created_at=TIME,
                duration_ms=null(I), guidelines_version=null(I), is_gold=B, mode=S, counted=B)
REVIEW_ITEM = obj(
    "item", "reason", "posterior", "confidence", "labels",
    item=obj("id", "external_id", "data", id={"type": ["integer", "string"]}, external_id=S,
             data=OBJECT),
    reason=null({"enum": ["disagreement", "random_qa"]}), posterior=null(OBJECT),
    confidence=null(N),
    labels=arr(obj("worker", "username", "label", "counted", "reliability", "created_at",
                   worker=I, username=S, label=S, counted=B, reliability=null(N),
                   created_at=S)),
)
QUALITY = obj("project_id", "labels", "work_labels", "agreement", "class_balance", "confusion",
              "worker_accuracy", "gold_to_recheck", project_id=I, labels=I, work_labels=I,
              agreement=obj("fleiss_kappa", "krippendorff_alpha", "per_class",
                            fleiss_kappa=null(N), krippendorff_alpha=null(N),
                            per_class=OBJECT),
              class_balance=OBJECT, confusion=OBJECT, worker_accuracy=OBJECT,
              gold_to_recheck=arr(OBJECT))

SCHEMAS: dict[str, Schema] = {
    "Error": obj("error", error=obj("code", "message", code=S, message=S, details=ANY)),
    "User": USER,
    "Project": obj(
        "id", "name", "labels", "guidelines", "guidelines_version", "created_at",
        *SETTING_SCHEMAS, "progress",
        id=I, name=S, labels=arr(S), guidelines=S, guidelines_version=I, created_at=TIME,
        enrollment={"enum": ["open", "invite"]},
        **{name: {"type": s["type"]} for name, s in SETTING_SCHEMAS.items()}, progress=PROGRESS),
    "ProjectSummary": obj("id", "name", "labels", "guidelines", "guidelines_version",
                          id=I, name=S, labels=arr(S), guidelines=S, guidelines_version=I),
    "ProjectCreate": obj("name", "labels", closed=True, **PROJECT_FIELDS),
    "ProjectChange": obj(closed=True, **PROJECT_FIELDS),
    "ItemRow": ITEM_ROW,
    "ImportReport": obj("created", "skipped_duplicates", "errors", created=I,
                        skipped_duplicates=I, errors=arr(obj("row", "message", row=I,
                                                             message=S)),
                        errors_truncated=I),
    "Assignment": obj(
        "assignment_id", "item", "labels", "expires_at", "mode",
        assignment_id=I, item=obj("id", "data", id={"type": ["integer", "string"]}, data=OBJECT),
        labels=arr(S), expires_at={"type": "string", "format": "date-time"},
        mode={"enum": ["qualification", "training", "work"]}),
    "Standing": STANDING,
    "WorkerDetail": WORKER_DETAIL,
    "OwnStanding": OWN_STANDING,
    "ResultRow": RESULT_ROW,
    "LabelRow": LABEL_ROW,
    "ReviewItem": REVIEW_ITEM,
    "Quality": QUALITY,
}

TOKEN_BODY = obj("username", "password", username=S, password=S)
TOKEN = obj("token", "user", "id", "expires_at", token=S, user=ref("User"), id=I,
            expires_at={"type": "string", "format": "date-time"})
NEW_USER = obj("username", "password", "role",
               username={"type": "string", "pattern": USERNAME_RE.pattern},
               password={"type": "string", "minLength": MIN_PASSWORD,
                         "maxLength": MAX_PASSWORD}, role=ROLE)
ITEMS_JSON = {"anyOf": [arr(ref("ItemRow")), obj("items", items=arr(ref("ItemRow")))]}
ITEMS_UPLOAD = obj("file", file={"type": "string", "format": "binary"},
                   format={"enum": list(FORMATS)})
ANSWER = obj("label", label={"type": "string", "description": "one of the project's labels"},
             duration_ms=null({"type": "integer", "minimum": 0, "maximum": 2**31 - 1}))
ANSWERED = obj("accepted", accepted={"const": True},
               feedback=obj("correct", "expected", correct=B, expected=S))
AGGREGATED = obj("items", "iterations", "converged", "workers", "labels", "duration_ms",
                 "changes", items=I, iterations=I, converged=B, workers=I, labels=I,
                 duration_ms=I, changes=OBJECT)
RESOLVE = obj("label", label={"type": "string", "description": "one of the project's labels"},
              note=null({"type": "string", "maxLength": MAX_NOTE}), promote_to_gold=B)
RESOLVED = obj("item_id", "external_id", "status", "label", "source", "promoted_to_gold",
               item_id=I, external_id=S, status={"const": "resolved"}, label=S,
               source={"const": "expert"}, promoted_to_gold=B)
STATE_CHANGE = obj("state", "reason", state={"enum": ["active", "retraining", "suspended"]},
                   reason={"type": "string", "pattern": r"\S", "maxLength": MAX_REASON})
HEALTHY = obj("status", status={"const": "ok"})
READY = obj("status", "database", "revision", status={"const": "ok"}, database=S,
            revision=arr(S))


# --- responses and parameters --------------------------------------------------------

HTML_REFUSAL = {"text/html": {"schema": S}}

STATUS_TEXT = {
    400: "The body is not JSON or not valid JSON (`invalid_json`).",
    401: "No valid bearer token: missing, wrong, revoked, or its user deactivated "
         "(`unauthorized`).",
    403: "The caller's role may not do this (`forbidden`).",
    404: "No such id, an id beyond the database's range, or a project the caller may not "
         "reach (not a member: it answers as one that does not exist) (`not_found`).",
    409: "The request clashes with what is stored.",
    410: "Gone.",
    413: "The body is larger than the server's limit (MAX_CONTENT_LENGTH) (`too_large`).",
    415: "A body of a kind this endpoint does not read (`unsupported_media_type`).",
    422: "The body breaks a rule, naming the field; or text in the body or a query "
         "parameter holds NUL or a lone surrogate (`invalid_text`).",
    429: "Too many attempts (`too_many_requests`); retry after `Retry-After` seconds.",
    431: "A request header, or all of them, too large (`header_too_large`).",
    503: "The database cannot be reached just now (`database_unavailable`); retry after "
         "`Retry-After` seconds.",
}
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying",
                               "required": True, "schema": {"type": "integer", "minimum": 0}}}
DOWNLOAD = {"Content-Disposition": {"description": "attachment; filename=...",
                                    "schema": S}}


def json_content(schema: Schema) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def error(status: int, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"description": text, "content": json_content(ref("Error"))}
    if status in (429, 503):
        out["headers"] = RETRY_AFTER
    return out


def query_param(name: str, schema: Schema, text: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": text}


def formats(*allowed: str) -> dict[str, Any]:
    return query_param("format", {"enum": list(allowed), "default": allowed[0]},
                  "the download's format (an unknown one is 400 `bad_format`)")


def download(row: Schema, json_schema: Schema | None = None) -> dict[str, Any]:
    return {"headers": DOWNLOAD, "content": {
        "application/json": {"schema": json_schema or arr(row)},
        "application/x-ndjson": {"schema": S}, "text/csv": {"schema": S}}}


