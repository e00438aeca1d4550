"""The browser side of edge input: forms, query strings, and pages that bad data once broke.

An item whose data held a lone surrogate used to import, and then the worker's
page and the whole review page answered 500 for as long as it was there. Here
every way in (each API transport, chunked, ``?on_error=skip``, and ``crowd
import``) is tried with such items; none is stored, and both pages still serve.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from crowd.cli import main
from tests.conftest import Api
from tests.support import join
from tests.web.conftest import Scene

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

LONE = "\ud800"
POISONED = [
    {"external_id": "p-value", "data": {"text": "bad " + LONE}},
    {"external_id": "p-key", "data": {"a\udfff": "x"}},
    # (in CSV the id's escape is plain text, so the data carries a surrogate too)
    {"external_id": "p-id-\udfff", "data": {"text": "x" + LONE}},
    {"external_id": "p-deep", "data": {"t": [{"u": LONE}]}},
    {"external_id": "p-nul", "data": {"text": "a\u0000b"}},
]


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: FlaskClient, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": "password-123",
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302, response.get_data(as_text=True)


def poisoned_bytes(fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(POISONED).encode()
    if fmt == "jsonl":
        return "".join(json.dumps(row) + "\n" for row in POISONED).encode()
    lines = ["external_id,data"]
    for row in POISONED:  # CSV bytes are strict UTF-8: the surrogates travel as JSON escapes
        lines.append(json.dumps(row["external_id"])[1:-1] + ',"'
                     + json.dumps(row["data"]).replace('"', '""') + '"')
    return ("\n".join(lines) + "\n").encode()


MEDIA = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}


def try_every_way_in(client: FlaskClient, token: str, project: int) -> None:
    """Post the poisoned rows by every API transport, all or nothing and with skip."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/projects/{project}/items"
    for fmt in ("json", "jsonl", "csv"):
        raw = poisoned_bytes(fmt)
        for query in ("", "?on_error=skip"):
            attempts = [
                client.post(path + query, data=raw, content_type=MEDIA[fmt], headers=headers),
                client.post(path + query, headers=headers, content_type="multipart/form-data",
                            data={"file": (io.BytesIO(raw), f"items.{fmt}")}),
                client.post(path + query, input_stream=io.BytesIO(raw), content_type=MEDIA[fmt],
                            headers={**headers, "Transfer-Encoding": "chunked"},
                            environ_overrides={"wsgi.input_terminated": True}),
            ]
            for response in attempts:
                expected = 201 if query else 422
                assert response.status_code == expected, response.get_json()
                report = response.get_json()
                errors = (report["error"]["details"] if expected == 422 else report)["errors"]
                if expected == 201:
                    assert report["created"] == 0
                assert [e["row"] for e in errors] == list(range(1, len(POISONED) + 1)), errors


def test_no_route_stores_a_poisoned_item_and_the_pages_still_serve(
    app: Flask, client: FlaskClient, manager: Api, make_project: Any, make_user: Any,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = make_project(n_items=0, redundancy=1, max_redundancy=1,
                           confidence_threshold=1.0)["id"]
    try_every_way_in(client, str(manager.token), project)

    monkeypatch.setenv("CROWD_DATABASE_URL", database_url)
    monkeypatch.setenv("CROWD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("CROWD_CONFIG", raising=False)
    for fmt in ("json", "jsonl", "csv"):
        path = tmp_path / f"poisoned.{fmt}"
        path.write_bytes(poisoned_bytes(fmt))
        assert main(["import", str(project), str(path)]) == 2
        assert main(["import", str(project), str(path), "--skip-invalid"]) == 0
        assert "created 0" in capsys.readouterr().out

    from crowd.extensions import db
    from crowd.persistence import Item

    with app.app_context():
        assert list(db.session.scalars(select(Item.external_id)
                                       .where(Item.project_id == project))) == []

    fine = manager.post(f"/projects/{project}/items",
                        [{"external_id": "fine", "data": {"text": "grin \U0001F600"}}])
    assert fine.status_code == 201, fine.get_json()
    make_user("worker", username="edge-worker")
    make_user("expert", username="edge-expert")
    join(manager, project, "edge-expert")
    worker = app.test_client()
    login(worker, "edge-worker")
    page = worker.get(f"/work/{project}")
    assert page.status_code == 200 and "grin \U0001F600" in page.get_data(as_text=True)
    token = csrf_token(worker, f"/work/{project}")
    assignment = re.search(r'name="assignment_id" type="hidden" value="(\d+)"',
                           worker.get(f"/work/{project}").get_data(as_text=True)).group(1)
    answered = worker.post(f"/work/{project}/answer", data={
        "csrf_token": token, "assignment_id": assignment, "label": "a", "duration_ms": "²"})
    assert answered.status_code == 302
    expert = app.test_client()
    login(expert, "edge-expert")
    review = expert.get(f"/review/{project}")
    assert review.status_code == 200, review.get_data(as_text=True)[:300]
    assert "grin \U0001F600" in review.get_data(as_text=True)


# --- forms and query strings --------------------------------------------------------------


def test_nul_in_the_login_form_is_a_400_page(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"username": "a\u0000b", "password": "password-123",
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "NUL" in response.get_data(as_text=True)


def test_malformed_utf8_in_a_form_is_plain_text_not_a_500(app: Flask) -> None:
    """werkzeug keeps ``%ED%A0%80`` (a surrogate's UTF-8) as those nine characters."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", data=f"username=%ED%A0%80&password=x%ED%A0%80"
                                          f"&csrf_token={token}",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(as_text=True)
    raw = client.post("/login", data=b"username=\xed\xa0\x80&csrf_token=" + token.encode(),
                      content_type="application/x-www-form-urlencoded")
    assert 400 <= raw.status_code < 500


def test_nul_in_a_query_string_of_a_page_is_a_400_page(app: Flask, scene: Scene) -> None:
    client = app.test_client()
    login(client, "scene-worker")
    response = client.get(f"/work/{scene.project}?from=%00")
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "value", "status"), [
    ("assignment_id", "\u00b2", 302), ("assignment_id", "9" * 19, 302),
    ("assignment_id", "9" * 40, 302), ("duration_ms", "9" * 19, 302),
    ("label", "a\u0000", 400), ("label", "x" * 5000, 302),
])
def test_worker_answer_form_with_odd_values_never_500s(field: str, value: str, status: int,
                                                       app: Flask, scene: Scene) -> None:
    client = app.test_client()
    login(client, "scene-worker")
    page = client.get(f"/work/{scene.project}").get_data(as_text=True)
    assignment = re.search(r'name="assignment_id" type="hidden" value="(\d+)"', page).group(1)
    data = {"csrf_token": csrf_token(client, f"/work/{scene.project}"),
            "assignment_id": assignment, "label": "a", field: value}
    response = client.post(f"/work/{scene.project}/answer", data=data)
    assert response.status_code == status, response.get_data(as_text=True)[:300]


def test_manager_state_form_with_nul_is_400_and_too_long_is_refused(
    app: Flask, scene: Scene, make_user: Any,
) -> None:
    make_user("manager", username="edge-manager")
    join(Api(app.test_client(), scene.manager), scene.project, "edge-manager")
    client = app.test_client()
    login(client, "edge-manager")
    token = csrf_token(client, f"/manage/{scene.project}")
    path = f"/manage/{scene.project}/workers/{scene.worker_id}/state"
    nul = client.post(path, data={"csrf_token": token, "state": "active", "reason": "x\u0000"})
    assert nul.status_code == 400
    long = client.post(path, data={"csrf_token": token, "state": "active", "reason": "x" * 3000},
                       follow_redirects=True)
    assert long.status_code == 200 and "A reason is required" in long.get_data(as_text=True)


def test_review_form_with_nul_in_the_note_is_400(app: Flask, scene: Scene,
                                                 make_user: Any) -> None:
    make_user("expert", username="edge-expert2")
    join(Api(app.test_client(), scene.manager), scene.project, "edge-expert2")
    client = app.test_client()
    login(client, "edge-expert2")
    token = csrf_token(client, f"/review/{scene.project}")
    response = client.post(f"/review/{scene.project}/{scene.reviewed_item}",
                           data={"csrf_token": token, "label": "b", "note": "n\u0000"})
    assert response.status_code == 400
    assert client.get(f"/review/{scene.project}").status_code == 200
