"""Bad input: always a 4xx JSON error naming the problem, never a 500, never half-written."""
from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import config
from crowd import create_app
from tests.conftest import Api, Clock
from tests.support import api_routes
from tests.web.conftest import Scene, Still, snapshot

PASSWORD = "password-123"
JSON = "application/json"
BIG_ID = 999999



@pytest.fixture
def empty_project(manager: Api, make_project: Callable[..., dict[str, Any]]) -> int:
    return make_project(n_items=0)["id"]


def send(client: FlaskClient, method: str, path: str, token: str | None = None,
         **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


def progress(client: FlaskClient, scene_or_token: Scene | str, project: int) -> dict[str, int]:
    token = scene_or_token.manager if isinstance(scene_or_token, Scene) else scene_or_token
    response = send(client, "GET", f"/projects/{project}", token)
    assert response.status_code == 200
    return response.get_json()["progress"]


def assert_error(response: Any, status: int | set[int], code: str | None = None,
                 mentions: str | None = None) -> dict[str, Any]:
    """A JSON error body ``{"error": {"code", "message"}}`` with the expected status."""
    statuses = {status} if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == JSON, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    if mentions is not None:
        assert mentions.lower() in error["message"].lower(), error
    return error


# --- every endpoint that takes a body ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where a JSON body goes, as whom, and a body that would be accepted there."""

    method: str
    path: Callable[[Scene], str]
    role: str
    valid: Callable[[Scene], Any]

    def token(self, scene: Scene) -> str:
        return getattr(scene, self.role)


TARGETS: dict[str, Target] = {
    "token": Target("POST", lambda s: "/tokens", "manager",
                    lambda s: {"username": "scene-worker", "password": PASSWORD}),
    "user": Target("POST", lambda s: "/users", "manager",
                   lambda s: {"username": "fresh", "password": PASSWORD, "role": "worker"}),
    "create_project": Target("POST", lambda s: "/projects", "manager",
                             lambda s: {"name": "p", "labels": ["a", "b", "c"]}),
    "patch_project": Target("PATCH", lambda s: f"/projects/{s.project}", "manager",
                            lambda s: {"guidelines": "new"}),
    "items": Target("POST", lambda s: f"/projects/{s.project}/items", "manager",
                    lambda s: [{"external_id": "fresh", "data": {"text": "x"}}]),
    "answer": Target("POST", lambda s: f"/assignments/{s.assignment}/answer", "worker",
                     lambda s: {"label": "a"}),
    "state": Target("POST", lambda s: f"/projects/{s.project}/workers/{s.worker_id}/state",
                    "manager", lambda s: {"state": "suspended", "reason": "test"}),
    "review": Target("POST", lambda s: f"/reviews/{s.reviewed_item}", "expert",
                     lambda s: {"label": "b"}),
    "members": Target("POST", lambda s: f"/projects/{s.project}/members", "manager",
                      lambda s: {"user_id": s.worker_id}),
    "change_user": Target("PATCH", lambda s: f"/users/{s.worker_id}", "admin",
                          lambda s: {"active": True}),
}
BODY_ROUTES = {
    ("POST", "/api/v1/tokens"): "token",
    ("POST", "/api/v1/users"): "user",
    ("POST", "/api/v1/projects"): "create_project",
    ("PATCH", "/api/v1/projects/<>"): "patch_project",
    ("POST", "/api/v1/projects/<>/items"): "items",
    ("POST", "/api/v1/assignments/<>/answer"): "answer",
    ("POST", "/api/v1/projects/<>/workers/<>/state"): "state",
    ("POST", "/api/v1/reviews/<>"): "review",
    ("POST", "/api/v1/projects/<>/members"): "members",
    ("PATCH", "/api/v1/users/<>"): "change_user",
}
BODYLESS_ROUTES = {
    ("DELETE", "/api/v1/tokens"): lambda s: "/tokens",
    ("DELETE", "/api/v1/tokens/<>"): lambda s: f"/tokens/{s.spare_token}",
    ("POST", "/api/v1/projects/<>/next"): lambda s: f"/projects/{s.project}/next",
    ("POST", "/api/v1/projects/<>/aggregate"): lambda s: f"/projects/{s.project}/aggregate",
    ("DELETE", "/api/v1/projects/<>/members/<>"):
        lambda s: f"/projects/{s.project}/members/{s.worker_id}",
    ("POST", "/api/v1/users/<>/unlock"): lambda s: f"/users/{s.worker_id}/unlock",
}
BODYLESS_ROLES = {"/api/v1/projects/<>/next": "worker", "/api/v1/users/<>/unlock": "admin",
                  "/api/v1/tokens/<>": "worker"}
# --- undo (crowd/services/undo.py): the scene's project does not allow it, so a garbage
# body must get that refusal (409 undo_refused), never a body error ---
BODYLESS_ROUTES[("POST", "/api/v1/assignments/<>/undo")] = (
    lambda s: f"/assignments/{s.assignment}/undo")
BODYLESS_ROLES["/api/v1/assignments/<>/undo"] = "worker"
BODYLESS_REFUSED = {"/api/v1/assignments/<>/undo": (409, "undo_refused")}
# --- end of undo's block ---


def test_every_writing_endpoint_is_covered_for_bad_bodies(app: Flask) -> None:
    writing = {(m, r) for m, r in api_routes(app) if m in ("POST", "PUT", "PATCH", "DELETE")}
    unlisted = sorted(writing - set(BODY_ROUTES) - set(BODYLESS_ROUTES))
    assert not unlisted, f"add these to BODY_ROUTES or BODYLESS_ROUTES: {unlisted}"


# (variant, request keyword arguments, statuses allowed)
MALFORMED: list[tuple[str, Callable[[Any], dict[str, Any]], set[int]]] = [
    ("truncated_json", lambda valid: {"data": json.dumps(valid)[:-3], "content_type": JSON}, {400}),
    ("empty_body", lambda valid: {"data": b"", "content_type": JSON}, {400}),
    ("not_utf8", lambda valid: {"data": b'{"label": "caf\xe9"}', "content_type": JSON}, {400}),
    ("deeply_nested", lambda valid: {"data": "[" * 100_000, "content_type": JSON}, {400}),
    ("text_plain", lambda valid: {"data": json.dumps(valid), "content_type": "text/plain"},
     {400, 415}),
    ("no_content_type", lambda valid: {"data": json.dumps(valid)}, {400, 415}),
    ("form_encoded", lambda valid: {"data": {"label": "a", "name": "p"}}, {400, 415}),
    ("list_body", lambda valid: {"json": [valid]}, {400, 422}),
    ("string_body", lambda valid: {"json": "label"}, {400, 422}),
    ("number_body", lambda valid: {"json": 42}, {400, 422}),
    ("null_body", lambda valid: {"data": "null", "content_type": JSON}, {400, 422}),
]


@pytest.mark.parametrize(("variant", "build", "statuses"), MALFORMED, ids=[m[0] for m in MALFORMED])
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_malformed_body_is_a_4xx_json_error_and_writes_nothing(
    target: str, variant: str, build: Callable[[Any], dict[str, Any]], statuses: set[int],
    still: Still,
) -> None:
    scene, app, client = still
    spec = TARGETS[target]
    kwargs = build(spec.valid(scene))
    if target == "items" and variant == "list_body":
        kwargs = {"json": [[spec.valid(scene)[0]]]}  # a list is right here; its rows are not
    before = snapshot(app)
    response = send(client, spec.method, spec.path(scene), spec.token(scene), **kwargs)
    error = assert_error(response, statuses)
    if variant == "truncated_json":
        assert "json" in error["message"].lower()
    assert snapshot(app) == before


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_valid_body_is_accepted_where_malformed_ones_are_refused(
    target: str, scene: Scene, client: FlaskClient,
) -> None:
    spec = TARGETS[target]
    response = send(client, spec.method, spec.path(scene), spec.token(scene),
                    json=spec.valid(scene))
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)


@pytest.mark.parametrize("route", sorted(BODYLESS_ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_bodyless_endpoint_ignores_a_garbage_body(
    route: tuple[str, str], scene: Scene, client: FlaskClient,
) -> None:
    method, rule = route
    token = getattr(scene, BODYLESS_ROLES.get(rule, "manager"))
    response = send(client, method, BODYLESS_ROUTES[route](scene), token,
                    data='{"truncated": ', content_type=JSON)
    if rule in BODYLESS_REFUSED:
        assert_error(response, *BODYLESS_REFUSED[rule])
        return
    assert 200 <= response.status_code < 300, response.get_data(as_text=True)


# --- wrong types and missing fields --------------------------------------------------------

PROJECT = {"name": "p", "labels": ["a", "b", "c"]}

WRONG_TYPES: list[tuple[str, dict[str, Any], str, str]] = [
    # (target, body, code, word the message must name)
    ("create_project", {**PROJECT, "labels": "a,b"}, "invalid_labels", "labels"),
    ("create_project", {**PROJECT, "labels": {"a": 1, "b": 2}}, "invalid_labels", "labels"),
    ("create_project", {**PROJECT, "labels": ["a"]}, "invalid_labels", "labels"),
    ("create_project", {**PROJECT, "labels": ["a", "a"]}, "invalid_labels", "distinct"),
    ("create_project", {**PROJECT, "labels": ["a", 3]}, "invalid_labels", "label"),
    ("create_project", {**PROJECT, "labels": ["a", " "]}, "invalid_labels", "label"),
    ("create_project", {**PROJECT, "redundancy": "three"}, "invalid_setting", "redundancy"),
    ("create_project", {**PROJECT, "redundancy": True}, "invalid_setting", "redundancy"),
    ("create_project", {**PROJECT, "redundancy": 2.5}, "invalid_setting", "redundancy"),
    ("create_project", {**PROJECT, "redundancy": 0}, "invalid_setting", "redundancy"),
    ("create_project", {**PROJECT, "gold_rate": 1.5}, "invalid_setting", "gold_rate"),
    ("create_project", {**PROJECT, "gold_rate": -0.1}, "invalid_setting", "gold_rate"),
    ("create_project", {**PROJECT, "gold_rate": "0.1"}, "invalid_setting", "gold_rate"),
    ("create_project", {**PROJECT, "confidence_threshold": None}, "invalid_setting",
     "confidence_threshold"),
    ("create_project", {**PROJECT, "max_redundancy": 2}, "invalid_setting", "max_redundancy"),
    ("create_project", {**PROJECT, "redundancy": 4, "max_redundancy": 3}, "invalid_setting",
     "max_redundancy"),
    ("create_project", {**PROJECT, "lease_seconds": 0}, "invalid_setting", "lease_seconds"),
    ("create_project", {**PROJECT, "qualification_size": -1}, "invalid_setting",
     "qualification_size"),
    ("create_project", {**PROJECT, "review_rate": False}, "invalid_setting", "review_rate"),
    ("create_project", {**PROJECT, "name": 5}, "invalid_name", "name"),
    ("create_project", {**PROJECT, "name": "   "}, "invalid_name", "name"),
    ("create_project", {**PROJECT, "name": "n" * 201}, "invalid_name", "name"),
    ("create_project", {**PROJECT, "guidelines": ["read"]}, "invalid_guidelines", "guidelines"),
    ("create_project", {**PROJECT, "colour": "red"}, "unknown_field", "colour"),
    ("patch_project", {"redundancy": "three"}, "invalid_setting", "redundancy"),
    ("patch_project", {"gold_rate": 1.5}, "invalid_setting", "gold_rate"),
    ("patch_project", {"redundancy": 2}, "invalid_setting", "max_redundancy"),
    ("patch_project", {"max_redundancy": 0}, "invalid_setting", "max_redundancy"),
    ("patch_project", {"drift_window": True}, "invalid_setting", "drift_window"),
    ("patch_project", {"labels": "a,b"}, "invalid_labels", "labels"),
    ("patch_project", {"name": None}, "invalid_name", "name"),
    ("patch_project", {"guidelines": 7}, "invalid_guidelines", "guidelines"),
    ("patch_project", {"owner": "me"}, "unknown_field", "owner"),
    ("answer", {"label": 5}, "invalid_label", "label"),
    ("answer", {"label": None}, "invalid_label", "label"),
    ("answer", {"label": ["a"]}, "invalid_label", "label"),
    ("answer", {"label": "a", "duration_ms": -1}, "invalid_duration", "duration_ms"),
    ("answer", {"label": "a", "duration_ms": True}, "invalid_duration", "duration_ms"),
    ("answer", {"label": "a", "duration_ms": "100"}, "invalid_duration", "duration_ms"),
    ("answer", {"label": "a", "duration_ms": 1.5}, "invalid_duration", "duration_ms"),
    ("answer", {"label": "a", "duration_ms": 2**31}, "invalid_duration", "duration_ms"),
    ("user", {"username": "x1", "password": PASSWORD, "role": "overlord"}, "invalid_role", "role"),
    ("user", {"username": "x1", "password": PASSWORD, "role": None}, "invalid_role", "role"),
    ("user", {"username": "has space", "password": PASSWORD, "role": "worker"},
     "invalid_username", "username"),
    ("user", {"username": 5, "password": PASSWORD, "role": "worker"}, "invalid_username",
     "username"),
    ("user", {"username": "", "password": PASSWORD, "role": "worker"}, "invalid_username",
     "username"),
    ("user", {"username": "x1", "password": "short", "role": "worker"}, "invalid_password",
     "password"),
    ("user", {"username": "x1", "password": 12345678, "role": "worker"}, "invalid_password",
     "password"),
    ("state", {"state": "retired", "reason": "r"}, "invalid_state", "state"),
    ("state", {"state": None, "reason": "r"}, "invalid_state", "state"),
    ("state", {"state": "active", "reason": "  "}, "missing_reason", "reason"),
    ("state", {"state": "active", "reason": 5}, "missing_reason", "reason"),
    ("review", {"label": 5}, "missing_field", "label"),
    ("review", {"label": "a", "note": 5}, "invalid_note", "note"),
    ("review", {"label": "a", "promote_to_gold": "yes"}, "invalid_promote", "promote_to_gold"),
]

MISSING_FIELDS: list[tuple[str, dict[str, Any], str, str]] = [
    ("create_project", {"labels": ["a", "b"]}, "missing_field", "name"),
    ("create_project", {"name": "p"}, "missing_field", "labels"),
    ("create_project", {}, "missing_field", "required"),
    ("token", {"username": "scene-worker"}, "missing_field", "password"),
    ("token", {"password": PASSWORD}, "missing_field", "username"),
    ("token", {}, "missing_field", "required"),
    ("answer", {}, "missing_field", "label"),
    ("answer", {"duration_ms": 1200}, "missing_field", "label"),
    ("user", {"username": "x1", "password": PASSWORD}, "missing_field", "role"),
    ("user", {"username": "x1", "role": "worker"}, "missing_field", "password"),
    ("user", {"password": PASSWORD, "role": "worker"}, "missing_field", "username"),
    ("state", {"reason": "r"}, "invalid_state", "state"),
    ("state", {"state": "active"}, "missing_reason", "reason"),
    ("review", {}, "missing_field", "label"),
    ("review", {"note": "looks like b"}, "missing_field", "label"),
]


def _refused_without_writes(target: str, body: dict[str, Any], code: str, mentions: str,
                            scene: Scene, app: Flask, client: FlaskClient) -> None:
    spec = TARGETS[target]
    before = snapshot(app)
    response = send(client, spec.method, spec.path(scene), spec.token(scene), json=body)
    assert_error(response, 422, code, mentions)
    assert snapshot(app) == before


@pytest.mark.parametrize(("target", "body", "code", "mentions"), WRONG_TYPES,
                         ids=[f"{t}-{json.dumps(b)[:40]}" for t, b, _, _ in WRONG_TYPES])
def test_wrong_type_or_value_is_422_naming_the_field(
    target: str, body: dict[str, Any], code: str, mentions: str,
    still: Still,
) -> None:
    scene, app, client = still
    _refused_without_writes(target, body, code, mentions, scene, app, client)


@pytest.mark.parametrize(("target", "body", "code", "mentions"), MISSING_FIELDS,
                         ids=[f"{t}-{'-'.join(b) or 'empty'}" for t, b, _, _ in MISSING_FIELDS])
def test_missing_field_is_422_naming_the_field(
    target: str, body: dict[str, Any], code: str, mentions: str,
    still: Still,
) -> None:
    scene, app, client = still
    _refused_without_writes(target, body, code, mentions, scene, app, client)


# --- unknown labels ------------------------------------------------------------------------


def test_answer_with_a_label_outside_the_project_is_422_and_keeps_the_lease(
    scene: Scene, app: Flask, client: FlaskClient,
) -> None:
    before = snapshot(app)
    response = send(client, "POST", f"/assignments/{scene.assignment}/answer", scene.worker,
                    json={"label": "zebra"})
    assert_error(response, 422, "unknown_label", "zebra")
    assert snapshot(app) == before
    again = send(client, "POST", f"/projects/{scene.project}/next", scene.worker)
    assert again.get_json()["assignment_id"] == scene.assignment
    fixed = send(client, "POST", f"/assignments/{scene.assignment}/answer", scene.worker,
                 json={"label": "b"})
    assert fixed.status_code == 200, fixed.get_json()


def test_review_with_a_label_outside_the_project_is_422(still: Still) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = send(client, "POST", f"/reviews/{scene.reviewed_item}", scene.expert,
                    json={"label": "zebra"})
    assert_error(response, 422, "unknown_label", "zebra")
    assert snapshot(app) == before


# --- uploads: the four ways in -------------------------------------------------------------


def encode(rows: list[dict[str, Any]], fmt: str) -> bytes:
    """Item rows as a json, jsonl or csv file (csv: the data's ``text`` is a column)."""
    if fmt == "json":
        return json.dumps(rows).encode()
    if fmt == "jsonl":
        return "".join(json.dumps(row) + "\n" for row in rows).encode()
    buffer = io.StringIO()
    buffer.write("external_id,text,gold_label\r\n")
    for row in rows:
        text = row.get("data", {}).get("text", "")
        quoted = '"' + text.replace('"', '""') + '"'
        buffer.write(f"{row['external_id']},{quoted},{row.get('gold_label') or ''}\r\n")
    return buffer.getvalue().encode()


MEDIA = {"json": JSON, "jsonl": "application/x-ndjson", "csv": "text/csv"}
TRANSPORTS = ["json_body", "jsonl_body", "csv_body", "json_file", "jsonl_file", "csv_file"]


def upload(client: FlaskClient, token: str, project: int, raw: bytes, transport: str,
           query: str = "") -> Any:
    """POST raw bytes as a body of the format's media type, or as a multipart ``file``."""
    fmt, _, how = transport.partition("_")
    path = f"/projects/{project}/items{query}"
    if how == "body":
        return send(client, "POST", path, token, data=raw, content_type=MEDIA[fmt])
    return send(client, "POST", path, token, content_type="multipart/form-data",
                data={"file": (io.BytesIO(raw), f"items.{fmt}")})


def upload_rows(client: FlaskClient, token: str, project: int, rows: list[dict[str, Any]],
                transport: str, query: str = "") -> Any:
    return upload(client, token, project, encode(rows, transport.partition("_")[0]),
                  transport, query)


GOOD_ROWS = [
    {"external_id": "w0", "data": {"text": 'hello, "world"'}},
    {"external_id": "w1", "data": {"text": "second"}},
    {"external_id": "g0", "data": {"text": "gold one"}, "gold_label": "b"},
]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_upload_imports_items_and_their_data(
    transport: str, empty_project: int, manager: Api, client: FlaskClient,
    make_user: Callable[..., tuple[int, str]],
) -> None:
    response = upload_rows(client, str(manager.token), empty_project, GOOD_ROWS, transport)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"created": 3, "skipped_duplicates": 0, "errors": []}
    counts = progress(client, str(manager.token), empty_project)
    assert (counts["items"], counts["gold"], counts["open"]) == (2, 1, 2)
    worker = make_user("worker")[1]
    offer = send(client, "POST", f"/projects/{empty_project}/next", worker).get_json()
    assert offer["item"]["data"] == {"text": 'hello, "world"'}


def test_json_object_with_an_items_list_is_accepted(empty_project: int, manager: Api) -> None:
    response = manager.post(f"/projects/{empty_project}/items", {"items": GOOD_ROWS})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 3


def test_csv_with_a_utf8_byte_order_mark_is_read(empty_project: int, manager: Api,
                                                client: FlaskClient) -> None:
    raw = "\ufeff".encode() + encode(GOOD_ROWS, "csv")
    response = upload(client, str(manager.token), empty_project, raw, "csv_body")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 3


# --- uploads that cannot be read: 400, nothing written -------------------------------------

UNREADABLE: list[tuple[str, bytes, str, str, str]] = [
    # (id, raw bytes, format, code, word the message must name)
    ("csv_without_external_id", b"id,text\nw0,hello\n", "csv", "missing_column", "external_id"),
    ("csv_empty", b"", "csv", "missing_column", "external_id"),
    ("csv_latin1", "external_id,text\nw0,caf\u00e9\n".encode("latin-1"), "csv", "bad_encoding",
     "utf-8"),
    ("jsonl_latin1", '{"external_id": "w0", "data": {"t": "caf\u00e9"}}\n'.encode("latin-1"),
     "jsonl", "bad_encoding", "utf-8"),
    ("json_latin1", '[{"external_id": "w0", "data": {"t": "caf\u00e9"}}]'.encode("latin-1"),
     "json", "bad_encoding", "utf-8"),
    ("csv_utf16", "external_id,text\nw0,x\n".encode("utf-16"), "csv", "bad_encoding", "utf-8"),
    ("csv_repeated_column", b"external_id,text,text\nw0,a,b\n", "csv", "bad_csv", "column"),
    ("csv_more_cells_than_header", b"external_id,text\nw0,a,b\n", "csv", "bad_csv", "line 2"),
    ("jsonl_bad_line", b'{"external_id": "w0"}\n{"external_id": \n{"external_id": "w2"}\n',
     "jsonl", "invalid_json", "line 2"),
    ("json_truncated", b'[{"external_id": "w0"}', "json", "invalid_json", "json"),
    ("json_not_a_list", b'{"external_id": "w0"}', "json", "invalid_body", "list"),
    ("json_string", b'"w0"', "json", "invalid_body", "list"),
]


@pytest.mark.parametrize("how", ["body", "file"])
@pytest.mark.parametrize(("raw", "fmt", "code", "mentions"), [u[1:] for u in UNREADABLE],
                         ids=[u[0] for u in UNREADABLE])
def test_unreadable_upload_is_400_naming_the_problem(
    raw: bytes, fmt: str, code: str, mentions: str, how: str,
    still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = upload(client, scene.manager, scene.project, raw, f"{fmt}_{how}")
    assert_error(response, 400, code, mentions)
    assert snapshot(app) == before


def multipart(name: str, filename: str) -> Callable[[], dict[str, Any]]:
    return lambda: {"data": {name: (io.BytesIO(b"external_id\nw0\n"), filename)},
                    "content_type": "multipart/form-data"}


@pytest.mark.parametrize(("build", "status", "code"), [
    (lambda: {"data": b"external_id\nw0\n", "content_type": "text/plain"}, 415, None),
    (lambda: {"data": b"<items/>", "content_type": "application/xml"}, 415, None),
    (lambda: {"data": b"external_id\nw0\n"}, 415, None),
    (multipart("other", "items.csv"), 400, "missing_file"),
    (multipart("file", "items.xlsx"), 400, "bad_format"),
    (multipart("file", "items"), 400, "bad_format"),
], ids=["text_plain", "xml", "no_content_type", "multipart_without_file", "xlsx_file",
        "file_without_extension"])
def test_upload_of_an_unknown_kind_is_refused(
    build: Callable[[], dict[str, Any]], status: int, code: str | None,
    still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = send(client, "POST", f"/projects/{scene.project}/items", scene.manager, **build())
    assert_error(response, status, code)
    assert snapshot(app) == before


def test_unknown_format_parameter_is_400(still: Still) -> None:
    scene, _, client = still
    response = send(client, "POST", f"/projects/{scene.project}/items?format=xml",
                    scene.manager, json=GOOD_ROWS)
    assert_error(response, 400, "bad_format", "json")


# --- rows that are read but wrong: 422, all or nothing -------------------------------------

BAD_ROWS: list[tuple[str, list[dict[str, Any]], int, str]] = [
    # (id, rows, the bad row's number, word the row's error must name)
    ("unknown_gold_label", [GOOD_ROWS[0], {"external_id": "g9", "data": {"text": "x"},
                                           "gold_label": "zebra"}], 2, "gold_label"),
    ("duplicate_external_id", [GOOD_ROWS[0], GOOD_ROWS[1], dict(GOOD_ROWS[0])], 3, "repeats"),
    ("empty_external_id", [GOOD_ROWS[0], {"external_id": "", "data": {"text": "x"}}], 2,
     "external_id"),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(("rows", "row", "mentions"), [b[1:] for b in BAD_ROWS],
                         ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_422_and_imports_nothing(
    rows: list[dict[str, Any]], row: int, mentions: str, transport: str,
    still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = upload_rows(client, scene.manager, scene.project, rows, transport)
    error = assert_error(response, 422, "invalid_rows", "nothing was imported")
    assert error["details"]["created"] == 0
    [reported] = error["details"]["errors"]
    assert reported["row"] == row
    assert mentions in reported["message"]
    assert snapshot(app) == before


@pytest.mark.parametrize("rows", [
    [{"external_id": 7, "data": {}}, {"external_id": "7", "data": {}}],
    [{"external_id": "x", "data": []}],
    [{"external_id": "x", "data": "text"}],
    [{"external_id": "x", "priority": "high"}],
    [{"external_id": "x", "priority": True}],
    [{"external_id": "x", "gold_label": 1}],
    [{"external_id": "x", "colour": "red"}],
    [{"external_id": "x" * 256}],
    [{"external_id": None}],
    [{"data": {"text": "no id"}}],
    ["w0"],
    [None],
], ids=["int_and_str_ids_collide", "data_list", "data_string", "priority_word", "priority_bool",
        "gold_label_int", "unknown_field", "external_id_too_long", "external_id_null",
        "external_id_missing", "row_is_a_string", "row_is_null"])
def test_json_rows_of_the_wrong_shape_are_422_and_import_nothing(
    rows: list[Any], still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = send(client, "POST", f"/projects/{scene.project}/items", scene.manager, json=rows)
    error = assert_error(response, 422, "invalid_rows")
    assert error["details"]["errors"][0]["row"] == len(rows)
    assert snapshot(app) == before


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reimport_skips_external_ids_already_in_the_project(
    transport: str, empty_project: int, manager: Api, client: FlaskClient,
) -> None:
    first = manager.post(f"/projects/{empty_project}/items", GOOD_ROWS[:2])
    assert first.get_json()["created"] == 2
    rows = [*GOOD_ROWS, {"external_id": "w3", "data": {"text": "new"}}]
    again = upload_rows(client, str(manager.token), empty_project, rows, transport)
    assert again.status_code == 201, again.get_json()
    assert again.get_json() == {"created": 2, "skipped_duplicates": 2, "errors": []}
    counts = progress(client, str(manager.token), empty_project)
    assert (counts["items"], counts["gold"]) == (3, 1)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_on_error_skip_imports_valid_rows_and_reports_errors_by_row(
    transport: str, empty_project: int, manager: Api, client: FlaskClient,
) -> None:
    rows = [
        {"external_id": "w0", "data": {"text": "ok"}},
        {"external_id": "g1", "data": {"text": "bad gold"}, "gold_label": "zebra"},
        {"external_id": "w2", "data": {"text": "ok"}},
        {"external_id": "w0", "data": {"text": "repeat"}},
        {"external_id": "", "data": {"text": "no id"}},
        {"external_id": "g5", "data": {"text": "gold"}, "gold_label": "c"},
    ]
    response = upload_rows(client, str(manager.token), empty_project, rows, transport,
                           "?on_error=skip")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert (report["created"], report["skipped_duplicates"]) == (3, 0)
    assert [e["row"] for e in report["errors"]] == [2, 4, 5]
    assert all(isinstance(e["message"], str) and e["message"] for e in report["errors"])
    assert "zebra" in report["errors"][0]["message"]
    counts = progress(client, str(manager.token), empty_project)
    assert (counts["items"], counts["gold"]) == (2, 1)


# --- bodies too large ----------------------------------------------------------------------

LIMIT = 1000


@pytest.fixture
def small_app(database_url: str, clock: Clock) -> Iterator[Flask]:
    """An app that refuses bodies over ``LIMIT`` bytes."""
    application = create_app(config.TestConfig(database_url, MAX_CONTENT_LENGTH=LIMIT))
    application.extensions["crowd_clock"] = clock
    yield application
    application.extensions["crowd_db"].engine.dispose()


@pytest.fixture
def small(small_app: Flask) -> tuple[FlaskClient, str, int]:
    """A client of ``small_app``, a manager's token and an empty project."""
    from crowd.extensions import db
    from crowd.services.accounts import create_user, issue_token

    with small_app.app_context():
        token = issue_token(db.session, create_user(db.session, "boss", PASSWORD, "manager"))
    client = small_app.test_client()
    project = send(client, "POST", "/projects", token, json=PROJECT).get_json()["id"]
    return client, token, project


def many_rows(n: int) -> list[dict[str, Any]]:
    return [{"external_id": f"w{i}", "data": {"text": "some words to label"}} for i in range(n)]


OVERSIZED: list[tuple[str, str, Callable[[int], str], Callable[[], dict[str, Any]]]] = [
    ("items_json", "POST", lambda p: f"/projects/{p}/items", lambda: {"json": many_rows(40)}),
    ("items_csv_body", "POST", lambda p: f"/projects/{p}/items",
     lambda: {"data": encode(many_rows(40), "csv"), "content_type": "text/csv"}),
    ("items_jsonl_body", "POST", lambda p: f"/projects/{p}/items",
     lambda: {"data": encode(many_rows(40), "jsonl"), "content_type": "application/x-ndjson"}),
    ("items_csv_file", "POST", lambda p: f"/projects/{p}/items",
     lambda: {"data": {"file": (io.BytesIO(encode(many_rows(40), "csv")), "items.csv")},
              "content_type": "multipart/form-data"}),
    ("project", "POST", lambda p: "/projects",
     lambda: {"json": {**PROJECT, "guidelines": "g" * 2 * LIMIT}}),
    ("patch", "PATCH", lambda p: f"/projects/{p}",
     lambda: {"json": {"guidelines": "g" * 2 * LIMIT}}),
    ("token", "POST", lambda p: "/tokens",
     lambda: {"json": {"username": "boss", "password": "p" * 2 * LIMIT}}),
    ("user", "POST", lambda p: "/users",
     lambda: {"json": {"username": "u", "password": "p" * 2 * LIMIT, "role": "worker"}}),
]


@pytest.mark.parametrize(("method", "path", "build"), [o[1:] for o in OVERSIZED],
                         ids=[o[0] for o in OVERSIZED])
def test_oversized_body_is_413_json_and_writes_nothing(
    method: str, path: Callable[[int], str], build: Callable[[], dict[str, Any]],
    small: tuple[FlaskClient, str, int], small_app: Flask,
) -> None:
    client, token, project = small
    before = snapshot(small_app)
    response = send(client, method, path(project), token, **build())
    assert_error(response, 413, "too_large", str(LIMIT))
    assert snapshot(small_app) == before


def test_body_under_the_limit_is_accepted(small: tuple[FlaskClient, str, int]) -> None:
    client, token, project = small
    rows = many_rows(5)
    assert len(json.dumps(rows)) < LIMIT
    response = send(client, "POST", f"/projects/{project}/items", token, json=rows)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 5


# --- unknown ids, routes and methods -------------------------------------------------------

UNKNOWN_IDS: list[tuple[str, str, Callable[[Scene], str], Any]] = [
    ("manager", "GET", lambda s: f"/projects/{BIG_ID}", None),
    ("manager", "PATCH", lambda s: f"/projects/{BIG_ID}", {"guidelines": "x"}),
    ("manager", "POST", lambda s: f"/projects/{BIG_ID}/items", GOOD_ROWS),
    ("manager", "GET", lambda s: f"/projects/{BIG_ID}/results", None),
    ("manager", "GET", lambda s: f"/projects/{BIG_ID}/labels", None),
    ("manager", "GET", lambda s: f"/projects/{BIG_ID}/workers", None),
    ("manager", "GET", lambda s: f"/projects/{BIG_ID}/workers/{s.worker_id}", None),
    ("manager", "GET", lambda s: f"/projects/{s.project}/workers/{BIG_ID}", None),
    ("manager", "GET", lambda s: f"/projects/{BIG_ID}/quality", None),
    ("manager", "POST", lambda s: f"/projects/{BIG_ID}/aggregate", None),
    ("manager", "POST", lambda s: f"/projects/{BIG_ID}/workers/{s.worker_id}/state",
     {"state": "active", "reason": "r"}),
    ("manager", "POST", lambda s: f"/projects/{s.project}/workers/{BIG_ID}/state",
     {"state": "active", "reason": "r"}),
    ("worker", "POST", lambda s: f"/projects/{BIG_ID}/next", None),
    ("worker", "GET", lambda s: f"/projects/{BIG_ID}/me", None),
    ("worker", "POST", lambda s: f"/assignments/{BIG_ID}/answer", {"label": "a"}),
    ("expert", "GET", lambda s: f"/reviews?project={BIG_ID}", None),
    ("expert", "POST", lambda s: f"/reviews/{BIG_ID}", {"label": "a"}),
]


@pytest.mark.parametrize(("role", "method", "path", "body"), UNKNOWN_IDS,
                         ids=[f"{m} {p(Scene(1, 2, 3, 4, '', '', '', '', 5))}"
                              for _, m, p, _ in UNKNOWN_IDS])
def test_unknown_id_is_404_json(role: str, method: str, path: Callable[[Scene], str], body: Any,
                                still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    kwargs = {} if body is None else {"json": body}
    response = send(client, method, path(scene), getattr(scene, role), **kwargs)
    assert_error(response, 404, "not_found")
    assert snapshot(app) == before


def test_another_workers_assignment_is_404(scene: Scene, client: FlaskClient,
                                           make_user: Callable[..., tuple[int, str]]) -> None:
    intruder = make_user("worker")[1]
    response = send(client, "POST", f"/assignments/{scene.assignment}/answer", intruder,
                    json={"label": "a"})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("number", [0, 2**31 - 1, 2**31, 2**63, 10**30])
@pytest.mark.parametrize(("role", "method", "template", "body"), [
    ("manager", "GET", "/projects/{n}", None),
    ("manager", "POST", "/projects/{project}/workers/{n}/state",
     {"state": "active", "reason": "r"}),
    ("worker", "POST", "/projects/{n}/next", None),
    ("worker", "POST", "/assignments/{n}/answer", {"label": "a"}),
    ("expert", "POST", "/reviews/{n}", {"label": "a"}),
    ("expert", "GET", "/reviews?project={n}", None),
], ids=["project", "worker_state", "next", "answer", "review", "review_queue"])
def test_id_beyond_the_database_integer_range_is_404(
    role: str, method: str, template: str, body: Any, number: int,
    still: Still,
) -> None:
    scene, _, client = still
    path = template.format(n=number, project=scene.project)
    kwargs = {} if body is None else {"json": body}
    response = send(client, method, path, getattr(scene, role), **kwargs)
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(("query", "status", "code"), [
    ("", 422, "missing_project"),
    ("?project=abc", 422, "missing_project"),
    ("?project=1.5", 422, "missing_project"),
    ("?project=-1", 422, "missing_project"),
    ("?project=\u00b2", 422, "missing_project"),
    ("?project=" + "9" * 5000, 404, "not_found"),
    ("?project={project}&limit=x", 422, "invalid_limit"),
    ("?project={project}&limit=-5", 422, "invalid_limit"),
    ("?project={project}&limit=\u00b2", 422, "invalid_limit"),
    ("?project={project}&limit=" + "9" * 5000, 422, "invalid_limit"),
], ids=["none", "word", "decimal", "negative", "superscript_digit", "5000_digits", "limit_word",
        "limit_negative", "limit_superscript_digit", "limit_5000_digits"])
def test_review_queue_with_a_bad_query_is_a_4xx(query: str, status: int, code: str,
                                                still: Still,
) -> None:
    scene, _, client = still
    response = send(client, "GET", "/reviews" + query.format(project=scene.project), scene.expert)
    assert_error(response, status, code)


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/projects/1/nope", "/api/v1/projects/abc",
                                  "/api/v1/projects/-1", "/api/v1/assignments/1",
                                  "/api/v1/projects/1/items/1", "/api/v1/"])
@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "manager"])
def test_unknown_route_under_the_api_is_404_json(
    path: str, authenticated: bool, still: Still,
) -> None:
    scene, _, client = still
    headers = {"Authorization": f"Bearer {scene.manager}"} if authenticated else {}
    assert_error(client.get(path, headers=headers), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [
    ("DELETE", "/projects"),
    ("PUT", "/projects/{project}"),
    ("DELETE", "/projects/{project}"),
    ("PATCH", "/projects"),
    ("PUT", "/me"),
    ("PUT", "/tokens"),
    ("GET", "/users"),
    ("GET", "/projects/{project}/next"),
    ("GET", "/assignments/1/answer"),
    ("PUT", "/projects/{project}/items"),
    ("DELETE", "/projects/{project}/results"),
])
def test_wrong_method_is_405_json(method: str, path: str, still: Still) -> None:
    scene, _, client = still
    response = send(client, method, path.format(project=scene.project), scene.manager, json={})
    assert_error(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed and method not in allowed, response.headers["Allow"]


# --- input the database itself would choke on ----------------------------------------------

NUL = "a\u0000b"


@pytest.mark.parametrize(("target", "body"), [
    ("create_project", {"name": NUL, "labels": ["a", "b"]}),
    ("create_project", {"name": "p", "labels": [NUL, "b"]}),
    ("create_project", {"name": "p", "labels": ["a", "b"], "guidelines": NUL}),
    ("patch_project", {"guidelines": NUL}),
    ("patch_project", {"name": NUL}),
    ("token", {"username": NUL, "password": PASSWORD}),
    ("token", {"username": "scene-worker", "password": NUL}),
    ("user", {"username": "nul", "password": "pass" + NUL + "word", "role": "worker"}),
    ("state", {"state": "active", "reason": NUL}),
    ("review", {"label": "a", "note": NUL}),
    ("answer", {"label": NUL}),
], ids=["project_name", "label", "guidelines", "patch_guidelines", "patch_name", "token_username",
        "token_password", "user_password", "state_reason", "review_note", "answer_label"])
def test_nul_character_in_text_is_refused(target: str, body: dict[str, Any],
                                          still: Still) -> None:
    scene, app, client = still
    spec = TARGETS[target]
    before = snapshot(app)
    response = send(client, spec.method, spec.path(scene), spec.token(scene), json=body)
    assert_error(response, {400, 401, 422})
    assert snapshot(app) == before


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_nul_character_in_an_external_id_is_a_bad_row(transport: str, still: Still) -> None:
    scene, app, client = still
    before = snapshot(app)
    rows = [{"external_id": NUL, "data": {"text": "x"}}]
    response = upload_rows(client, scene.manager, scene.project, rows, transport)
    error = assert_error(response, 422, "invalid_rows")
    assert error["details"]["errors"][0]["row"] == 1
    assert snapshot(app) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "1" * 5000])
@pytest.mark.parametrize("transport", ["json_body", "jsonl_body", "jsonl_file"])
def test_number_json_cannot_store_in_item_data_is_400(
    literal: str, transport: str, still: Still,
) -> None:
    scene, app, client = still
    row = '{"external_id": "n", "data": {"value": %s}}' % literal
    raw = (f"[{row}]" if transport == "json_body" else row + "\n").encode()
    before = snapshot(app)
    response = upload(client, scene.manager, scene.project, raw, transport)
    assert_error(response, 400, "invalid_json")
    assert snapshot(app) == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e400", "1" * 5000])
def test_number_out_of_range_in_a_setting_is_refused(literal: str, still: Still) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = send(client, "POST", "/projects", scene.manager, content_type=JSON,
                    data='{"name": "p", "labels": ["a", "b"], "gold_rate": %s}' % literal)
    assert_error(response, {400, 422})
    assert snapshot(app) == before


@pytest.mark.parametrize("transport", ["json_body", "jsonl_body", "csv_body"])
def test_item_data_nested_too_deeply_is_400(transport: str, still: Still) -> None:
    scene, app, client = still
    deep = "[" * 5000 + "]" * 5000  # past the parser's limit, within the CSV field limit
    row = '{"external_id": "d", "data": {"v": %s}}' % deep
    raw = {"json_body": f"[{row}]", "jsonl_body": row + "\n",
           "csv_body": 'external_id,data\nd,"{""v"": %s}"\n' % deep}[transport].encode()
    before = snapshot(app)
    response = upload(client, scene.manager, scene.project, raw, transport)
    assert_error(response, {400, 422})
    assert snapshot(app) == before
