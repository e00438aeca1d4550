"""Input at the edges of the API: text that cannot be stored, numbers too large, bodies too big.

A lone surrogate (``"\\ud800"`` as a JSON escape) or NUL in any string, a number
no column holds, item data nested or sized past its bounds, a body past the
limit sent chunked, a header past its limit: each is a 4xx JSON error naming
the problem, and nothing is written.
"""
from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crowd.domain.settings import SETTINGS
from crowd.domain.text import MAX_ITEM_DATA_BYTES, MAX_ITEM_DEPTH, MAX_JSON_DEPTH
from tests.web.conftest import Scene, Still, snapshot
from tests.web.test_bad_input import (
    JSON,
    LIMIT,
    PROJECT,
    TARGETS,
    assert_error,
    many_rows,
    progress,
    send,
    small,  # noqa: F401 - a fixture
    small_app,  # noqa: F401 - a fixture
    upload,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

LONE = "\ud800"
LOW = "a\udfff"


def send_json(client: FlaskClient, target: str, scene: Scene, body: Any) -> Any:
    """``body`` as JSON text; ``json.dumps`` writes a lone surrogate as its ``\\ud800`` escape."""
    spec = TARGETS[target]
    return send(client, spec.method, spec.path(scene), spec.token(scene),
                data=json.dumps(body), content_type=JSON)


# --- a lone surrogate in every string an endpoint takes -----------------------------------

SURROGATE_BODIES: list[tuple[str, str, dict[str, Any] | list[Any]]] = [
    ("token_username", "token", {"username": LONE, "password": "password-123"}),
    ("token_password", "token", {"username": "scene-worker", "password": "pass" + LONE}),
    ("user_username", "user", {"username": LONE, "password": "password-123", "role": "worker"}),
    ("user_password", "user", {"username": "u1", "password": LONE * 9, "role": "worker"}),
    ("project_name", "create_project", {**PROJECT, "name": LONE}),
    ("project_label", "create_project", {**PROJECT, "labels": [LOW, "b"]}),
    ("project_guidelines", "create_project", {**PROJECT, "guidelines": "read " + LONE}),
    ("project_unknown_key", "create_project", {**PROJECT, LONE: 1}),
    ("patch_name", "patch_project", {"name": LONE}),
    ("patch_guidelines", "patch_project", {"guidelines": LOW}),
    ("patch_labels", "patch_project", {"labels": ["a", "b", LOW]}),
    ("answer_label", "answer", {"label": LONE}),
    ("answer_key", "answer", {"label": "a", LONE: "x"}),
    ("state_reason", "state", {"state": "active", "reason": LONE}),
    ("review_label", "review", {"label": LONE}),
    ("review_note", "review", {"label": "b", "note": "see " + LOW}),
]


@pytest.mark.parametrize(("target", "body"), [b[1:] for b in SURROGATE_BODIES],
                         ids=[b[0] for b in SURROGATE_BODIES])
def test_lone_surrogate_in_any_json_string_is_422_invalid_text(
    target: str, body: Any, still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    error = assert_error(send_json(client, target, scene, body), 422, "invalid_text",
                         "surrogate")
    assert error["details"]["field"]
    assert snapshot(app) == before


def test_surrogate_label_at_project_creation_names_the_label(still: Still) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = send_json(client, "create_project", scene, {"name": "p", "labels": ["ok", LOW]})
    error = assert_error(response, 422, "invalid_text", "labels[1]")
    assert error["details"] == {"field": "labels[1]"}
    assert snapshot(app) == before
    listed = send(client, "GET", "/projects", scene.manager)
    assert listed.status_code == 200


@pytest.mark.parametrize("text", [LONE, "\udbff\udfff"[::-1], "x\u0000y"],
                         ids=["high", "reversed_pair", "nul"])
def test_bad_text_deep_in_a_body_names_its_path(text: str, still: Still) -> None:
    scene, _, client = still
    body = {**PROJECT, "guidelines": "g", "labels": ["a", "b"], "extra": [{"k": text}]}
    error = assert_error(send_json(client, "create_project", scene, body), 422, "invalid_text")
    assert error["details"]["field"] == "extra[0].k"


def test_a_real_astral_character_is_accepted(scene: Scene, client: FlaskClient) -> None:
    """A valid surrogate *pair* in JSON is one character (U+1F600), and fine."""
    body = {"name": "smile \U0001F600", "labels": ["\U0001F600", "b"], "guidelines": "é"}
    response = send_json(client, "create_project", scene, body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["labels"] == ["\U0001F600", "b"]


def test_json_nested_past_the_bound_is_refused_and_at_it_accepted(
    scene: Scene, client: FlaskClient,
) -> None:
    def nested(depth: int) -> str:  # the body object counts as one level
        return '{"label": "a", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    spec = TARGETS["answer"]
    deep = send(client, "POST", spec.path(scene), scene.worker, data=nested(MAX_JSON_DEPTH + 1),
                content_type=JSON)
    assert_error(deep, 422, "too_deep")
    fine = send(client, "POST", spec.path(scene), scene.worker, data=nested(MAX_JSON_DEPTH),
                content_type=JSON)
    assert fine.status_code == 200, fine.get_json()


# --- numbers ------------------------------------------------------------------------------

HUGE = "1" + "0" * 400  # parses as a Python int; float() of it overflows


@pytest.mark.parametrize("setting", [s.name for s in SETTINGS])
@pytest.mark.parametrize("literal", [HUGE, "-" + HUGE, "1e400", "NaN", "-Infinity",
                                     "9223372036854775808", "1e18", "true"],
                         ids=["400_digits", "minus_400_digits", "1e400", "nan", "minus_inf",
                              "2_pow_63", "1e18", "true"])
@pytest.mark.parametrize("target", ["create_project", "patch_project"])
def test_numeric_setting_out_of_range_is_4xx_never_500(
    target: str, literal: str, setting: str, still: Still,
) -> None:
    scene, app, client = still
    spec = TARGETS[target]
    prefix = '"name": "p", "labels": ["a", "b"], ' if target == "create_project" else ""
    before = snapshot(app)
    response = send(client, spec.method, spec.path(scene), scene.manager, content_type=JSON,
                    data='{%s"%s": %s}' % (prefix, setting, literal))
    error = assert_error(response, {400, 422})
    if literal not in ("NaN", "-Infinity"):  # those two are not JSON: 400 invalid_json
        assert error["code"] in ("invalid_setting", "invalid_number"), error
        assert setting in error["message"], error
    assert snapshot(app) == before


@pytest.mark.parametrize("literal", [HUGE, "1e400", "true", "-1"])
def test_huge_duration_is_422(literal: str, still: Still) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = send(client, "POST", f"/assignments/{scene.assignment}/answer", scene.worker,
                    data='{"label": "a", "duration_ms": %s}' % literal, content_type=JSON)
    assert_error(response, 422)
    assert snapshot(app) == before


# --- item data ----------------------------------------------------------------------------

def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels - 1):
        value = [value]
    return {"v": value}  # the data object itself is the first level


BAD_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("surrogate_value", {"external_id": "s", "data": {"text": LONE}}, "data.text"),
    ("surrogate_key", {"external_id": "s", "data": {LOW: "x"}}, "data"),
    ("surrogate_external_id", {"external_id": LOW, "data": {}}, "external_id"),
    ("surrogate_gold_label", {"external_id": "s", "data": {}, "gold_label": LONE}, "gold_label"),
    ("nul_key", {"external_id": "s", "data": {"a\u0000": "x"}}, "data"),
    ("nested_surrogate", {"external_id": "s", "data": {"a": [{"b": [LONE]}]}}, "data.a[0].b[0]"),
    ("huge_int", {"external_id": "s", "data": {"n": 10**30}}, "data.n"),
    ("too_deep", {"external_id": "s", "data": _deep(MAX_ITEM_DEPTH + 1)}, "nested deeper"),
    ("too_big", {"external_id": "s", "data": {"t": "x" * MAX_ITEM_DATA_BYTES}}, "limit"),
]
ROW_TRANSPORTS = ["json_body", "jsonl_body", "jsonl_file", "csv_body", "csv_file"]
# Not in CSV: there an escaped id is plain backslashes, and a cell holds at most 128 KiB.
ROW_CASES = [(name, row, mentions, transport) for name, row, mentions in BAD_ROWS
             for transport in ROW_TRANSPORTS
             if not (transport.startswith("csv") and name in ("surrogate_external_id", "too_big"))]


def encode_row(row: dict[str, Any], transport: str) -> bytes:
    """One row in the transport's format; in CSV the data goes in the ``data`` column."""
    fmt = transport.partition("_")[0]
    if fmt == "json":
        return json.dumps([row]).encode()
    if fmt == "jsonl":
        return (json.dumps(row) + "\n").encode()
    cell = json.dumps(row["data"]).replace('"', '""')
    external_id = json.dumps(row["external_id"])[1:-1]  # CSV bytes must be UTF-8: escaped
    gold = row.get("gold_label")
    return (f'external_id,data,gold_label\n{external_id},"{cell}",'
            f'{json.dumps(gold)[1:-1] if gold else ""}\n').encode()


@pytest.mark.parametrize(("row", "mentions", "transport"), [c[1:] for c in ROW_CASES],
                         ids=[f"{c[0]}-{c[3]}" for c in ROW_CASES])
def test_bad_item_row_is_refused_before_anything_is_stored(
    row: dict[str, Any], mentions: str, transport: str, still: Still,
) -> None:
    scene, app, client = still
    before = snapshot(app)
    response = upload(client, scene.manager, scene.project, encode_row(row, transport),
                      transport)
    error = assert_error(response, 422, "invalid_rows")
    problem = error["details"]["errors"][0]
    assert problem["row"] == 1 and mentions in problem["message"], problem
    assert snapshot(app) == before


def test_on_error_skip_keeps_the_good_rows_and_drops_the_poisoned(
    scene: Scene, client: FlaskClient,
) -> None:
    rows = [{"external_id": "fine1", "data": {"text": "ok"}},
            {"external_id": "bad", "data": {"text": LONE}},
            {"external_id": "fine2", "data": {"text": "ok \U0001F600"}}]
    before = progress(client, scene, scene.project)["items"]
    response = upload(client, scene.manager, scene.project, json.dumps(rows).encode(),
                      "json_body", "?on_error=skip")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["created"] == 2 and [e["row"] for e in report["errors"]] == [2]
    assert progress(client, scene, scene.project)["items"] == before + 2


def test_nul_in_a_query_parameter_is_422(still: Still) -> None:
    scene, _, client = still
    response = send(client, "GET", f"/projects/{scene.project}/workers?format=csv%00",
                    scene.manager)
    assert_error(response, 422, "invalid_text", "format")


# --- bodies past the limit, chunked: nothing is read past it, nothing imported -------------

def chunked(client: FlaskClient, token: str, path: str, raw: bytes, content_type: str) -> Any:
    """A body without Content-Length, as a server that de-chunks it hands it to the app."""
    return client.post(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}",
                                                  "Transfer-Encoding": "chunked"},
                       input_stream=io.BytesIO(raw), content_type=content_type,
                       environ_overrides={"wsgi.input_terminated": True})


def csv_of(n: int) -> bytes:
    return ("external_id,text\n" + "".join(f"w{i},words\n" for i in range(n))).encode()


@pytest.mark.parametrize("kind", ["csv", "json", "multipart"])
def test_chunked_body_over_the_limit_is_413_and_imports_nothing(
    kind: str, small: tuple[FlaskClient, str, int], small_app: Flask,
) -> None:
    client, token, project = small
    raw = {"csv": csv_of(100), "json": json.dumps(many_rows(40)).encode()}.get(kind, b"")
    assert len(raw) > LIMIT or kind == "multipart"
    before = snapshot(small_app)
    if kind == "multipart":
        response = client.post(
            f"/api/v1/projects/{project}/items", content_type="multipart/form-data",
            data={"file": (io.BytesIO(csv_of(100)), "items.csv")},
            headers={"Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True})
    else:
        response = chunked(client, token, f"/projects/{project}/items", raw,
                           "text/csv" if kind == "csv" else JSON)
    assert_error(response, 413, "too_large", str(LIMIT))
    assert snapshot(small_app) == before


def test_chunked_body_under_the_limit_is_read_whole(small: tuple[FlaskClient, str, int]) -> None:
    client, token, project = small
    raw = csv_of(50)
    assert len(raw) < LIMIT
    response = chunked(client, token, f"/projects/{project}/items", raw, "text/csv")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 50


def test_chunked_json_body_over_the_limit_is_413(small: tuple[FlaskClient, str, int]) -> None:
    client, token, _ = small
    raw = json.dumps({**PROJECT, "guidelines": "g" * 2 * LIMIT}).encode()
    assert_error(chunked(client, token, "/projects", raw, JSON), 413, "too_large")


# --- headers ------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{"X-Padding": "a" * 16 * 1024},
                                     {f"X-Pad-{i}": "a" * 7000 for i in range(5)}],
                         ids=["one_16k_header", "five_7k_headers"])
def test_headers_past_the_limit_are_431_json(headers: dict[str, str], still: Still) -> None:
    scene, _, client = still
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {scene.manager}",
                                                 **headers})
    assert_error(response, 431, "header_too_large")


def test_a_header_under_the_limit_is_fine(scene: Scene, client: FlaskClient) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {scene.manager}",
                                                 "X-Padding": "a" * 4096})
    assert response.status_code == 200
