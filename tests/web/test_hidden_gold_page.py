"""The worker's page cannot tell hidden gold from work, and experts resolve by the
opaque id: the sequential item id appears nowhere a worker or an expert looks.

The worker's page and the fragment its script swaps in are compared with what differs
from item to item anyway blanked out (the item's data, the assignment id, the CSRF
token, the progress counts); the progress counts are checked on their own: they move
by one per answer, gold or work."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from crowd.extensions import db
from crowd.persistence import Assignment, Item
from tests.support import join

NOT_A_TIME = re.compile(r"\d\d:\d\d:\d\d UTC")
ANSWERED = re.compile(r"Answered today: <b>(\d+)</b>")
LEFT = re.compile(r'<span id="left">up to (\d+) more items for you</span>')


def _login(client: Any, username: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": "password-123",
                                           "csrf_token": token})
    assert response.status_code == 302
    return token


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page)
    if found is None:
        found = re.search(rf'id="{name}" name="{name}" type="hidden" value="([^"]*)"', page)
    assert found is not None, (name, page)
    return found.group(1)


def _normalised(page: str, data: dict[str, Any], assignment_id: str, csrf: str) -> str:
    """The page with what differs from item to item anyway blanked out."""
    for value in data.values():
        page = page.replace(f'<td class="pre">{value}</td>', '<td class="pre">…</td>')
    page = page.replace(f'value="{assignment_id}"', 'value="#"').replace(csrf, "csrf")
    page = LEFT.sub("left: #", ANSWERED.sub("answered: #", page))
    return NOT_A_TIME.sub("hh:mm:ss UTC", page)


def _progress(page: str) -> tuple[int, int]:
    """(answered today, items left) of the page's progress line."""
    answered, left = ANSWERED.search(page), LEFT.search(page)
    assert answered and left, page
    return int(answered.group(1)), int(left.group(1))


def test_the_work_page_is_the_same_for_hidden_gold_and_work(app, make_project, make_user):
    project = make_project(n_items=12, n_gold=12, gold_rate=0.5)
    pid = project["id"]
    worker_id, _ = make_user("worker", username="page-worker")
    client = app.test_client()
    _login(client, "page-worker")
    pages: dict[bool, set[str]] = {True: set(), False: set()}
    fragments: dict[bool, set[str]] = {True: set(), False: set()}
    leases: dict[bool, set[float]] = {True: set(), False: set()}
    progress = []
    previous = 0
    for _ in range(14):
        page = client.get(f"/work/{pid}").get_data(as_text=True)
        assignment_id, csrf = _field(page, "assignment_id"), _field(page, "csrf_token")
        fragment = client.get(f"/work/{pid}/task?assignment={assignment_id}&since=active",
                              headers={"X-Crowd-Fragment": "1"})
        fragment_text = fragment.get_data(as_text=True)
        progress.append(_progress(page))
        assert _progress(fragment_text) == progress[-1]
        with app.app_context():
            lease = db.session.get(Assignment, int(assignment_id))
            item = db.session.get(Item, lease.item_id)
            is_gold, data = item.is_gold, item.data
            leases[is_gold].add((lease.expires_at - lease.created_at).total_seconds())
            assert str(item.public_id) not in page  # the page needs no item id at all
        # Assignment ids are made at `next`, one per offer of either kind: they
        # rise with time and say nothing else.
        assert int(assignment_id) > previous
        previous = int(assignment_id)
        pages[is_gold].add(_normalised(page, data, assignment_id, csrf))
        fragments[is_gold].add(_normalised(fragment_text, data, assignment_id,
                                           _field(fragment_text, "csrf_token")))
        answered = client.post(f"/work/{pid}/answer", data={
            "csrf_token": csrf, "assignment_id": assignment_id, "label": "a", "duration_ms": "900"})
        assert answered.status_code == 302
    assert pages[True] and pages[False]
    assert pages[True] == pages[False] and len(pages[True]) == 1
    assert fragments[True] == fragments[False] and len(fragments[True]) == 1
    # One more answered and one fewer left after every item, whichever it was.
    assert progress == [(n, 23 - n) for n in range(14)]
    assert leases[True] == leases[False] and len(leases[True]) == 1
    with app.app_context():
        held = db.session.scalars(select(Assignment.worker_id).where(Assignment.project_id == pid))
        assert set(held) == {worker_id}


def test_the_expert_page_resolves_an_item_by_its_opaque_id(app, make_project, make_user, manager):
    pid = make_project(n_items=2, redundancy=1, max_redundancy=1,
                       confidence_threshold=1.0)["id"]
    worker = manager.as_(make_user("worker")[1])
    offer = worker.post(f"/projects/{pid}/next").get_json()
    assert worker.post(f"/assignments/{offer['assignment_id']}/answer",
                       {"label": "a"}).status_code == 200
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.public_id == offer["item"]["id"]))
        internal, public = item.id, item.public_id
        assert item.status == "in_review"
    make_user("expert", username="page-expert")
    join(manager, pid, "page-expert")
    client = app.test_client()
    _login(client, "page-expert")
    page = client.get(f"/review/{pid}").get_data(as_text=True)
    csrf = _field(page, "csrf_token")  # the session is new at login: so is its token
    assert f'action="/review/{pid}/{public}"' in page
    # The sequential id names nothing; a number past the opaque range is a 404.
    client.post(f"/review/{pid}/{internal}", data={"csrf_token": csrf, "label": "b"})
    assert client.post(f"/review/{pid}/{2**53}", data={"csrf_token": csrf}).status_code == 404
    with app.app_context():
        assert db.session.get(Item, internal).status == "in_review"
    resolved = client.post(f"/review/{pid}/{public}", data={"csrf_token": csrf, "label": "b"})
    assert resolved.status_code == 302
    with app.app_context():
        assert db.session.get(Item, internal).status == "resolved"


def test_the_review_api_takes_the_opaque_id_and_answers_404_past_its_range(
    app, make_project, make_user, manager
):
    expert = manager.as_(make_user("expert")[1])
    for path in ("0", str(2**53), "9" * 40, "-1"):
        response = expert.post(f"/reviews/{path}", {"label": "a"})
        assert response.status_code == 404, (path, response.get_data(as_text=True))
        assert response.is_json
