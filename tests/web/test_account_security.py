"""Account security: login back-off, token expiry and revocation, sessions that end,
local-only redirects, password rules and the security headers."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crowd.services import accounts
from crowd.web.headers import HEADERS
from tests.conftest import Api, Clock

PASSWORD = "password-123"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def csrf_of(page: str) -> str:
    """The CSRF token of the first form on a rendered page."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/tokens", json={"username": username, "password": password})


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check the server runs (the costly step a guesser wants)."""
    seen: list[str] = []
    real = accounts.check_password_hash

    def counted(stored: str, password: str) -> bool:
        seen.append(password)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counted)
    return seen


def test_failed_logins_back_off_with_429_and_run_no_hash_while_waiting(
    client: FlaskClient, make_user: Any, clock: Clock, hashes: list[str],
) -> None:
    make_user("worker", username="target")
    for _ in range(2):  # two failures cost nothing
        assert login(client, "target", "wrong-guess").status_code == 401
    assert login(client, "target", "wrong-guess").status_code == 401  # the 3rd: 1 s to wait
    checked = len(hashes)
    refused = login(client, "target", PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.get_json()["error"]["code"] == "too_many_logins"
    assert len(hashes) == checked, "a refused try must not check the password"
    clock.advance(1.0)
    assert login(client, "target", "wrong-guess").status_code == 401  # then 2 s
    assert login(client, "target", PASSWORD).headers["Retry-After"] == "2"
    clock.advance(2.0)
    assert login(client, "target", PASSWORD).status_code == 201  # clears the account
    for _ in range(3):  # the count started again
        assert login(client, "target", "wrong-again").status_code == 401


def test_one_address_guessing_many_accounts_is_slowed_too(
    client: FlaskClient, make_user: Any, hashes: list[str],
) -> None:
    for n in range(20):  # each account stays under its own limit; the address does not
        assert login(client, f"nobody{n}", "guess-guess").status_code == 401
    refused = login(client, "someone-else", "guess-guess")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    other = client.post("/api/v1/tokens", json={"username": "x", "password": "y"},
                        environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 401  # another address is not held back


def test_an_admin_unlocks_an_account(client: FlaskClient, make_user: Any, manager: Api) -> None:
    user_id, _ = make_user("worker", username="locked")
    for _ in range(5):
        login(client, "locked", "wrong-guess")
    assert login(client, "locked").status_code == 429
    admin = manager.as_(make_user("admin")[1])
    assert manager.post(f"/users/{user_id}/unlock").status_code == 403
    unlocked = admin.post(f"/users/{user_id}/unlock")
    assert unlocked.status_code == 200 and unlocked.get_json()["unlocked"] is True
    assert login(client, "locked").status_code == 201


def test_the_login_form_backs_off_too(app: Flask, make_user: Any) -> None:
    make_user("worker", username="formuser")
    client = app.test_client()
    for _ in range(3):
        page = client.get("/login").get_data(as_text=True)
        token = csrf_of(page)
        last = client.post("/login", data={"username": "formuser", "password": "nope-nope",
                                           "csrf_token": token})
    assert last.status_code == 401
    page = client.get("/login").get_data(as_text=True)
    token = csrf_of(page)
    held = client.post("/login", data={"username": "formuser", "password": PASSWORD,
                                       "csrf_token": token})
    assert held.status_code == 429 and held.headers["Retry-After"] == "1"
    assert "Too many failed logins" in held.get_data(as_text=True)


def test_a_token_expires_says_when_and_is_not_cached(client: FlaskClient, make_user: Any,
                                                     clock: Clock) -> None:
    make_user("worker", username="holder")
    answer = login(client, "holder")
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["expires_at"] == "2026-01-31T12:00:00Z"  # 30 days on the test clock
    me = {"Authorization": f"Bearer {body['token']}"}
    clock.advance(30 * 86400 - 1)
    assert client.get("/api/v1/me", headers=me).status_code == 200
    clock.advance(1)
    assert client.get("/api/v1/me", headers=me).status_code == 401


def test_a_user_lists_and_revokes_only_their_own_tokens(client: FlaskClient, make_user: Any) -> None:
    make_user("worker", username="owner")
    make_user("worker", username="stranger")
    first, second = login(client, "owner").get_json(), login(client, "owner").get_json()
    theirs = login(client, "stranger").get_json()
    auth = {"Authorization": f"Bearer {first['token']}"}
    listed = client.get("/api/v1/tokens", headers=auth).get_json()["tokens"]
    assert [t["id"] for t in listed if t["current"]] == [first["id"]]
    assert {first["id"], second["id"]} <= {t["id"] for t in listed}
    assert theirs["id"] not in {t["id"] for t in listed}
    assert all(set(t) == {"id", "created_at", "expires_at", "revoked_at", "current"}
               for t in listed)
    assert client.delete(f"/api/v1/tokens/{theirs['id']}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/tokens/{second['id']}", headers=auth).status_code == 204
    gone = {"Authorization": f"Bearer {second['token']}"}
    assert client.get("/api/v1/me", headers=gone).status_code == 401
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {theirs['token']}"}).status_code == 200


@pytest.mark.parametrize("change", [{"active": False}, {"password": "a-brand-new-secret"}])
def test_deactivation_or_a_password_reset_ends_every_token(
    change: dict[str, Any], client: FlaskClient, make_user: Any, manager: Api,
) -> None:
    user_id, token = make_user("worker", username="changed")
    other = login(client, "changed").get_json()["token"]
    admin = manager.as_(make_user("admin")[1])
    assert manager.patch(f"/users/{user_id}", change).status_code == 403
    assert admin.patch(f"/users/{user_id}", change).status_code == 200
    for old in (token, other):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}
                          ).status_code == 401
    if "password" in change:
        assert login(client, "changed").status_code == 401
        assert login(client, "changed", change["password"]).status_code == 201
    else:
        assert login(client, "changed").status_code == 401
        assert admin.patch(f"/users/{user_id}", {"active": True}).status_code == 200
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 401  # reactivation brings no old token back


def _form_login(client: FlaskClient, username: str, query: str = "") -> Any:
    page = client.get("/login").get_data(as_text=True)
    token = csrf_of(page)
    return client.post(f"/login{query}", data={"username": username, "password": PASSWORD,
                                                "csrf_token": token})


@pytest.mark.parametrize("target", [
    "/\t/evil.example/", "//evil.example", "/\\evil.example", "https://evil.example/",
    "/\n/evil.example", "javascript:alert(1)", "evil.example", " /evil.example", "/\x00x",
])
def test_login_never_redirects_off_the_site(target: str, app: Flask, make_user: Any) -> None:
    from urllib.parse import quote

    make_user("worker", username="redirected")
    response = _form_login(app.test_client(), "redirected", f"?next={quote(target, safe='')}")
    if "\x00" in target:  # NUL in any query parameter is refused before the view
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/", response.headers["Location"]


def test_login_follows_a_local_next(app: Flask, make_user: Any) -> None:
    make_user("worker", username="local")
    response = _form_login(app.test_client(), "local", "?next=%2Fwork%2F7%3Fa%3D1")
    assert response.headers["Location"] == "/work/7?a=1"


def test_logout_and_deactivation_end_a_copied_session_cookie(
    app: Flask, make_user: Any, manager: Api,
) -> None:
    user_id, _ = make_user("worker", username="browser")
    first = app.test_client()
    assert _form_login(first, "browser").status_code == 302
    copy = app.test_client()
    copy.set_cookie("session", first.get_cookie("session").value)
    assert copy.get("/").status_code == 200
    page = first.get("/").get_data(as_text=True)
    token = csrf_of(page)
    assert first.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/").headers["Location"].startswith("/login")
    second = app.test_client()
    assert _form_login(second, "browser").status_code == 302
    assert second.get("/").status_code == 200
    admin = manager.as_(make_user("admin")[1])
    assert admin.patch(f"/users/{user_id}", {"active": False}).status_code == 200
    assert second.get("/").headers["Location"].startswith("/login")


@pytest.mark.parametrize(("password", "why"), [
    ("short-pw1", "10 to"),
    ("password123", "common"),
    ("QwertyUiop", "common"),
    ("1234567890", "common"),
    ("aaaaaaaaaaaa", "repeated"),
    ("newbie-secret-1", "username"),
])
def test_a_weak_password_is_refused_naming_why(password: str, why: str, manager: Api) -> None:
    response = manager.post("/users", {"username": "newbie", "password": password,
                                       "role": "worker"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_password" and why in error["message"]


def test_a_long_uncommon_password_is_accepted(manager: Api) -> None:
    response = manager.post("/users", {"username": "newbie", "password": "violet-kettle-47",
                                       "role": "worker"})
    assert response.status_code == 201


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/api/v1/nope", "/healthz",
                                  "/static/crowd.css", "/nope"])
def test_every_response_carries_the_security_headers(path: str, client: FlaskClient) -> None:
    response = client.get(path)
    for name, value in HEADERS.items():
        assert response.headers[name] == value, (path, name)
    response.close()
    policy = HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "script-src 'self'" in policy


def test_no_template_has_inline_script_or_style() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_logging_in_starts_a_new_session(app: Flask, make_user: Any) -> None:
    make_user("worker", username="fixated")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    before = csrf_of(page)
    with client.session_transaction() as cookie:
        cookie["planted"] = "by an attacker"  # what a fixation attack would leave behind
    answer = client.post("/login", data={"username": "fixated", "password": PASSWORD,
                                         "csrf_token": before})
    assert answer.status_code == 302
    with client.session_transaction() as cookie:
        assert "planted" not in cookie and cookie["_user_id"].endswith(":0")
    stale = client.post("/logout", data={"csrf_token": before})
    assert stale.status_code == 400  # the old session's CSRF token died with it
    assert client.get("/").status_code == 200
