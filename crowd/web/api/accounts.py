"""Tokens, users and ``me``."""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from crowd import runtime
from crowd.domain.errors import InvalidInput, Unauthorized
from crowd.extensions import db
from crowd.services import accounts, throttle
from crowd.web.api import bp
from crowd.web.api.common import ADMIN, ANY, MANAGER, json_body, require, user, user_json


def _bearer() -> str:
    return request.headers["Authorization"].partition(" ")[2].strip()


@bp.post("/tokens")
def create_token() -> Any:
    body = json_body()
    if not isinstance(body, dict) or not {"username", "password"} <= set(body):
        raise InvalidInput("username and password are required", code="missing_field")
    now = runtime.now()
    account = accounts.log_in(db.session, body["username"], body["password"],
                              request.remote_addr, now)
    if account is None:
        raise Unauthorized("wrong username or password", code="bad_credentials")
    raw, token = accounts.issue_token_row(db.session, account, now,
                                          current_app.config.get("TOKEN_DAYS", 30))
    answer = {"token": raw, "user": user_json(account), "id": token.id,
              "expires_at": accounts.token_json(token)["expires_at"]}
    return answer, 201, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.get("/tokens")
@require(*ANY)
def list_tokens() -> Any:
    tokens = accounts.list_tokens(db.session, user(), _bearer(), runtime.now())
    return {"tokens": tokens}, 200, {"Cache-Control": "no-store"}


@bp.delete("/tokens")
@require(*ANY)
def revoke_token() -> Any:
    accounts.revoke_token(db.session, _bearer())
    return "", 204


@bp.delete("/tokens/<int:token_id>")
@require(*ANY)
def revoke_token_by_id(token_id: int) -> Any:
    accounts.revoke_token_by_id(db.session, user(), token_id, runtime.now())
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


@bp.patch("/users/<int:user_id>")
@require(*ADMIN)
def change_user(user_id: int) -> Any:
    account = accounts.find_user(db.session, user_id)
    changed = accounts.change_user(db.session, account, json_body(), user(), runtime.now())
    return {**user_json(changed), "active": changed.active}


@bp.post("/users/<int:user_id>/unlock")
@require(*ADMIN)
def unlock_user(user_id: int) -> Any:
    account = accounts.find_user(db.session, user_id)
    return {"user": user_json(account), "unlocked": throttle.unlock(db.session, account.username)}


@bp.get("/me")
@require(*ANY)
def me() -> Any:
    return user_json(user())
