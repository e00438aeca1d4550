"""The OpenAPI operations of project teams and account security (tokens, members,
account changes); ``crowd.web.api.openapi`` merges them into the document."""
from __future__ import annotations

from typing import Any, Callable

from crowd.web.api.openapi_schemas import (
    B,
    ID,
    I,
    S,
    TIME,
    Schema,
    arr,
    obj,
    ref,
)

MEMBER = obj("user_id", "username", "role", "added_at", "added_by", "removed_at", "joined",
             user_id=I, username=S, role={"enum": ["manager", "expert", "worker"]},
             added_at=TIME, added_by={"anyOf": [I, {"type": "null"}]}, removed_at=TIME,
             joined={"enum": ["listed", "open"]})
NEW_MEMBERS = {"type": "object", "additionalProperties": False, "properties": {
    "user_id": ID, "username": S, "usernames": arr(S, minItems=1, maxItems=1000),
    "role": {"enum": ["manager", "expert", "worker"]}}}
TOKEN_ROW = obj("id", "created_at", "expires_at", "revoked_at", "current", id=I,
                created_at=TIME, expires_at=TIME, revoked_at=TIME, current=B)
USER_CHANGE = {"type": "object", "additionalProperties": False, "minProperties": 1,
               "properties": {"active": B, "password": S}}
NOT_A_MEMBER = ("No such project, or one the caller is not a member of (a project of another "
                "team answers exactly as one that does not exist).")


def access_paths(op: Callable[..., dict[str, Any]], roles: dict[str, tuple[str, ...]]
                 ) -> dict[str, Any]:
    """The team and account operations, built with ``openapi.op``."""
    manager, any_user, admin = roles["manager"], roles["any_user"], ("admin",)
    pid = ("project_id",)
    return {
        "/tokens/{token_id}": {"delete": op(
            "Revoke one of the caller's own tokens", any_user, 204, path=("token_id",),
            why={404: "No such token of the caller's (another user's is not found either)."})},
        "/users/{user_id}": {"patch": op(
            "Deactivate or reactivate a user, or set a new password; deactivating or a new "
            "password ends every session and token of the user", admin,
            answer=obj("id", "username", "role", "active", id=I, username=S, role=S, active=B),
            body=USER_CHANGE, path=("user_id",), why={
                422: "Unknown field (`unknown_field`), `invalid_active`, `invalid_password` "
                     "(under 10 characters or a common password), `invalid_body`."})},
        "/users/{user_id}/unlock": {"post": op(
            "Clear a user's failed logins, ending a login back-off", admin,
            answer=obj("user", "unlocked", user=ref("User"), unlocked=B),
            path=("user_id",))},
        "/projects/{project_id}/members": {
            "get": op("The project's members: listed ones (current and removed) and workers "
                      "who joined an open project by working", manager,
                      answer=obj("members", members=arr(MEMBER)), path=pid,
                      why={404: NOT_A_MEMBER}),
            "post": op("Add members by user_id, username or a list of usernames (all or "
                       "none); each gets their account's role", manager, 201,
                       obj("members", members=arr(MEMBER)), body=NEW_MEMBERS, path=pid,
                       why={404: NOT_A_MEMBER,
                            422: "Unknown users (`unknown_user`, details: the names), a "
                                 "role that is not the account's or an admin "
                                 "(`invalid_role`), `missing_field`, `unknown_field`, "
                                 "`invalid_user`, `invalid_body`."}),
        },
        "/projects/{project_id}/members/{user_id}": {"delete": op(
            "Remove a member: their leases are released, their labels kept; a removed "
            "worker cannot rejoin an open project", manager, 204,
            path=("project_id", "user_id"),
            why={404: NOT_A_MEMBER + " Or the user is not a member."})},
    }


TOKENS: Schema = obj("tokens", tokens=arr(TOKEN_ROW))
