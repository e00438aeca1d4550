"""Tokens, users and ``me``."""
from __future__ import annotations

from typing import Any

from flask import request

from crowd.domain.errors import InvalidInput, Unauthorized
from crowd.extensions import db
from crowd.services import accounts
from crowd.web.api import bp
from crowd.web.api.common import ANY, MANAGER, json_body, require, user, user_json


@bp.post("/tokens")
def create_token() -> Any:
    body = json_body()
    if not isinstance(body, dict) or not {"username", "password"} <= set(body):
        raise InvalidInput("username and password are required", code="missing_field")
    account = accounts.authenticate(db.session, body["username"], body["password"])
    if account is None:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    token = accounts.issue_token(db.session, account)
    return {"token": token, "user": user_json(account)}, 201


@bp.delete("/tokens")
@require(*ANY)
def revoke_token() -> Any:
    token = request.headers["Authorization"].partition(" ")[2].strip()
    accounts.revoke_token(db.session, token)
    return "", 204


@bp.post("/users")
@require(*MANAGER)
def create_user() -> Any:
    body = json_body()
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    for field in ("username", "password", "role"):
        if field not in body:
            raise InvalidInput(f"{field} is required", code="missing_field")
    account = accounts.create_user(
        db.session, body["username"], body["password"], body["role"], actor=user()
    )
    return user_json(account), 201


@bp.get("/me")
@require(*ANY)
def me() -> Any:
    return user_json(user())
