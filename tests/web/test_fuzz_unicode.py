"""Nasty text and numbers in every field of every JSON body: 4xx JSON or success, never 5xx.

Beyond what schemathesis generates (test_fuzz.py): lone surrogates sent as JSON escapes
(``json.dumps(..., ensure_ascii=True)``), NUL, 10,000-character strings, RTL,
zero-width and emoji text, and numbers JSON allows but Python and the databases may
not hold (400-digit integers, -0, 1e308, 1e309, NaN), booleans and null, put in turn
into every field the document lists for each request body, on a body that is
otherwise valid. A sweep tries every text field with every text value and every number
field with every number (and a few of the other kind); then a Hypothesis run
(derandomized, 30 examples an operation) puts generated text (surrogates included),
integers up to 400 digits, floats and the values above into any field.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from crowd.web.api.openapi import document
from tests.web.test_fuzz import SUPPRESSED, World, world  # noqa: F401  (the fixture)


DOC = document()
HOLE = "\x01fuzz-hole\x01"
KEY = object()  # a path step meaning "a new key of this object"

TEXTS = ["\ud800", "a\udfff", "\udfff\ud800", "x\x00y", "a" * 10_000, "\u202egnp.exe", "שלום",
         "a\u200db\u200b", "\ufeff", "👩\u200d👩\u200d👧\u200d👦" + "🙂" * 300, "\U0010ffff\uffff",
         "\u0301", " ", "", "١٢٣", "1_000", "a"]
NUMBERS = ["1" + "0" * 399, "-" + "9" * 400, "-0", "-0.0", "1e308", "-1e308", "1e309", "1e-400",
           "2147483648", "9223372036854775808", "0.5", "NaN", "-Infinity", "true", "false",
           "null", "[]", '{"\\ud800": 1}']
TEXT_VALUES = [json.dumps(t, ensure_ascii=True) for t in TEXTS]
VALUES = TEXT_VALUES + NUMBERS
# The sweep sends text to text fields and numbers to number fields, and a few of the
# other kind to each; the Hypothesis test below mixes anything into anything.
FOR_KIND = {"string": TEXT_VALUES + ["1e309", "-0", "true", "null", "{}"],
            "number": NUMBERS + TEXT_VALUES[:2] + ['"1"']}


def base_bodies() -> dict[tuple[str, str], Any]:
    """A valid body for every operation that reads JSON (path template -> body)."""
    return {
        ("post", "/tokens"): {"username": "fuzz-worker", "password": "password-123"},
        ("post", "/users"): {"username": "fuzzed", "password": "password-123",
                             "role": "worker"},
        ("post", "/projects"): {"name": "fuzz", "labels": ["a", "b"], "guidelines": "g",
                                **{k: s["default"] for k, s in SETTINGS.items()}},
        ("patch", "/projects/{project_id}"): {"name": "fuzz", "guidelines": "g2"},
        ("post", "/projects/{project_id}/items"): [
            {"external_id": "e1", "data": {"text": "t"}, "gold_label": "a", "priority": 1}],
        ("post", "/assignments/{assignment_id}/answer"): {"label": "a", "duration_ms": 5},
        ("post", "/reviews/{item_id}"): {"label": "a", "note": "n", "promote_to_gold": False},
        ("post", "/projects/{project_id}/workers/{worker_id}/state"): {
            "state": "active", "reason": "fine"},
        ("post", "/projects/{project_id}/members"): {"usernames": ["fuzz-worker"]},
        ("patch", "/users/{user_id}"): {"active": True},
    }


SETTINGS = DOC["components"]["schemas"]["ProjectCreate"]["properties"]
SETTINGS = {k: v for k, v in SETTINGS.items() if "default" in v}


def json_operations() -> list[tuple[str, str]]:
    return [(method, path) for path, item in DOC["paths"].items()
            for method, op in item.items() if isinstance(op, dict)
            and "application/json" in op.get("requestBody", {}).get("content", {})]


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:  # the first variant that has structure, else the first
        shaped = [s for s in map(resolve, schema["anyOf"]) if "items" in s or "properties" in s]
        schema = shaped[0] if shaped else resolve(schema["anyOf"][0])
    return schema


def targets(schema: dict[str, Any], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field of a body schema, as a path; list members and object members too."""
    return [path for path, _ in typed_targets(schema, prefix)]


def typed_targets(schema: dict[str, Any],
                  prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every field as (path, JSON type or "any"); a new key of an object is "string"."""
    schema = resolve(schema)
    if schema.get("type") == "array":
        return [(prefix + (0,), kind(schema["items"])),
                *typed_targets(schema["items"], prefix + (0,))]
    out = [(prefix + (KEY,), "string")] if "properties" in schema else []
    for name, sub in schema.get("properties", {}).items():
        out.append((prefix + (name,), kind(sub)))
        sub = resolve(sub)
        if sub.get("type") == "array":
            out += typed_targets(sub, prefix + (name,))
        elif sub.get("type") == "object" and "properties" not in sub:
            out += [(prefix + (name, "text"), "string"), (prefix + (name, KEY), "string")]
    return out


def kind(schema: dict[str, Any]) -> str:
    found = resolve(schema).get("type")
    return {"integer": "number"}.get(found, found) if isinstance(found, str) else "any"


def with_hole(body: Any, path: tuple[Any, ...]) -> Any:
    """A copy of ``body`` with ``HOLE`` at ``path`` (a new key for ``KEY``)."""
    body = json.loads(json.dumps(body))
    parent = body
    for step in path[:-1]:
        if isinstance(parent, list):
            parent = parent[step]
        else:
            parent = parent.setdefault(step, {})
    if path[-1] is KEY:
        parent[HOLE] = 1
    else:
        parent[path[-1]] = HOLE
    return body


def raw_body(body: Any, path: tuple[Any, ...], literal: str) -> str:
    """The JSON text of ``body`` with the raw JSON ``literal`` at ``path``."""
    text = json.dumps(with_hole(body, path), ensure_ascii=True)
    hole = json.dumps(HOLE, ensure_ascii=True)
    if path[-1] is KEY:
        key = literal if literal.startswith('"') else json.dumps(literal)
        return text.replace(hole, key, 1)
    return text.replace(hole, literal, 1)


def send(client: FlaskClient, w: World, method: str, path: str, body: str) -> None:
    url = "/api/v1" + path.format(**w.ids)
    role = DOC["paths"][path][method]["x-roles"][0]  # the first role allowed
    headers = {"Authorization": f"Bearer {w.tokens[role]}"} if role != "anonymous" else {}
    response = client.open(url, method=method.upper(), data=body, headers=headers,
                           content_type="application/json")
    documented = DOC["paths"][path][method]["responses"]
    shown = f"{method.upper()} {path} {body[:300]!r}"
    assert response.status_code < 500, (shown, response.get_data(as_text=True)[:500])
    assert str(response.status_code) in documented, (shown, response.status_code)
    assert response.mimetype == "application/json", shown
    answer = response.get_json()
    if response.status_code >= 400:
        assert set(answer) == {"error"} and {"code", "message"} <= set(answer["error"]), shown


OPERATIONS = json_operations()


def test_every_json_body_has_a_base_body() -> None:
    assert set(OPERATIONS) == set(base_bodies())


ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40)  # surrogates too
LITERALS = (st.sampled_from(VALUES)
            | ANY_TEXT.map(lambda t: json.dumps(t, ensure_ascii=True))
            | st.integers(min_value=-10**400, max_value=10**400).map(str)
            | st.floats(allow_nan=False, allow_infinity=False).map(repr))


@pytest.mark.parametrize(("method", "path"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_nasty_text_and_numbers_in_every_field(method: str, path: str, client: FlaskClient,
                                               world: World) -> None:  # noqa: F811
    """The sweep, then generated values in any field (one app and database for both)."""
    body = base_bodies()[(method, path)]
    schema = DOC["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    for target, field_kind in typed_targets(schema):
        for literal in FOR_KIND.get(field_kind, VALUES):
            send(client, world, method, path, raw_body(body, target, literal))

    @given(data=st.data())
    @settings(max_examples=30, derandomize=True, deadline=None, database=None,
              suppress_health_check=SUPPRESSED)
    def generated(data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(targets(schema)), label="field")
        literal = data.draw(LITERALS, label="value")
        send(client, world, method, path, raw_body(body, target, literal))

    generated()
