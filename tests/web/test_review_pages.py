"""The expert's review pages: one item at a time, resolve, skip, history, bad input."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, update

from crowd.domain.item_fields import Field, field_kind, fields
from crowd.extensions import db
from crowd.persistence import Item, Label
from crowd.services import review_history
from crowd.web.ui import expert
from tests.integration.test_reviews import PLAN, _build
from tests.support import answered_then_leased, item_names, join, make_users, work_through
from tests.web.test_edge_pages import csrf_token, login

ACTION = re.compile(r'action="/review/\d+/(\d+)"')


def _world(app: Flask, manager: Any, review_rate: float = 1.0,
           plan: dict[str, str] | None = None) -> tuple[int, dict[str, int]]:
    """By default d2 (labels a, b, c) and d1 (a, a, b) in review for disagreement and
    q0 (a, a, a) for random QA at ``review_rate``; (project, opaque id by name)."""
    pid, _, ids = _build(app, manager, plan or PLAN, review_rate)
    return pid, ids


def _expert(app: Flask, make_user: Any, manager: Any, pid: int, name: str) -> FlaskClient:
    """A new expert of the project, logged in through the login form."""
    make_user("expert", username=name)
    join(manager, pid, name)
    client = app.test_client()
    login(client, name)
    return client


def _page(client: FlaskClient, pid: int, suffix: str = "") -> str:
    response = client.get(f"/review/{pid}{suffix}")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def _shown(page: str) -> int:
    """The opaque id of the item the page shows (its resolve form's action)."""
    return int(ACTION.search(page).group(1))


def _flash(page: str) -> list[str]:
    return re.findall(r'class="flash [a-z]+"[^>]*>([^<]*)<', page)


def _item(app: Flask, public_id: int) -> Item:
    with app.app_context():
        found = db.session.scalar(select(Item).where(Item.public_id == public_id))
        db.session.expunge(found)
        return found


@pytest.fixture
def world(app: Flask, manager: Any, make_user: Any) -> tuple[int, dict[str, int], FlaskClient]:
    pid, ids = _world(app, manager)
    return pid, ids, _expert(app, make_user, manager, pid, "erin")


# --- one item at a time -------------------------------------------------------------------


def test_the_page_shows_the_most_uncertain_item_alone_with_its_evidence(world: Any) -> None:
    pid, ids, client = world
    page = _page(client, pid)
    assert ACTION.findall(page) == [str(ids["d2"])]  # one item: the 1/3-1/3-1/3 one
    assert "d1" not in page and "q0" not in page
    assert "<b>3</b> items left in review" in page
    assert "The crowd disagreed after 3 labels" in page and "could not settle" not in page
    assert "about d2" in page
    for worker in ("w1", "w2", "w3"):
        assert f"<td>{worker}</td>" in page
    assert page.count("<td>70%</td>") == 3  # no gold seen yet: the Beta(3.5, 1.5) prior
    bars = re.findall(r'<rect class="bar-fill" width="([0-9.]+)"', page)
    assert bars == ["33.33", "33.33", "33.33"]
    assert page.count("<td class=\"bar-value\">33.3%</td>") == 3
    for key, label in enumerate(("a", "b", "c"), start=1):
        assert (f'value="{label}" data-key="{key}" aria-keyshortcuts="{key}">'
                f'<kbd class="js-only">{key}</kbd> {label}') in page
    assert "moves out of the project's work items count" in page
    assert " style=" not in page and "<script>" not in page
    assert '<script src="/static/review.js" defer></script>' in page


def test_a_long_queue_is_counted_up_to_a_cap(world: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pid, _, client = world
    monkeypatch.setattr(expert, "LEFT_CAP", 2)
    assert "<b>2</b> or more items left in review" in _page(client, pid)
    monkeypatch.setattr(expert, "LEFT_CAP", 4)
    assert "<b>3</b> items left in review" in _page(client, pid)


def test_a_random_qa_item_says_so_with_the_rate(app: Flask, manager: Any, make_user: Any) -> None:
    pid, ids = _world(app, manager, review_rate=1.0, plan={"q0": "aaa"})
    page = _page(_expert(app, make_user, manager, pid, "qa-expert"), pid)
    assert _shown(page) == ids["q0"]
    assert "Picked at random for quality assurance (rolling QA at 100%)" in page
    assert "the crowd settled it as “a” (98.1% sure)" in page
    assert "disagreed" not in page.split('class="card review-item"')[1]


def test_a_discounted_label_is_marked(app: Flask, world: Any) -> None:
    pid, ids, client = world
    with app.app_context():
        item_id = db.session.scalar(select(Item.id).where(Item.public_id == ids["d2"]))
        first = db.session.scalar(select(Label.id).where(Label.item_id == item_id)
                                  .order_by(Label.id))
        db.session.execute(update(Label).where(Label.id == first).values(counted=False))
        db.session.commit()
    page = _page(client, pid)
    assert page.count("discounted: does not count") == 1
    assert "The crowd disagreed after 2 labels (1 more discounted)" in page


def test_item_data_is_escaped_and_shown_by_kind(app: Flask, manager: Any, make_user: Any) -> None:
    png = "data:image/png;base64,iVBORw0KGgo="
    body = {"name": "kinds", "labels": ["a", "b"], "qualification_size": 0, "gold_rate": 0.0,
            "redundancy": 1, "max_redundancy": 1, "confidence_threshold": 1.0}
    pid = manager.post("/projects", body).get_json()["id"]
    data = {"text": "<script>alert(1)</script>", "picture": png,
            "remote": "https://example.org/cat.jpg", "essay": "word " * 100, "n": 7}
    assert manager.post(f"/projects/{pid}/items",
                        [{"external_id": "k", "data": data}]).status_code == 201
    (_, worker), = make_users(app, manager, "kind-worker")
    offer = worker.post(f"/projects/{pid}/next").get_json()
    worker.post(f"/assignments/{offer['assignment_id']}/answer", {"label": "a"})
    page = _page(_expert(app, make_user, manager, pid, "kind-expert"), pid)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert ("Not settled after 1 label: the likeliest label is only 70% sure, and the "
            "project asks for 100%.") in page
    # Laid out as on the worker's page (crowd.domain.worker_page.layout, work_item.html).
    assert re.search(rf'<img src="{re.escape(png)}" alt="[^"]*picture[^"]*"', page)
    assert re.search(r'<a href="https://example.org/cat.jpg"[^>]*>', page)  # not an <img>
    assert '<img src="https://example.org' not in page
    assert re.search(r'class="long-text[^"]*"[^>]*tabindex="0"', page)
    assert re.search(r"<th scope=\"row\">n</th><td[^>]*>7</td>", page)


@pytest.mark.parametrize(("value", "kind"), [
    ("data:image/png;base64,iVBORw0KGgo=", "image"),
    ("data:image/svg+xml;base64,PHN2Zz4=", "image"),
    ("data:text/html;base64,PHN2Zz4=", "text"),
    ("data:image/png;base64,<script>", "text"),
    ("https://example.org/a/b.PNG?size=2", "image_link"),
    ("http://example.org/b.webp", "image_link"),
    ("javascript:alert(1)//x.png", "text"),
    ("https://example.org/page.html", "text"),
    ("https:///nohost.png", "text"),
    ("https://example.org/a b.png", "text"),
    ("x" * 281, "long_text"),
    ("a\nb\nc\nd\ne", "long_text"),
    ("short", "text"),
    (3, "value"), (None, "value"), ([1, 2], "value"), ({"a": 1}, "value"), (True, "value"),
])
def test_field_kinds(value: Any, kind: str) -> None:
    assert field_kind(value) == kind


def test_fields_keep_the_data_order_and_show_values_as_json() -> None:
    assert fields({"b": "x", "a": [1, "é"], "c": None}) == [
        Field("b", "text", "x"), Field("a", "value", '[1, "é"]'), Field("c", "value", "null")]
    assert fields([1, 2]) == [Field("data", "value", "[1, 2]")]


# --- resolving ----------------------------------------------------------------------------


def test_resolve_then_the_next_item_follows_and_promote_makes_gold(
    app: Flask, manager: Any, world: Any,
) -> None:
    pid, ids, client = world
    token = csrf_token(client, f"/review/{pid}")
    done = client.post(f"/review/{pid}/{ids['d2']}", data={
        "csrf_token": token, "label": "c", "note": "the c reading", "promote_to_gold": "y"},
        follow_redirects=True)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert _flash(page) == ["d2 resolved as “c” and promoted to gold."]
    assert _shown(page) == ids["d1"] and "<b>2</b> items left" in page
    item = _item(app, ids["d2"])
    assert (item.status, item.result_label, item.result_source, item.review_note) == (
        "resolved", "c", "expert", "the c reading")
    assert item.is_gold and item.gold_label == "c"
    progress = manager.get(f"/projects/{pid}").get_json()["progress"]
    assert (progress["items"], progress["gold"]) == (2, 1)

    plain = client.post(f"/review/{pid}/{ids['d1']}", data={"csrf_token": token, "label": "a"},
                        follow_redirects=True).get_data(as_text=True)
    assert _flash(plain) == ["d1 resolved as “a”."]
    assert not _item(app, ids["d1"]).is_gold and _item(app, ids["d1"]).review_note is None


def test_another_expert_resolving_first_gets_a_clear_message(app: Flask, make_user: Any,
                                                             manager: Any, world: Any) -> None:
    pid, ids, client = world
    rival = _expert(app, make_user, manager, pid, "rival")
    mine, theirs = csrf_token(client, f"/review/{pid}"), csrf_token(rival, f"/review/{pid}")
    assert _shown(_page(client, pid)) == _shown(_page(rival, pid)) == ids["d2"]
    assert rival.post(f"/review/{pid}/{ids['d2']}",
                      data={"csrf_token": theirs, "label": "b"}).status_code == 302
    late = client.post(f"/review/{pid}/{ids['d2']}", data={"csrf_token": mine, "label": "c"})
    assert late.status_code == 302 and late.headers["Location"].endswith(f"/review/{pid}")
    page = _page(client, pid)
    assert _flash(page) == ["Another expert resolved that item while you were looking at it, "
                            "so your decision was not saved; here is the next one."]
    assert _shown(page) == ids["d1"]
    assert _item(app, ids["d2"]).result_label == "b"


GONE = ("That item is no longer in this project&#39;s review queue (another expert may have "
        "resolved it); here is the next one.")


def test_unknown_gold_and_other_projects_items_are_all_just_not_in_review(
    app: Flask, manager: Any, make_project: Any, make_user: Any, world: Any,
) -> None:
    pid, ids, client = world
    elsewhere = answered_then_leased(manager, make_project, make_user, "elsewhere").reviewed_item
    gold = manager.post(f"/projects/{pid}/items", [
        {"external_id": "g", "data": {"text": "g"}, "gold_label": "a"}]).status_code
    assert gold == 201
    with app.app_context():
        gold_id = db.session.scalar(select(Item.public_id).where(Item.project_id == pid,
                                                                 Item.is_gold.is_(True)))
    token = csrf_token(client, f"/review/{pid}")
    answers = []
    for item_id in (123456789, gold_id, elsewhere):
        posted = client.post(f"/review/{pid}/{item_id}", data={"csrf_token": token, "label": "a"})
        viewed = client.get(f"/review/{pid}/{item_id}")
        skipped = client.post(f"/review/{pid}/{item_id}/skip", data={"csrf_token": token})
        answers.append([(r.status_code, r.headers.get("Location")) for r in
                        (posted, viewed, skipped)])
    assert all(a == answers[0] for a in answers)
    assert answers[0] == [(302, f"/review/{pid}")] * 3
    assert _flash(_page(client, pid)) == [GONE] * 9
    assert _item(app, elsewhere).status == "in_review"
    assert _item(app, gold_id).status == "open"


def test_a_label_outside_the_project_or_a_long_note_shows_the_item_again(
    app: Flask, world: Any,
) -> None:
    pid, ids, client = world
    token = csrf_token(client, f"/review/{pid}")
    zebra = client.post(f"/review/{pid}/{ids['d2']}",
                        data={"csrf_token": token, "label": "zebra", "note": "kept"})
    assert zebra.status_code == 422
    page = zebra.get_data(as_text=True)
    assert _flash(page) == ["Not resolved: &#39;zebra&#39; is not one of this project&#39;s labels"]
    assert _shown(page) == ids["d2"] and ">\r\nkept</textarea>" in page
    long = client.post(f"/review/{pid}/{ids['d2']}",
                       data={"csrf_token": token, "label": "a", "note": "x" * 2001})
    assert long.status_code == 422
    assert "The note is longer than 2000 characters." in long.get_data(as_text=True)
    none = client.post(f"/review/{pid}/{ids['d2']}", data={"csrf_token": token})
    assert none.status_code == 422 and "Choose one of the labels." in none.get_data(as_text=True)
    missing = client.post(f"/review/{pid}/{ids['d2']}", data={"label": "a"})
    assert missing.status_code == 400
    assert client.post(f"/review/{pid}/{ids['d2']}/skip", data={}).status_code == 400
    assert _item(app, ids["d2"]).status == "in_review"


# --- skipping -----------------------------------------------------------------------------


def test_skipped_items_go_to_the_back_for_this_expert_only(app: Flask, make_user: Any,
                                                         manager: Any, world: Any) -> None:
    pid, ids, client = world
    other = _expert(app, make_user, manager, pid, "other-expert")
    token = csrf_token(client, f"/review/{pid}")
    assert client.post(f"/review/{pid}/{ids['d2']}/skip",
                       data={"csrf_token": token}).status_code == 302
    page = _page(client, pid)
    assert _shown(page) == ids["d1"]
    assert "(1 skipped by you)" in page and "Skipped by you (1)" in page
    assert f'href="/review/{pid}/{ids["d2"]}">d2</a>' in page
    assert _shown(_page(other, pid)) == ids["d2"]  # not skipped for another expert

    client.post(f"/review/{pid}/{ids['d1']}/skip", data={"csrf_token": token})
    assert _shown(_page(client, pid)) == ids["q0"]
    client.post(f"/review/{pid}/{ids['q0']}", data={"csrf_token": token, "label": "a"})
    back = _page(client, pid)  # only skipped ones left: the first skipped comes back first
    assert _shown(back) == ids["d2"] and "You skipped this item earlier" in back
    assert _shown(_page(client, pid, f"/{ids['d1']}")) == ids["d1"]  # the list's link

    assert client.post(f"/review/{pid}/unskip", data={"csrf_token": token}).status_code == 302
    restored = _page(client, pid)
    assert "Skipped by you" not in restored and _shown(restored) == ids["d2"]
    assert "You skipped this item earlier" not in restored


def test_resolved_items_leave_the_skip_list(app: Flask, make_user: Any, manager: Any,
                                            world: Any) -> None:
    pid, ids, client = world
    token = csrf_token(client, f"/review/{pid}")
    client.post(f"/review/{pid}/{ids['d2']}/skip", data={"csrf_token": token})
    rival = make_users(app, manager, "api-expert", role="expert")[0][1]
    join(manager, pid, "api-expert")
    assert rival.post(f"/reviews/{ids['d2']}", {"label": "a"}).status_code == 200
    page = _page(client, pid)
    assert "Skipped by you" not in page and "(1 skipped" not in page
    with client.session_transaction() as session:
        assert session["review_skips"] == {}


def test_the_skip_list_is_bounded(app: Flask, world: Any) -> None:
    pid, ids, client = world
    with client.session_transaction() as session:
        session["review_skips"] = {"junk": "x", str(pid): list(range(1, 100)) + ["1", -5]}
    page = _page(client, pid)  # none of those is in review: all dropped, nothing breaks
    assert _shown(page) == ids["d2"] and "Skipped by you" not in page
    token = csrf_token(client, f"/review/{pid}")
    for _ in range(3):
        client.post(f"/review/{pid}/{ids['d2']}/skip", data={"csrf_token": token})
    with client.session_transaction() as session:
        assert session["review_skips"] == {str(pid): [ids["d2"]]}


# --- history ------------------------------------------------------------------------------


def test_history_lists_my_decisions_newest_first_by_keyset(
    app: Flask, manager: Any, world: Any, clock: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pid, ids, client = world
    token = csrf_token(client, f"/review/{pid}")
    assert "You have not resolved any item" in _page(client, pid, "/history")
    for name, label, note in (("d2", "c", "odd <one>"), ("d1", "b", ""), ("q0", "a", "")):
        client.post(f"/review/{pid}/{ids[name]}", data={
            "csrf_token": token, "label": label, "note": note,
            **({"promote_to_gold": "y"} if name == "d1" else {})})
        clock.advance(60)
    monkeypatch.setattr(review_history, "PAGE", 2)
    first = _page(client, pid, "/history")
    rows = re.findall(r'<td data-label="Item">([^<]+)</td>\s*<td data-label="Label">([^<]+)<',
                      first)
    assert rows == [("q0", "a"), ("d1", "b")]
    assert first.count('<span class="pill gold">promoted</span>') == 1
    older = re.search(r'href="(/review/\d+/history\?before=[0-9-]+)" rel="next"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert re.findall(r'<td data-label="Item">([^<]+)<', second) == ["d2"]
    assert "odd &lt;one&gt;" in second and 'rel="next"' not in second
    assert "Newest decisions" in second


def test_history_pages_through_decisions_made_at_the_same_instant(
    world: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ties on the time are broken by the opaque id: no decision is skipped or repeated."""
    pid, ids, client = world
    token = csrf_token(client, f"/review/{pid}")
    for name in ("d2", "d1", "q0"):
        client.post(f"/review/{pid}/{ids[name]}", data={"csrf_token": token, "label": "a"})
    monkeypatch.setattr(review_history, "PAGE", 1)
    seen, path = [], f"/review/{pid}/history"
    for _ in range(4):
        page = client.get(path).get_data(as_text=True)
        seen += re.findall(r'<td data-label="Item">([^<]+)<', page)
        found = re.search(r'href="(/review/\d+/history\?before=[0-9-]+)" rel="next"', page)
        if not found:
            break
        path = found.group(1)
    assert seen == sorted(("d2", "d1", "q0"), key=lambda name: -ids[name])


def test_history_with_a_bad_cursor_goes_back_to_the_newest(world: Any) -> None:
    pid, _, client = world
    for cursor in ("junk", "1-0", "1-" + "9" * 16, "9" * 17 + "-1", "１-１", "1-1-1"):
        response = client.get(f"/review/{pid}/history?before={cursor}")
        assert response.status_code == 302, cursor
        assert response.headers["Location"] == f"/review/{pid}/history"


def test_history_shows_only_this_experts_decisions(app: Flask, manager: Any, world: Any,
                                                   make_user: Any) -> None:
    pid, ids, client = world
    rival = make_users(app, manager, "busy-expert", role="expert")[0][1]
    join(manager, pid, "busy-expert")
    assert rival.post(f"/reviews/{ids['d2']}", {"label": "a"}).status_code == 200
    assert "You have not resolved any item" in _page(client, pid, "/history")


# --- scale --------------------------------------------------------------------------------


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_page_reads_one_item_whatever_the_queue_holds(app: Flask, manager: Any,
                                                          make_project: Any,
                                                          make_user: Any) -> None:
    """The same statements for a queue of 3 and of 30, and none reads the queue whole."""
    counts = []
    for n in (3, 30):
        # One label each at threshold 1.0: every item goes to review.
        pid = make_project(n_items=n, redundancy=1, max_redundancy=1,
                           confidence_threshold=1.0)["id"]
        (_, worker), = make_users(app, manager, f"scale-worker-{n}")
        work_through(worker, pid, item_names(app, pid), lambda name: "a")
        client = _expert(app, make_user, manager, pid, f"scale-{n}")
        with _statements(app) as seen:
            page = _page(client, pid)
        assert f"<b>{n}</b> items left" in page
        selects = [s for s in seen if "FROM items" in s and "count" not in s.lower()]
        assert all("LIMIT" in s or "public_id IN" in s or "public_id =" in s for s in selects)
        counts.append(len(seen))
    assert counts[0] == counts[1]
