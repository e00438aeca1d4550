"""Browsers get crowd's own error pages (the layout, plain words, a way home or back;
never framework text or a traceback); the API and scripts asking for JSON keep the JSON
error bodies; ``/favicon.ico`` is crowd's icon."""
from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from crowd.domain.errors import InvalidInput, TooManyRequests
from tests.web.test_edge_pages import login

pytestmark = pytest.mark.fresh_app  # its app has routes that raise
SECRET = "do-not-show-this-internal-detail"
FRAMEWORK = ("werkzeug", "The requested URL was not found on the server",
             "The method is not allowed", "Traceback", "Internal Server Error</h1>")


@pytest.fixture(autouse=True)
def raising_app(app: Flask) -> Flask:
    """The test app with routes that fail in each way (here only, never in crowd)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # testing re-raises by default; serve a 500
    bp = Blueprint("error_pages_test", __name__)

    @bp.get("/test-errors/boom")
    def boom() -> Any:
        raise RuntimeError(SECRET)

    @bp.get("/test-errors/locked")
    def locked() -> Any:
        raise sqlite3.OperationalError("database is locked")

    @bp.get("/test-errors/slow-down")
    def slow_down() -> Any:
        raise TooManyRequests("too many tries; wait a little", retry_after=7)

    @bp.get("/test-errors/invalid")
    def invalid() -> Any:
        raise InvalidInput("the colour must be red or blue", code="invalid_colour")

    app.register_blueprint(bp)
    return app


def _page(response: Any, status: int, title: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in body, body[:500]
    assert 'href="/static/crowd.css"' in body and 'rel="icon"' in body  # the layout
    assert 'href="/">Go to the home page</a>' in body  # the way home
    for text in FRAMEWORK:
        assert text not in body, text
    assert "Content-Security-Policy" in response.headers
    return body


@pytest.fixture
def worker_client(app: Flask, make_user: Any) -> FlaskClient:
    make_user("worker", username="lost-worker")
    client = app.test_client()
    login(client, "lost-worker")
    return client


def test_404_is_a_page_with_a_way_home(client: FlaskClient) -> None:
    body = _page(client.get("/no/such/page"), 404, "Page not found")
    assert "Go back" not in body  # nowhere on this site to go back to


def test_404_offers_the_page_one_came_from_and_never_another_site(client: FlaskClient) -> None:
    here = client.get("/missing", headers={"Referer": "http://localhost/login?next=%2F"})
    assert 'href="/login?next=%2F">Go back</a>' in _page(here, 404, "Page not found")
    away = client.get("/missing", headers={"Referer": "https://evil.example/login"})
    assert "Go back" not in _page(away, 404, "Page not found")


def test_a_project_one_may_not_reach_is_a_404_page(worker_client: FlaskClient) -> None:
    body = _page(worker_client.get("/work/2147483000"), 404, "Page not found")
    assert "lost-worker" in body  # the usual header: who is signed in, and the nav


def test_403_is_a_page_for_the_wrong_role(worker_client: FlaskClient, make_project: Any) -> None:
    project = make_project(n_items=1)
    body = _page(worker_client.get(f"/manage/{project['id']}"), 403,
                 "You may not open this page")
    assert "lost-worker" in body and "Log out" in body


def test_405_is_a_page_and_says_what_is_allowed(client: FlaskClient) -> None:
    response = client.get("/logout")
    _page(response, 405, "This page cannot be used that way")
    assert "POST" in response.headers["Allow"]


def test_a_form_without_its_csrf_token_is_a_400_page(client: FlaskClient) -> None:
    body = _page(client.post("/login", data={"username": "a", "password": "b"}), 400,
                 "This request could not be used")
    assert "This form has expired" in body


def test_429_is_a_page_with_retry_after(client: FlaskClient) -> None:
    response = client.get("/test-errors/slow-down")
    assert "too many tries; wait a little" in _page(response, 429, "Too many requests")
    assert response.headers["Retry-After"] == "7"


def test_a_refusal_of_the_domain_on_a_page_is_a_page(client: FlaskClient) -> None:
    body = _page(client.get("/test-errors/invalid"), 422, "That could not be used")
    assert "the colour must be red or blue" in body


def test_500_shows_the_request_id_and_never_the_error(worker_client: FlaskClient) -> None:
    response = worker_client.get("/test-errors/boom")
    body = _page(response, 500, "Something went wrong")
    assert SECRET not in body and "RuntimeError" not in body
    assert response.headers["X-Request-Id"] in body
    assert "lost-worker" not in body  # bare: the user is not loaded on a failing request


def test_503_is_a_bare_page_with_retry_after(worker_client: FlaskClient) -> None:
    response = worker_client.get("/test-errors/locked")
    body = _page(response, 503, "crowd is unavailable just now")
    assert response.headers["Retry-After"]
    assert "lost-worker" not in body and "database is locked" not in body


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/v1/no-such-thing", 404, "not_found"),
    ("/test-errors/invalid", 422, "invalid_colour"),
    ("/test-errors/locked", 503, "database_unavailable"),
])
def test_the_api_and_json_clients_keep_json_bodies(client: FlaskClient, path: str, status: int,
                                                   code: str) -> None:
    headers = {} if path.startswith("/api/") else {"Accept": "application/json"}
    response = client.get(path, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_favicon_is_served_and_linked(client: FlaskClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data().lstrip().startswith(b"<svg")
    icon.close()
    login_page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in login_page
