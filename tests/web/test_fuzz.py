"""Property-based fuzzing of the API against its own OpenAPI document (schemathesis).

The document is read from the app as served (``/api/v1/openapi.json`` through WSGI);
each of its operations becomes a test that sends generated requests to a fresh app on
each database, where a project is mid-flight so that ids resolve. Every example also
draws (through Hypothesis, so a failure replays) the role it is sent as, from the
roles the operation allows plus an anonymous caller and one role it refuses, and
whether each path id is a real one or the generated one. A response must not be a
5xx, its status must be documented, and its body, headers and content type must
match what the document says.

Bounded and repeatable: a fixed schemathesis seed, ``derandomize=True``, at most
``MAX_EXAMPLES`` generated examples an operation (positive and negative; the
coverage phase is off) and no Hypothesis database. GET /openapi.json itself is
not fuzzed (schemathesis leaves out the document it was loaded from).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select

import config
from crowd import create_app
from crowd.extensions import db
from crowd.persistence import User
from crowd.services.accounts import issue_token
from tests.conftest import Api
from tests.support import answered_then_leased

# Generated examples an operation; CROWD_FUZZ_EXAMPLES=200 (say) for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("CROWD_FUZZ_EXAMPLES", "25"))
SEED = 20261202
ROLES = ("worker", "expert", "manager", "admin")
# The app and its database are per test, not per example (the data they gather is the
# point); generated bodies may be large or slow to build on a loaded machine.
SUPPRESSED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
              HealthCheck.filter_too_much, HealthCheck.data_too_large,
              HealthCheck.large_base_example]

schemathesis.serializer.alias("text/csv", "text/plain")
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

SCHEMA = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", create_app(config.TestConfig("sqlite://")),
    config=schemathesis.Config.from_dict({
        "seed": SEED,
        # The coverage phase adds hundreds of boundary cases an operation: left to the
        # unicode and huge-number sweep in test_fuzz_unicode.py, which is bounded.
        "phases": {"coverage": {"enabled": False}},
    }),
)
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance,
          schemathesis.checks.response_schema_conformance,
          schemathesis.checks.response_headers_conformance]


@dataclass
class World:
    """A project with an item in review, a worker holding a live lease, and a token
    for every role."""

    app: Flask
    tokens: dict[str, str]
    ids: dict[str, int]

    def fresh_token(self, role: str) -> str:
        """A token nobody else uses (for revoking)."""
        with self.app.app_context():
            account = db.session.scalars(select(User).where(User.role == role)).first()
            assert account is not None
            return issue_token(db.session, account)


@pytest.fixture
def world(app: Flask, manager: Api, make_project: Callable[..., dict[str, Any]],
          make_user: Callable[..., tuple[int, str]]) -> World:
    live = answered_then_leased(manager, make_project, make_user, "fuzz-worker")
    expert_id, expert = make_user("expert")
    assert manager.post(f"/projects/{live.project}/members",
                        {"user_id": expert_id}).status_code == 201
    spare = manager.post("/tokens", {"username": "fuzz-worker", "password": "password-123"})
    tokens = {"manager": str(manager.token), "worker": live.worker_token,
              "expert": expert, "admin": make_user("admin")[1]}
    ids = {"project_id": live.project, "project": live.project, "worker_id": live.worker_id,
           "assignment_id": live.assignment, "item_id": live.reviewed_item,
           "user_id": live.worker_id, "token_id": spare.get_json()["id"]}
    return World(app, tokens, ids)


def callers(operation: dict[str, Any]) -> list[str]:
    """Who an example is sent as: every role allowed, anonymous, one role refused."""
    allowed = [r for r in operation["x-roles"] if r != "anonymous"]
    refused = [r for r in ROLES if r not in allowed]
    return [*allowed, "anonymous", *refused[:1]]


@SCHEMA.parametrize()
@SCHEMA.given(data=st.data())
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=SUPPRESSED)
def test_api_answers_as_documented(case: Any, data: st.DataObject, world: World) -> None:
    definition = case.operation.definition.raw
    role = data.draw(st.sampled_from(callers(definition)), label="role")
    for name in list(case.path_parameters or {}):
        if data.draw(st.booleans(), label=f"real {name}"):
            case.path_parameters[name] = world.ids[name]
    if case.query and "project" in case.query and data.draw(st.booleans(), label="real ?project"):
        case.query["project"] = world.ids["project"]
    token = None
    if role != "anonymous":
        revoking = case.method.upper() == "DELETE" and case.path == "/tokens"
        token = world.fresh_token(role) if revoking else world.tokens[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    outside_api = case.path in ("/healthz", "/readyz")
    response = case.call(app=world.app, headers=headers,
                         **({"base_url": "http://localhost/"} if outside_api else {}))
    case.validate_response(response, checks=CHECKS, headers=headers)
