"""The OpenAPI document against the app: every route documented with its methods, and
nothing documented that is not served; valid OpenAPI 3.1; errors described alike."""
from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from flask import Flask

import config
from crowd import create_app
from crowd.domain.settings import SETTINGS
from crowd.persistence import ROLES
from crowd.web.api.openapi import document
from crowd.web.api.openapi_schemas import SCHEMAS
from tests.support import api_routes

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def bare_app() -> Flask:
    """The app's routes and document need no database."""
    return create_app(config.TestConfig("sqlite://"))


def documented_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    """(method, URL rule with variables blanked) of every documented operation."""
    base = doc["servers"][0]["url"].rstrip("/")
    out = set()
    for path, item in doc["paths"].items():
        prefix = item["servers"][0]["url"].rstrip("/") if "servers" in item else base
        for method in METHODS:
            if method in item:
                out.add((method.upper(), re.sub(r"\{[^}]*\}", "<>", prefix + path)))
    return out


def served_routes(app: Flask) -> set[tuple[str, str]]:
    """Everything under /api/v1, and the probes outside it."""
    probes = {
        (method, rule.rule) for rule in app.url_map.iter_rules()
        if rule.rule in ("/healthz", "/readyz")
        for method in rule.methods or () if method not in ("HEAD", "OPTIONS")
    }
    return api_routes(app) | probes


def test_every_served_route_is_documented_with_its_methods(bare_app: Flask) -> None:
    missing = served_routes(bare_app) - documented_routes(document())
    assert not missing, f"document these in crowd/web/api/openapi.py: {sorted(missing)}"


def test_everything_documented_is_served(bare_app: Flask) -> None:
    extra = documented_routes(document()) - served_routes(bare_app)
    assert not extra, f"documented but not served: {sorted(extra)}"


def test_the_served_document_is_the_document_and_valid_openapi_3_1(bare_app: Flask) -> None:
    response = bare_app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document()
    schemathesis.openapi.from_dict(document()).validate()


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, item[method]) for path, item in document()["paths"].items()
            for method in METHODS if method in item]


@pytest.mark.parametrize(("method", "path", "operation"), operations(),
                         ids=[f"{m.upper()} {p}" for m, p, _ in operations()])
def test_every_refusal_has_the_error_body_and_every_outage_retry_after(
        method: str, path: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    probe = path in ("/healthz", "/readyz")
    for status, response in responses.items():
        if int(status) >= 400 and not (probe and status in ("400", "431")):
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (status, path)
    if path != "/healthz":
        assert "503" in responses, f"{method} {path} touches the database"
        assert "Retry-After" in responses["503"]["headers"]
    if operation.get("security") != []:
        assert "401" in responses, f"{method} {path} needs a token"
    if "{" in path:
        assert "404" in responses
    if not probe:
        assert {"422", "431"} <= set(responses), "NUL in a query, huge headers"
    json_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if json_body is not None:
        assert {"400", "413", "422"} <= set(responses), f"{method} {path} reads a JSON body"
    assert set(operation["x-roles"]) <= {"anonymous", *ROLES}


def test_settings_constraints_come_from_the_settings_table() -> None:
    fields = SCHEMAS["ProjectCreate"]["properties"]
    for setting in SETTINGS:
        schema = fields[setting.name]
        assert (schema["minimum"], schema["maximum"], schema["default"]) == (
            setting.low, setting.high, setting.default)
        assert schema["type"] == ("integer" if setting.kind is int else "number")
    assert SCHEMAS["ProjectCreate"]["additionalProperties"] is False
    assert SCHEMAS["User"]["properties"]["role"]["enum"] == list(ROLES)


def test_next_documents_204_and_suspended() -> None:
    responses = document()["paths"]["/projects/{project_id}/next"]["post"]["responses"]
    assert "content" not in responses["204"]
    assert "suspended" in responses["403"]["description"]


def test_path_ids_have_the_bounds_the_routes_accept(bare_app: Flask) -> None:
    doc = document()
    for rule in bare_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]*:)?([^>]*)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            documented = {p["name"]: p["schema"] for p in
                          doc["paths"][path][method.lower()].get("parameters", ())
                          if p["in"] == "path"}
            assert set(documented) == set(rule.arguments), (method, path)
            for name, converter in rule._converters.items():
                schema = documented[name]
                assert schema["type"] == "integer", (path, name)
                assert schema["maximum"] == converter.max, (path, name)
                assert schema["minimum"] >= (converter.min or 0), (path, name)


@pytest.mark.parametrize(("method", "path", "operation"),
                         [o for o in operations() if "{" in o[1]],
                         ids=[f"{m.upper()} {p}" for m, p, _ in operations() if "{" in p])
def test_an_id_beyond_its_range_is_the_documented_404_for_every_method(
        method: str, path: str, operation: dict[str, Any], bare_app: Flask) -> None:
    """Not 405: werkzeug says 405 when another method's rule has the same shape."""
    ids = {p["name"]: p["schema"]["maximum"] + 1 for p in operation["parameters"]
           if p["in"] == "path"}
    response = bare_app.test_client().open("/api/v1" + path.format(**ids), method=method)
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"
