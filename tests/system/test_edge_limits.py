"""Body and header limits on a real gunicorn server, where chunked bodies really arrive.

gunicorn de-chunks a ``Transfer-Encoding: chunked`` body and sets
``wsgi.input_terminated``; werkzeug alone would then stop reading at
``MAX_CONTENT_LENGTH`` and hand the app the first part as if it were the whole
(an upload cut mid-row, imported). Here the server runs with a small
``CROWD_MAX_IMPORT_BYTES`` so the bodies just over and just under it are quick
to send: over is 413 JSON and imports nothing; under is imported whole. A 16 KB
header is the app's 431 JSON, not gunicorn's HTML page.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import config
from crowd import create_app, migrate
from tests.databases import scratch_postgres
from tests.system.server import GunicornServer

LIMIT = 64 * 1024
CHUNK = 4096
ACCESS_5XX = re.compile(r'" 5\d\d ')


class Served:
    """A running server, a manager's token, and a way to make empty projects."""

    def __init__(self, server: GunicornServer, token: str) -> None:
        self.server, self.token = server, token
        self.projects = 0

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
        conn = self.server.connection()
        try:
            payload = None if body is None else json.dumps(body).encode()
            sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
            if payload is not None:
                sent["Content-Type"] = "application/json"
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            mimetype = response.getheader("Content-Type", "")
            parsed = json.loads(raw) if mimetype.startswith("application/json") else raw
            return response.status, mimetype, parsed
        finally:
            conn.close()

    def new_project(self) -> int:
        self.projects += 1
        status, _, body = self.call("POST", "/api/v1/projects",
                                    {"name": f"p{self.projects}", "labels": ["a", "b"]})
        assert status == 201, body
        return int(body["id"])

    def items(self, project: int) -> int:
        status, _, body = self.call("GET", f"/api/v1/projects/{project}")
        assert status == 200, body
        return int(body["progress"]["items"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log_dir = tmp_path_factory.mktemp("edge-limits")
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{log_dir / 'crowd.sqlite'}"])
    else:
        if not _postgres_wanted():
            pytest.skip("CROWD_TEST_DATABASE_URL is not set")
        urls = scratch_postgres()
    for url in urls:
        migrate.upgrade(url)
        token = _manager_token(url)
        with GunicornServer(url, log_dir=log_dir, name=request.param, workers=1, threads=2,
                            env={"CROWD_MAX_IMPORT_BYTES": str(LIMIT)}) as server:
            yield Served(server, token)
            assert not ACCESS_5XX.search(server.log_text()), server.log_tail()


def _postgres_wanted() -> bool:
    from tests.databases import in_ci, postgres_configured

    return postgres_configured() or in_ci()


def _manager_token(url: str) -> str:
    from crowd.extensions import db
    from crowd.services.accounts import create_user, issue_token

    app = create_app(config.TestConfig(url))
    try:
        with app.app_context():
            return issue_token(db.session, create_user(db.session, "boss", "password-123",
                                                       "manager"))
    finally:
        app.extensions["crowd_db"].engine.dispose()


def send_chunked(served: Served, path: str, raw: bytes, content_type: str) -> tuple[int, Any]:
    """POST ``raw`` with ``Transfer-Encoding: chunked`` (no Content-Length), CHUNK bytes a time."""
    conn = served.server.connection()
    try:
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Bearer {served.token}")
        conn.putheader("Content-Type", content_type)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for start in range(0, len(raw), CHUNK):
                piece = raw[start:start + CHUNK]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) before the last chunk; read that answer
        response = conn.getresponse()
        body = response.read()
        assert response.getheader("Content-Type", "").startswith("application/json"), body
        return response.status, json.loads(body)
    finally:
        conn.close()


def csv_rows(target_bytes: int) -> tuple[bytes, int]:
    """A CSV upload of about ``target_bytes`` (never over it) and its number of rows."""
    header, rows = b"external_id,text\n", []
    size = len(header)
    while True:
        row = b"w%06d,some words to label in a row\n" % len(rows)
        if size + len(row) > target_bytes:
            return header + b"".join(rows), len(rows)
        rows.append(row)
        size += len(row)


def multipart(raw: bytes, boundary: str = "crowd-edge-boundary") -> tuple[bytes, str]:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"items.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body += raw + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("kind", ["csv", "multipart"])
def test_chunked_upload_just_over_the_limit_is_413_and_imports_nothing(
    kind: str, served: Served,
) -> None:
    project = served.new_project()
    raw, _ = csv_rows(LIMIT + 3 * CHUNK)
    content_type = "text/csv"
    if kind == "multipart":
        raw, content_type = multipart(raw)
    assert len(raw) > LIMIT
    status, body = send_chunked(served, f"/api/v1/projects/{project}/items", raw, content_type)
    assert status == 413, body
    assert body["error"]["code"] == "too_large" and str(LIMIT) in body["error"]["message"]
    assert served.items(project) == 0


@pytest.mark.parametrize("kind", ["csv", "multipart"])
def test_chunked_upload_just_under_the_limit_is_imported_whole(kind: str,
                                                               served: Served) -> None:
    project = served.new_project()
    raw, n_rows = csv_rows(LIMIT - 512)
    content_type = "text/csv"
    if kind == "multipart":
        raw, content_type = multipart(raw)
    assert LIMIT - 1024 < len(raw) <= LIMIT
    status, body = send_chunked(served, f"/api/v1/projects/{project}/items", raw, content_type)
    assert status == 201, body
    assert body == {"created": n_rows, "skipped_duplicates": 0, "errors": []}
    assert served.items(project) == n_rows


def test_chunked_json_body_over_the_limit_is_413(served: Served) -> None:
    raw = json.dumps({"name": "big", "labels": ["a", "b"], "guidelines": "g" * LIMIT}).encode()
    status, body = send_chunked(served, "/api/v1/projects", raw, "application/json")
    assert status == 413 and body["error"]["code"] == "too_large", body


def test_upload_over_the_limit_with_content_length_is_413_too(served: Served) -> None:
    project = served.new_project()
    raw, _ = csv_rows(LIMIT + CHUNK)
    conn = served.server.connection()
    try:
        conn.request("POST", f"/api/v1/projects/{project}/items", body=raw,
                     headers={"Authorization": f"Bearer {served.token}",
                              "Content-Type": "text/csv"})
        response = conn.getresponse()
        assert response.status == 413, response.read()
        assert json.loads(response.read())["error"]["code"] == "too_large"
    finally:
        conn.close()
    assert served.items(project) == 0


@pytest.mark.parametrize("headers", [{"X-Padding": "a" * 16 * 1024},
                                     {f"X-Pad-{i}": "a" * 7000 for i in range(5)}],
                         ids=["one_16k_header", "five_7k_headers"])
def test_large_headers_are_431_json_from_the_app(headers: dict[str, str],
                                                 served: Served) -> None:
    status, mimetype, body = served.call("GET", "/api/v1/me", headers=headers)
    assert status == 431 and mimetype.startswith("application/json"), body
    assert body["error"]["code"] == "header_too_large"


def test_large_header_on_a_page_is_a_short_431_page(served: Served) -> None:
    status, mimetype, body = served.call("GET", "/login", headers={"X-Padding": "a" * 16384})
    assert status == 431 and mimetype.startswith("text/html")
    assert b"header" in body


def test_header_under_the_limit_is_served(served: Served) -> None:
    status, _, body = served.call("GET", "/api/v1/me", headers={"X-Padding": "a" * 4096})
    assert status == 200, body
