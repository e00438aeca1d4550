"""The members page in pages (keyset on the username): each member once across the
pages, a removal keeps its page, a bad page key is a clean 400, and every removal
form carries the page's one CSRF token, which a removal still needs."""
from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from crowd.services import member_page
from tests.support import join, make_users
from tests.web.test_manage_projects import csrf, login

NAMES = ("ann", "Bob", "bob2", "Cat", "dan", "Eve-7", "fay", "gus", "hal", "ivy", "zed")


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(member_page, "PAGE", 3)
    return 3


@pytest.fixture
def team(client: FlaskClient, app: Any, manager: Any, make_user: Any,
         make_project: Any) -> dict[str, Any]:
    """An open project with listed workers, an expert, the manager maria (logged in),
    one removed worker and two workers who joined by working."""
    project = make_project(n_items=4)
    make_user("manager", username="maria")
    make_user("expert", username="Expert-x")
    made = dict(zip((*NAMES, "old", "w-joined", "Walker"),
                    make_users(app, manager, *NAMES, "old", "w-joined", "Walker")))
    join(manager, project["id"], "maria", "Expert-x", *NAMES, "old")
    path = f"/projects/{project['id']}/members"
    for name in ("w-joined", "Walker"):
        assert made[name][1].post(f"/projects/{project['id']}/next").status_code == 200
    login(client, "maria")
    assert client.post(f"{path}/{made['old'][0]}/remove",
                       data={"csrf_token": csrf(client, path)}).status_code == 303
    listed = manager.get(path).get_json()["members"]
    return {"path": path, "ids": {m["username"]: m["user_id"] for m in listed},
            "current": sorted(m["username"] for m in listed if m["removed_at"] is None)}


def shown(page: str) -> list[str]:
    return [html.unescape(name) for name in re.findall(r'<td class="ext">([^<]*)</td>', page)]


def next_link(page: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def walk(client: FlaskClient, path: str) -> list[list[str]]:
    pages, url = [], path
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        pages.append(shown(page))
        url = next_link(page)
        assert len(pages) < 50, "the pages never end"
    return pages


def test_every_member_appears_exactly_once_across_the_pages(client, team, small_pages):
    pages = walk(client, team["path"])
    names = [name for page in pages for name in page]
    assert sorted(names) == team["current"] and len(names) == len(set(names))
    assert {"w-joined", "Walker", "Expert-x", "maria"} <= set(names) and "old" not in names
    assert all(len(page) == small_pages for page in pages[:-1]) and 0 < len(pages[-1])
    first = client.get(team["path"]).get_data(as_text=True)
    assert f"Members ({len(names)})" in first and "First page" not in first
    assert "old <span class=\"muted\">(worker, removed" in first
    later = client.get(next_link(first)).get_data(as_text=True)
    assert "First page" in later and f"Members ({len(names)})" in later
    assert "<h3>Removed</h3>" not in later


def test_a_page_key_that_is_nobody_or_a_removed_member_still_gives_a_clean_page(
        client, team, small_pages):
    path, ids = team["path"], team["ids"]
    first = client.get(path).get_data(as_text=True)
    key = shown(first)[-1]
    token = csrf(client, path)
    response = client.post(f"{path}/{ids[key]}/remove", data={"csrf_token": token, "after": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith(path)
    second = client.get(next_link(first)).get_data(as_text=True)
    rest = [name for page in walk(client, next_link(first)) for name in page]
    assert sorted(shown(first)[:-1] + rest) == sorted(set(team["current"]) - {key})
    assert shown(second)[0] not in shown(first)
    past = client.get(path, query_string={"after": "zzzz-after-everyone"})
    assert past.status_code == 200 and "No more members." in past.get_data(as_text=True)


def test_a_removal_from_a_later_page_comes_back_to_that_page(client, team, small_pages):
    path, ids = team["path"], team["ids"]
    later_url = next_link(client.get(path).get_data(as_text=True))
    later = client.get(later_url).get_data(as_text=True)
    name, after = shown(later)[0], re.search(r'name="after" type="hidden" value="([^"]*)"',
                                             later).group(1)
    response = client.post(f"{path}/{ids[name]}/remove",
                           data={"csrf_token": csrf(client, path), "after": html.unescape(after)})
    assert response.status_code == 303
    back = client.get(response.headers["Location"]).get_data(as_text=True)
    assert name not in shown(back) and "removed" in back and "First page" in back


@pytest.mark.parametrize("key", ["x" * 81, "nul\x00byte", "tab\there", "\x7f"])
def test_a_bad_page_key_is_a_clean_400(client, team, key):
    response = client.get(team["path"], query_string={"after": key})
    assert response.status_code == 400
    if "\x00" not in key:  # NUL is refused for every page before the view
        assert "after must be a username" in response.get_data(as_text=True)
    some = team["ids"]["ann"]
    response = client.post(f"{team['path']}/{some}/remove",
                           data={"csrf_token": csrf(client, team["path"]), "after": key})
    assert response.status_code == 400
    assert "ann" in shown(client.get(team["path"]).get_data(as_text=True))


def test_each_removal_form_carries_the_pages_one_token_and_a_removal_needs_it(
        client, team, make_user):
    path, ann = team["path"], team["ids"]["ann"]
    page = client.get(path).get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="[^"]*/remove">(.*?)</form>', page, re.S)
    tokens = {re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
              for form in forms}
    assert len(forms) == len(team["current"]) and len(tokens) == 1
    token = tokens.pop()
    for data in ({}, {"csrf_token": ""}, {"csrf_token": token[:-2] + "xx"},
                 {"csrf_token": "not-a-token"}):
        assert client.post(f"{path}/{ann}/remove", data=data).status_code == 400, data
    other = client.application.test_client()
    make_user("manager", username="mo")
    login(other, "mo")
    theirs = csrf(other, "/projects")
    assert theirs != token
    assert client.post(f"{path}/{ann}/remove", data={"csrf_token": theirs}).status_code == 400
    assert "ann" in shown(client.get(path).get_data(as_text=True))
    assert client.post(f"{path}/{ann}/remove", data={"csrf_token": token}).status_code == 303
    assert "ann" not in shown(client.get(path).get_data(as_text=True))
