"""CROWD_LOG_FORMAT=json: one JSON line per request, request ids, the 500 path, no secrets.

The lines are read from what the app writes to stderr (``capsys``), the stream
gunicorn's error log is in production; ``caplog`` is searched too for the secrets.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Blueprint, Flask

from crowd.web import request_log

ROUTE_NEXT = "/api/v1/projects/<int:project_id>/next"
FIELDS = {"time", "level", "request_id", "method", "route", "status", "duration_ms",
          "user_id", "client", "cpu_ms", "statements"}
BOOM = "kaboom-from-the-test-route"


pytestmark = pytest.mark.fresh_app  # its app is in JSON mode, with routes that raise


@pytest.fixture
def _json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CROWD_LOG_FORMAT", "json")
    yield
    request_log.configure_logging("text")  # the logger is process-wide: leave it as found


@pytest.fixture(autouse=True)
def log_app(_json_logs: None, app: Flask) -> Flask:
    """The test app in JSON mode, with routes that raise (here only, never in crowd)."""
    assert app.config["LOG_FORMAT"] == "json"
    app.config["PROPAGATE_EXCEPTIONS"] = False  # testing re-raises by default; serve a 500
    bp = Blueprint("request_log_test", __name__)

    @bp.route("/api/test-log/boom", methods=["GET", "POST"])
    def api_boom() -> Any:
        raise RuntimeError(BOOM)

    @bp.get("/test-log/boom")
    def page_boom() -> Any:
        raise RuntimeError(BOOM)

    app.register_blueprint(bp)
    return app


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every stderr line written since the last call, each of which must be JSON."""
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def _requests(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("logger") == "crowd.request"]


def _only_request(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    (line,) = _requests(_lines(capsys))
    return line


def _login(client: Any, username: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_an_api_request_logs_one_line_with_every_field(client, make_project, make_user,
                                                       capsys):
    project = make_project(n_items=2)
    worker_id, token = make_user("worker")
    capsys.readouterr()
    now = datetime.now(UTC)
    started = now.replace(microsecond=now.microsecond // 1000 * 1000)  # the log keeps ms
    response = client.post(f"/api/v1/projects/{project['id']}/next?why=not-logged",
                           headers={"Authorization": f"Bearer {token}",
                                    "X-Request-Id": "trace-42"})
    line = _only_request(capsys)
    assert FIELDS <= set(line)
    assert line["level"] == "info" and line["request_id"] == "trace-42"
    assert line["method"] == "POST" and line["route"] == ROUTE_NEXT
    assert line["status"] == response.status_code == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] == worker_id and line["client"] == "127.0.0.1"
    when = datetime.fromisoformat(line["time"])
    assert line["time"].endswith("Z") and when.utcoffset() == UTC.utcoffset(None)
    assert started <= when <= datetime.now(UTC)  # stamped while the request ran
    assert response.headers["X-Request-Id"] == "trace-42"


def test_a_request_line_counts_its_statements_and_its_cpu_time(app, client, make_project,
                                                             make_user, capsys):
    from sqlalchemy import event

    project = make_project(n_items=2)
    _worker_id, token = make_user("worker")
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = app.extensions["crowd_db"].engine
    capsys.readouterr()
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post(f"/api/v1/projects/{project['id']}/next",
                               headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    line = _only_request(capsys)
    assert line["statements"] == len(seen) > 0
    assert isinstance(line["cpu_ms"], float) and 0 < line["cpu_ms"] <= line["duration_ms"] + 0.01


def test_an_unmatched_path_is_logged_as_the_path_without_its_query(client, capsys):
    response = client.get("/no/such/page?q=never-logged")
    line = _only_request(capsys)
    assert response.status_code == 404
    assert (line["route"], line["status"], line["user_id"]) == ("/no/such/page", 404, None)
    assert line["request_id"] == response.headers["X-Request-Id"]


def test_a_browser_user_is_logged_by_id(app, client, make_user, capsys):
    user_id, _token = make_user("worker", username="page-worker")
    _login(client, "page-worker", "password-123")
    capsys.readouterr()
    client.get("/")
    line = _only_request(capsys)
    assert (line["route"], line["user_id"], line["method"]) == ("/", user_id, "GET")


@pytest.mark.parametrize("offered", ["a" * 128, "abc-DEF_123.~!#$%&'*+^`|", "7"])
def test_a_sane_incoming_request_id_is_kept(client, capsys, offered):
    response = client.get("/api/v1/me", headers={"X-Request-Id": offered})
    assert response.headers["X-Request-Id"] == offered
    assert _only_request(capsys)["request_id"] == offered


@pytest.mark.parametrize("offered", ["a" * 129, "has space", "quo\"te", "<script>", "",
                                     "semi;colon", "caf\u00e9", "tab\there"])
def test_a_bad_incoming_request_id_is_replaced(client, capsys, offered):
    response = client.get("/api/v1/me", headers={"X-Request-Id": offered})
    new_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", new_id)
    line = _only_request(capsys)
    assert line["request_id"] == new_id
    assert offered == "" or offered not in capsys.readouterr().err


def test_requests_without_an_id_get_distinct_ones(client, capsys):
    ids = {client.get("/api/v1/me").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3
    assert {line["request_id"] for line in _requests(_lines(capsys))} == ids


def test_an_unhandled_error_logs_its_traceback_and_answers_with_the_id_only(client, capsys):
    response = client.get("/api/test-log/boom", headers={"X-Request-Id": "boom-1"})
    assert response.status_code == 500 and response.headers["X-Request-Id"] == "boom-1"
    assert response.get_json() == {"error": {
        "code": "internal", "request_id": "boom-1",
        "message": "an unexpected error happened; it was logged"}}
    body = response.get_data(as_text=True)
    assert BOOM not in body and "Traceback" not in body
    lines = _lines(capsys)
    (error,) = [line for line in lines if line["level"] == "error"]
    assert error["request_id"] == "boom-1"
    assert error["traceback"].startswith("Traceback (most recent call last)")
    assert f"RuntimeError: {BOOM}" in error["traceback"]
    (request_line,) = _requests(lines)
    assert (request_line["request_id"], request_line["status"]) == ("boom-1", 500)
    assert request_line["route"] == "/api/test-log/boom"


def test_an_unhandled_error_on_a_page_names_the_id_in_plain_text(client, capsys):
    response = client.get("/test-log/boom")
    request_id = response.headers["X-Request-Id"]
    body = response.get_data(as_text=True)
    assert response.status_code == 500 and request_id in body
    assert BOOM not in body and "Traceback" not in body
    (error,) = [line for line in _lines(capsys) if line["level"] == "error"]
    assert error["request_id"] == request_id and BOOM in error["traceback"]


def test_no_password_token_cookie_or_item_data_is_logged(app, client, manager, capsys,
                                                         caplog):
    from crowd.extensions import db
    from crowd.services.accounts import create_user, issue_token

    password = "pw-canary-Zq8rT4vN"
    with app.app_context():
        account = create_user(db.session, "canary-user", password, "worker")
        token = issue_token(db.session, account)
    _login(client, "canary-user", password)
    cookie = client.get_cookie("session").value
    secrets = {"password": password, "token": token, "cookie": cookie,
               "item text": "item-canary-text-5b1e", "external id": "ext-canary-9d2c",
               "query": "query-canary-31f0", "header": "header-canary-77aa"}
    created = manager.post("/projects", {"name": "canary", "labels": ["a", "b"],
                                         "qualification_size": 0, "gold_rate": 0.0})
    project_id = created.get_json()["id"]
    items = [{"external_id": secrets["external id"], "data": {"text": secrets["item text"]}}]
    assert manager.post(f"/projects/{project_id}/items", items).status_code == 201
    headers = {"Authorization": f"Bearer {token}", "X-Canary": secrets["header"]}
    query = f"?q={secrets['query']}&token={token}"
    assert client.post(f"/api/v1/projects/{project_id}/next{query}",
                       headers=headers).status_code == 200
    assert client.get(f"/work/{project_id}{query}", headers=headers).status_code == 200
    client.post(f"/api/test-log/boom{query}", headers=headers,
                json={"password": password, "data": secrets["item text"]})
    client.get(f"/no/such/path{query}", headers=headers)
    stderr = capsys.readouterr().err
    assert len(_requests([json.loads(x) for x in stderr.splitlines() if x.strip()])) >= 8
    logged = stderr + caplog.text
    for what, secret in secrets.items():
        assert secret not in logged, f"the {what} reached the log"
    assert "Bearer" not in logged and "session=" not in logged


def test_text_mode_writes_no_request_lines_but_still_answers_with_an_id(
        database_url, monkeypatch, capsys):
    from config import TestConfig
    from crowd import create_app

    monkeypatch.delenv("CROWD_LOG_FORMAT")
    text_app = create_app(TestConfig(database_url))
    try:
        assert text_app.config["LOG_FORMAT"] == "text"
        response = text_app.test_client().get("/api/v1/me", headers={"X-Request-Id": "txt-1"})
        assert response.headers["X-Request-Id"] == "txt-1"
        assert "crowd.request" not in capsys.readouterr().err
    finally:
        text_app.extensions["crowd_db"].engine.dispose()


def test_an_unknown_log_format_is_refused(database_url, monkeypatch):
    from config import TestConfig
    from crowd import create_app

    monkeypatch.setenv("CROWD_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="CROWD_LOG_FORMAT must be one of text, json"):
        create_app(TestConfig(database_url))
