"""The item pages: uploads (all or nothing, errors per row and field, bad files refused
with a message), and the item table paged by keyset under every filter."""
from __future__ import annotations

import html
import io
import itertools
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from crowd.extensions import db
from crowd.persistence import Item
from crowd.services import item_table
from tests.support import join
from tests.web.test_manage_projects import csrf, login

CSV_ONE_BAD = (b"external_id,text,gold_label\nr1,first,\nr2,second,\n,no id,\nr4,fourth,maybe\n"
               b"r5,gold one,a\n")


@pytest.fixture
def project(make_project, manager, make_user) -> dict[str, Any]:
    made = make_project(n_items=0, labels=("a", "b"))
    make_user("manager", username="maria")
    join(manager, made["id"], "maria")
    return made


@pytest.fixture
def maria(client: FlaskClient, project) -> FlaskClient:
    login(client, "maria")
    return client


def upload(client: FlaskClient, project_id: int, raw: bytes, name: str = "items.csv",
           **fields: Any) -> Any:
    data = {"file": (io.BytesIO(raw), name), "csrf_token": csrf(client, "/projects"), **fields}
    return client.post(f"/projects/{project_id}/items", data=data,
                       content_type="multipart/form-data")


def count(manager, project_id: int) -> int:
    progress = manager.get(f"/projects/{project_id}").get_json()["progress"]
    return progress["items"] + progress["gold"]


def error_rows(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table class="row-errors">(.*?)</table>', page, re.S).group(1)
    return [tuple(html.unescape(cell) for cell in row) for row in re.findall(
        r'<tr><td class="num">(\d+)</td><td>(.*?)</td><td>(.*?)</td></tr>', table)]


def test_a_good_file_is_imported_and_the_page_says_so(maria, manager, project):
    response = upload(maria, project["id"], b"external_id,text\nx1,hello\nx2,world\n")
    assert response.status_code == 303
    page = maria.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported 2 items." in page and ">x1<" in page
    again = upload(maria, project["id"], b"external_id,text\nx1,hello\nx3,new\n")
    assert "Imported 1 item; 1 already there were skipped." in maria.get(
        again.headers["Location"]).get_data(as_text=True)


def test_bad_rows_refuse_the_whole_file_and_are_shown_by_row_and_field(maria, manager,
                                                                       project):
    response = upload(maria, project["id"], CSV_ONE_BAD)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 2 rows are invalid" in page
    assert error_rows(page) == [
        ("3", "external_id", "external_id must be a non-empty string of at most 255 characters"),
        ("4", "gold_label", "gold_label 'maybe' is not one of the project's labels")]
    assert count(manager, project["id"]) == 0


def test_with_skip_invalid_the_good_rows_are_imported_and_the_bad_ones_listed(maria, manager,
                                                                               project):
    response = upload(maria, project["id"], CSV_ONE_BAD, skip_invalid="y")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Imported 3 items" in page and "2 invalid rows were left out" in page
    assert [row[0] for row in error_rows(page)] == ["3", "4"]
    assert count(manager, project["id"]) == 3


def test_jsonl_rows_are_checked_the_same_way(maria, manager, project):
    raw = b'{"external_id": "j1", "data": {"t": 1}}\n{"external_id": "j2", "data": 5}\n'
    response = upload(maria, project["id"], raw, "items.jsonl")
    assert error_rows(response.get_data(as_text=True)) == [
        ("2", "data", "data must be a JSON object")]
    assert upload(maria, project["id"], raw[:raw.index(b"\n") + 1],
                  "items.jsonl").status_code == 303
    assert count(manager, project["id"]) == 1


@pytest.mark.parametrize(("raw", "name", "fields", "message"), [
    (b"external_id,text\nx1,caf\xe9\n", "items.csv", {}, "not valid UTF-8"),
    (b"id,text\nx1,hello\n", "items.csv", {}, "the CSV has no external_id column"),
    (b"external_id,text\nx1,a,b\n", "items.csv", {}, "more cells than the header"),
    (b"", "items.csv", {}, "The file is empty."),
    (b" \n\n", "items.jsonl", {}, "The file is empty."),
    (b"external_id\n", "items.csv", {}, "The file holds no items."),
    (b'{"external_id": "x1"', "items.jsonl", {}, "line 1: invalid JSON"),
    (b"external_id\nx1\n", "items.txt", {}, "Choose the file's format"),
    (b"external_id\nx1\n", "items.txt", {"format": "xml"}, "Not a valid choice"),
], ids=["not-utf8", "wrong-columns", "ragged", "empty", "blank", "header-only", "bad-json",
        "unknown-format", "bad-format-choice"])
def test_a_bad_file_is_refused_with_a_message_and_nothing_written(maria, manager, project, raw,
                                                                  name, fields, message):
    response = upload(maria, project["id"], raw, name, **fields)
    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert count(manager, project["id"]) == 0


def test_an_upload_without_a_file_is_refused(maria, project):
    response = maria.post(f"/projects/{project['id']}/items",
                          data={"csrf_token": csrf(maria, "/projects")})
    assert response.status_code == 422
    assert "Choose a file." in response.get_data(as_text=True)


@pytest.mark.fresh_app
def test_a_file_over_the_size_limit_is_413(maria, manager, project, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = upload(maria, project["id"], b"external_id,text\n" + b"x,y\n" * 1000)
    assert response.status_code == 413
    assert count(manager, project["id"]) == 0


def test_an_upload_without_its_csrf_token_is_refused(maria, manager, project):
    response = maria.post(f"/projects/{project['id']}/items", content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"external_id\nx1\n"), "items.csv")})
    assert response.status_code == 400
    assert count(manager, project["id"]) == 0


# Ids that sort differently by collation, share prefixes, or need escaping.
ODD_IDS = ["w1", "w10", "w1 x", "W1", "w1é", "é1", "a", "a b", "ä", "Z", "w1\u00e9z", "<w1>",
           "w1" + chr(0x10FFFF), "w1" + chr(0x10FFFF) + "x", "日本"]


def _fill(app: Any, manager, project_id: int) -> None:
    """130 items: odd ids and w000-w114, with every status, top labels and gold."""
    rows = [{"external_id": name, "data": {"n": i}} for i, name in enumerate(ODD_IDS)]
    rows += [{"external_id": f"w{i:03d}", "data": {"n": i}} for i in range(115)]
    rows[3]["gold_label"] = rows[40]["gold_label"] = rows[77]["gold_label"] = "a"
    assert manager.post(f"/projects/{project_id}/items", rows).status_code == 201
    statuses = itertools.cycle(["open", "complete", "complete", "in_review", "resolved"])
    labels = itertools.cycle(["a", "b", None])
    with app.app_context():
        ids = db.session.scalars(select(Item.id).where(Item.project_id == project_id,
                                                       Item.is_gold.is_(False))
                                 .order_by(Item.id)).all()
        for item_id in ids:
            status, label = next(statuses), next(labels)
            db.session.execute(update(Item).where(Item.id == item_id).values(
                status=status, result_label=label if status != "open" or item_id % 2 else None,
                confidence=0.9 if label else None))
        db.session.execute(update(Item).where(Item.external_id == "w025").values(
            status="resolved", result_label="b"))  # a gold item promoted by an expert
        db.session.commit()


def _expected(app: Any, project_id: int, status: str | None, label: str | None,
              prefix: str) -> list[str]:
    with app.app_context():
        rows = db.session.execute(select(Item.external_id, Item.status, Item.is_gold,
                                         Item.result_label)
                                  .where(Item.project_id == project_id)).all()
    kept = [ext for ext, st, gold, top in rows
            if (status is None or (gold if status == "gold" else not gold and st == status))
            and (label is None or top == label) and ext.startswith(prefix)]
    return sorted(kept, key=lambda ext: ext.encode())


def _walk(client: FlaskClient, path: str, params: dict[str, str]) -> tuple[list[str], int]:
    """Every external id shown, following the Next links; and how many pages."""
    shown: list[str] = []
    url: str | None = path
    pages = 0
    query = params
    while url is not None:
        page = client.get(url, query_string=query)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        shown += [html.unescape(cell) for cell in re.findall(
            r'<td class="ext">(.*?)(?: <span class="pill gold">gold</span>)?</td>', text, re.S)]
        following = re.search(r'<a rel="next" href="([^"]+)"', text)
        url, query = (html.unescape(following.group(1)), None) if following else (None, None)
        pages += 1
        assert pages < 50
    return shown, pages


@pytest.mark.parametrize("status", [None, *item_table.STATUS_FILTERS])
def test_keyset_pages_show_every_item_once_under_each_filter(app, manager, maria, project,
                                                             status, monkeypatch):
    monkeypatch.setattr(item_table, "PAGE_SIZE", 7)
    _fill(app, manager, project["id"])
    for label, prefix in itertools.product([None, "a", "b"], ["", "w1", "w", "é", "<", "zz"]):
        params = {k: v for k, v in {"status": status, "label": label, "q": prefix}.items() if v}
        shown, pages = _walk(maria, f"/projects/{project['id']}/items", params)
        want = _expected(app, project["id"], status, label, prefix)
        assert shown == want, params
        assert pages == max(1, -(-len(want) // 7)), params


def test_gold_items_are_marked_for_managers(app, manager, maria, project):
    _fill(app, manager, project["id"])
    page = maria.get(f"/projects/{project['id']}/items", query_string={"status": "gold"})
    text = page.get_data(as_text=True)
    assert text.count('<span class="pill gold">gold</span>') == 3


@pytest.mark.parametrize("query", [{"status": "bogus"}, {"label": "zebra"},
                                   {"q": "x" * 256}, {"after": "x" * 256}])
def test_a_filter_no_form_would_send_is_400(maria, project, query):
    assert maria.get(f"/projects/{project['id']}/items", query_string=query).status_code == 400


def test_prefix_end_is_the_first_string_after_the_prefix_range() -> None:
    assert item_table.prefix_end("ab") == "ac"
    assert item_table.prefix_end("a" + chr(0x10FFFF)) == "b"
    assert item_table.prefix_end(chr(0x10FFFF)) is None
    assert item_table.prefix_end("\ud7ff") == "\ue000"
