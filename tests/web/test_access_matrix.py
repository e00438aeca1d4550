"""Who reaches what: every route of the URL map (API, pages, probes) against every
kind of caller, with the status each must get.

The callers: anonymous; a user of a wrong role; a member of the project in the
route's role; a user of that role who is not a member (another team); that
role's member after deactivation; that role's member with an expired token (a
page: a session cookie from before a logout); an admin. A route added without an
entry in ``RULES`` fails ``test_every_route_has_an_access_rule``.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import config
from crowd import create_app
from tests.web.access_world import PASSWORD, Person, World, build_world
from tests.web.conftest import kept_app, snapshot

COLUMNS = ("anonymous", "wrong_role", "member", "non_member", "deactivated", "expired", "admin")
WRONG = {"worker": "manager", "expert": "worker", "manager": "worker", "any": None,
         "admin": "manager", "public": None}


@dataclass(frozen=True)
class Rule:
    """``role``: whose member may call it (``any`` user, ``public``: anyone, ``admin``);
    ``project``: whether it is about the world's project (outsiders get 404)."""

    role: str
    path: Callable[[World, Person | None], str]
    body: Callable[[World, Person | None], Any] | None = None
    project: bool = True
    admin: bool = True  # whether an admin may (worker-only routes: no)
    writes: bool = False  # success changes the database (so it runs on a fresh world)
    ok: int | None = None  # the success status, when not any 2xx


def p(suffix: str = "") -> Callable[[World, Person | None], str]:
    return lambda w, _: f"/projects/{w.project}{suffix}"


A = "/api/v1"
PR = f"{A}/projects/<>"
API: dict[tuple[str, str], Rule] = {
    ("POST", f"{A}/tokens"): Rule("public", lambda w, c: "/tokens", lambda w, c: {
        "username": w.people["worker"].username, "password": PASSWORD}, project=False,
        writes=True),
    ("GET", f"{A}/tokens"): Rule("any", lambda w, c: "/tokens", project=False),
    ("DELETE", f"{A}/tokens"): Rule("any", lambda w, c: "/tokens", project=False, writes=True),
    ("DELETE", f"{A}/tokens/<>"): Rule(
        "any", lambda w, c: f"/tokens/{(c or w.people['worker']).spare_token}", project=False,
        writes=True),
    ("POST", f"{A}/users"): Rule("manager", lambda w, c: "/users", lambda w, c: {
        "username": "matrix-new", "password": PASSWORD, "role": "worker"}, project=False,
        writes=True),
    ("PATCH", f"{A}/users/<>"): Rule("admin", lambda w, c: f"/users/{w.people['worker'].id}",
                                      lambda w, c: {"active": True}, project=False, writes=True),
    ("POST", f"{A}/users/<>/unlock"): Rule(
        "admin", lambda w, c: f"/users/{w.people['worker'].id}/unlock", project=False),
    ("GET", f"{A}/me"): Rule("any", lambda w, c: "/me", project=False),
    ("GET", f"{A}/openapi.json"): Rule("public", lambda w, c: "/openapi.json", project=False),
    ("GET", f"{A}/projects"): Rule("any", lambda w, c: "/projects", project=False),
    ("POST", f"{A}/projects"): Rule("manager", lambda w, c: "/projects", lambda w, c: {
        "name": "another", "labels": ["x", "y"]}, project=False, writes=True),
    ("GET", PR): Rule("manager", p()),
    ("PATCH", PR): Rule("manager", p(), lambda w, c: {"guidelines": "look twice"}, writes=True),
    ("POST", f"{PR}/items"): Rule("manager", p("/items"), lambda w, c: [
        {"external_id": "fresh", "data": {"text": "fresh"}}], writes=True),
    ("GET", f"{PR}/results"): Rule("manager", p("/results?format=json")),
    ("GET", f"{PR}/labels"): Rule("manager", p("/labels?format=jsonl")),
    ("GET", f"{PR}/workers"): Rule("manager", p("/workers")),
    ("GET", f"{PR}/workers/<>"): Rule(
        "manager", lambda w, c: f"/projects/{w.project}/workers/{w.people['worker'].id}"),
    ("POST", f"{PR}/workers/<>/state"): Rule(
        "manager", lambda w, c: f"/projects/{w.project}/workers/{w.people['worker'].id}/state",
        lambda w, c: {"state": "active", "reason": "matrix"}, writes=True),
    ("POST", f"{PR}/aggregate"): Rule("manager", p("/aggregate"), writes=True),
    ("GET", f"{PR}/quality"): Rule("manager", p("/quality")),
    ("GET", f"{PR}/members"): Rule("manager", p("/members")),
    ("POST", f"{PR}/members"): Rule("manager", p("/members"), lambda w, c: {
        "usernames": [w.people["outsider-worker"].username]}, writes=True),
    ("DELETE", f"{PR}/members/<>"): Rule(
        "manager", lambda w, c: f"/projects/{w.project}/members/{w.people['worker'].id}",
        writes=True),
    ("POST", f"{PR}/next"): Rule("worker", p("/next"), admin=False, writes=True),
    ("GET", f"{PR}/me"): Rule("worker", p("/me"), admin=False),
    ("POST", f"{A}/assignments/<>/answer"): Rule(
        "worker", lambda w, c: f"/assignments/{w.assignment}/answer",
        lambda w, c: {"label": "a"}, admin=False, writes=True),
    ("GET", f"{A}/reviews"): Rule("expert", lambda w, c: f"/reviews?project={w.project}"),
    ("POST", f"{A}/reviews/<>"): Rule("expert", lambda w, c: f"/reviews/{w.item}",
                                       lambda w, c: {"label": "b"}, writes=True),
}
# --- undo of an answer (crowd/services/undo.py): the world's project does not allow it,
# so its member gets that refusal (409 undo_refused) and nothing changes ---
API[("POST", f"{A}/assignments/<>/undo")] = Rule(
    "worker", lambda w, c: f"/assignments/{w.assignment}/undo", admin=False, ok=409)
# --- end of undo's block ---
PAGES: dict[tuple[str, str], Rule] = {
    ("GET", "/login"): Rule("public", lambda w, c: "/login", project=False),
    ("POST", "/login"): Rule("public", lambda w, c: "/login", lambda w, c: {
        "username": w.people["worker"].username, "password": PASSWORD}, project=False,
        writes=True, ok=302),
    ("POST", "/logout"): Rule("public", lambda w, c: "/logout", lambda w, c: {},
                              project=False, writes=True, ok=302),
    ("GET", "/"): Rule("any", lambda w, c: "/", project=False),
    ("GET", "/work/<>"): Rule("worker", lambda w, c: f"/work/{w.project}", admin=False,
                              writes=True),
    ("POST", "/work/<>/answer"): Rule(
        "worker", lambda w, c: f"/work/{w.project}/answer",
        lambda w, c: {"assignment_id": str(w.assignment), "label": "a", "duration_ms": "4000"},
        admin=False, writes=True, ok=302),
    ("GET", "/manage/<>"): Rule("manager", lambda w, c: f"/manage/{w.project}"),
    ("POST", "/manage/<>/workers/<>/state"): Rule(
        "manager", lambda w, c: f"/manage/{w.project}/workers/{w.people['worker'].id}/state",
        lambda w, c: {"state": "suspended", "reason": "matrix"}, writes=True, ok=302),
    ("POST", "/manage/<>/aggregate"): Rule(
        "manager", lambda w, c: f"/manage/{w.project}/aggregate", lambda w, c: {},
        writes=True, ok=302),
    ("GET", "/manage/<>/download/<>.<>"): Rule(
        "manager", lambda w, c: f"/manage/{w.project}/download/results.csv"),
    ("GET", "/review/<>"): Rule("expert", lambda w, c: f"/review/{w.project}"),
    ("POST", "/review/<>/<>"): Rule(
        "expert", lambda w, c: f"/review/{w.project}/{w.item}", lambda w, c: {"label": "b"},
        writes=True, ok=302),
    ("GET", "/static/<>"): Rule("public", lambda w, c: "/static/crowd.css", project=False),
    ("GET", "/healthz"): Rule("public", lambda w, c: "/healthz", project=False),
    ("GET", "/readyz"): Rule("public", lambda w, c: "/readyz", project=False),
}
# --- what every page shares (base.html's helper): the favicon browsers ask for ---
PAGES[("GET", "/favicon.ico")] = Rule("public", lambda w, c: "/favicon.ico", project=False)
# --- end of the shared pages' block ---
# --- the manager's dashboard, workers, worker and quality pages (dashboard helper) ---
PAGES |= {
    ("GET", "/manage/<>/workers"): Rule("manager", lambda w, c: f"/manage/{w.project}/workers"),
    ("GET", "/manage/<>/workers/<>"): Rule(
        "manager", lambda w, c: f"/manage/{w.project}/workers/{w.people['worker'].id}"),
    ("GET", "/manage/<>/quality"): Rule("manager", lambda w, c: f"/manage/{w.project}/quality"),
}
# --- end of the dashboard pages' block ---
# --- the worker's pages (issue 10, point 1) ----------------------------------------------
PAGES.update({
    # The task fragment the page's script swaps in: it reads, never reserves.
    ("GET", "/work/<>/task"): Rule("worker", lambda w, c: f"/work/{w.project}/task",
                                   admin=False),
})
# --- end of the worker's pages -------------------------------------------------------------
# --- the expert's review pages (review helper): one item, skip, history ---
PAGES |= {
    ("GET", "/review/<>/<>"): Rule("expert", lambda w, c: f"/review/{w.project}/{w.item}"),
    # A skip is kept in the session, never in the database.
    ("POST", "/review/<>/<>/skip"): Rule(
        "expert", lambda w, c: f"/review/{w.project}/{w.item}/skip", lambda w, c: {}, ok=302),
    ("POST", "/review/<>/unskip"): Rule(
        "expert", lambda w, c: f"/review/{w.project}/unskip", lambda w, c: {}, ok=302),
    ("GET", "/review/<>/history"): Rule("expert", lambda w, c: f"/review/{w.project}/history"),
}
# --- end of the review pages' block ---
# --- the manager's project, member and item pages (projects helper) ---
PAGES |= {
    ("GET", "/projects"): Rule("manager", lambda w, c: "/projects", project=False),
    ("GET", "/projects/new"): Rule("manager", lambda w, c: "/projects/new", project=False),
    ("POST", "/projects/new"): Rule("manager", lambda w, c: "/projects/new", lambda w, c: {
        "name": "matrix page", "labels": "a\nb", "enrollment": "open"}, project=False,
        writes=True, ok=303),
    ("GET", "/projects/<>/edit"): Rule("manager", p("/edit")),
    ("POST", "/projects/<>/edit"): Rule("manager", p("/edit"), lambda w, c: {
        "name": "matrix", "labels": "a\nb", "enrollment": "invite", "guidelines": "look"},
        writes=True, ok=303),
    ("GET", "/projects/<>/members"): Rule("manager", p("/members")),
    ("POST", "/projects/<>/members"): Rule("manager", p("/members"), lambda w, c: {
        "usernames": w.people["outsider-worker"].username, "role": "worker"},
        writes=True, ok=303),
    ("POST", "/projects/<>/members/<>/remove"): Rule(
        "manager", lambda w, c: f"/projects/{w.project}/members/{w.people['worker'].id}/remove",
        lambda w, c: {}, writes=True, ok=303),
    ("POST", "/projects/<>/members/enrollment"): Rule(
        "manager", p("/members/enrollment"), lambda w, c: {"enrollment": "invite"},
        writes=True, ok=303),
    ("GET", "/projects/<>/items"): Rule("manager", p("/items")),
    ("POST", "/projects/<>/items"): Rule("manager", p("/items"), lambda w, c: {
        "file": (io.BytesIO(b"external_id,text\nmatrix-page,hi\n"), "items.csv")},
        writes=True, ok=303),
}
# --- end of the project pages' block ---
RULES = {**API, **PAGES}


def _routes() -> set[tuple[str, str]]:
    app = create_app(config.TestConfig("sqlite://"))  # lays out the URL map only
    found = set()
    for rule in app.url_map.iter_rules():
        shape = re.sub(r"<[^>]+>", "<>", rule.rule)
        found |= {(method, shape) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


ROUTES = sorted(_routes())


def test_every_route_has_an_access_rule() -> None:
    unlisted = sorted(set(ROUTES) - set(RULES))
    assert not unlisted, f"add these to RULES in tests/web/test_access_matrix.py: {unlisted}"
    assert not set(RULES) - set(ROUTES), "rules for routes that are gone"


def expected(rule: Rule, column: str, api: bool) -> int | str:
    """The status for a cell, or "ok" for success (``rule.ok`` or any 2xx)."""
    signed_out = 401 if api else 302
    if rule.role == "public":
        return "ok"
    if column in ("anonymous", "deactivated", "expired"):
        return signed_out
    if column == "admin":
        return "ok" if rule.admin else 403
    if column == "wrong_role":
        return 403 if WRONG[rule.role] else "ok"
    if column == "non_member":
        if rule.role == "admin":
            return 403  # a manager, however placed, is not an admin
        return 404 if rule.project else "ok"
    return "ok"


CELLS = [(method, path, column) for method, path in ROUTES for column in COLUMNS]


def writes_on_success(method: str, route: str, column: str) -> bool:
    rule = RULES.get((method, route))
    return bool(rule and rule.writes and expected(rule, column, route.startswith(A)) == "ok")


REFUSALS = [cell for cell in CELLS if not writes_on_success(*cell)]
WRITING_SUCCESSES = [cell for cell in CELLS if writes_on_success(*cell)]


def _caller(world: World, rule: Rule, column: str) -> Person | None:
    if column == "wrong_role":
        return world.people[WRONG[rule.role] or "worker"]
    role = {"any": "worker", "public": "worker", "admin": "manager"}.get(rule.role, rule.role)
    if rule.role == "admin" and column == "member":
        return world.people["admin"]
    return world.caller(column, role)


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def send(client: FlaskClient, world: World, method: str, route: str, column: str) -> Any:
    rule = RULES[(method, route)]
    caller = _caller(world, rule, column)
    body = rule.body(world, caller) if rule.body else None
    path = rule.path(world, caller)
    if route.startswith(A):
        headers = {"Authorization": f"Bearer {caller.token}"} if caller else {}
        return client.open(f"{A}{path}", method=method, headers=headers,
                           **({} if body is None else {"json": body}))
    if caller is not None:
        version = caller.session_version - (1 if column == "expired" else 0)
        with client.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = f"{caller.id}:{version}", True
    if method == "POST":
        return client.post(path, data={**(body or {}), "csrf_token": _csrf(client)})
    return client.open(path, method=method)


def check(response: Any, want: int | str, rule: Rule, api: bool) -> None:
    shown = response.get_data(as_text=True)[:300]
    if want == "ok":
        if rule.ok is not None:
            assert response.status_code == rule.ok, (response.status_code, shown)
        else:
            assert 200 <= response.status_code < 300, (response.status_code, shown)
        return
    assert response.status_code == want, (response.status_code, shown)
    if api:
        assert response.get_json()["error"]["code"] in (
            {401: "unauthorized", 403: "forbidden", 404: "not_found"}[int(want)],)
    elif want == 302:
        assert "/login" in response.headers["Location"], response.headers["Location"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def kept_world(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World, Any]]:
    """One world per backend for the refusals: each must leave it exactly as it was."""
    with kept_app(request, tmp_path_factory) as app:
        world = build_world(app)
        yield app, world, snapshot(app)


@pytest.mark.parametrize(("method", "route", "column"), REFUSALS,
                         ids=[f"{m} {r} {c}" for m, r, c in REFUSALS])
def test_refusals_and_reads_change_nothing(method: str, route: str, column: str,
                                           kept_world: tuple[Flask, World, Any]) -> None:
    rule = RULES.get((method, route))
    assert rule is not None, f"{method} {route} has no access rule"
    api = route.startswith(A)
    want = expected(rule, column, api)
    app, world, before = kept_world
    response = send(app.test_client(), world, method, route, column)
    check(response, want, rule, api)
    response.close()  # a static file is streamed from an open file
    assert snapshot(app) == before, "a refused (or read-only) request wrote to the database"


@pytest.mark.parametrize(("method", "route", "column"), WRITING_SUCCESSES,
                         ids=[f"{m} {r} {c}" for m, r, c in WRITING_SUCCESSES])
def test_successes_that_write_on_a_fresh_world(method: str, route: str, column: str,
                                                app: Flask) -> None:
    world = build_world(app, lapsed=column in ("deactivated", "expired"))
    rule = RULES[(method, route)]
    check(send(app.test_client(), world, method, route, column), "ok", rule, route.startswith(A))
