"""The page benchmark's pure helpers: which pages, their keyed variants, the CSRF
token of a form, and the strides that spread an item's labels over distinct workers."""
from __future__ import annotations

from flask import Flask

from benchmarks._pages_routes import csrf_token, fill_rule, page_rules, variants
from benchmarks._pages_world import strides, worker_name

PAGE = """
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="tok-1"></form>
<table><tr><th><a href="?sort=labels&amp;dir=desc">Labels</a></th>
<th><a href="?sort=state">State</a></th></tr></table>
<a href="/projects/7/items?after=123">Next page</a>
<a href="/projects/7/items?after=99">Previous page</a>
<a href="/elsewhere?x=1">elsewhere</a>
<a href="/projects/7/items">no query</a>
<form method="get" action="/projects/7/items">
  <input type="hidden" name="view" value="table">
  <label for="s">Status</label>
  <select id="s" name="status"><option value="">any</option><option value="open">open</option>
    <option value="complete">complete</option></select>
  <label for="l">Label</label>
  <select id="l" name="label"><option value="cat" selected>cat</option>
    <option value="dog">dog</option></select>
  <label for="q">Search</label><input id="q" type="search" name="q">
  <input type="submit" value="Filter">
</form>
<form method="post" action="/projects/7/items"><select name="status"><option>x</option></select>
</form>
"""


def test_variants_one_per_kind_of_link_and_one_per_filter() -> None:
    found = variants("/projects/7/items", PAGE, "i42")
    assert found == [
        "/projects/7/items?after=123",
        "/projects/7/items?sort=labels&dir=desc",
        "/projects/7/items?sort=state",
        "/projects/7/items?view=table&status=open",
        "/projects/7/items?view=table&label=dog",
        "/projects/7/items?view=table&q=i42",
    ]


def test_a_next_link_comes_before_other_links_with_its_keys() -> None:
    html = '<a href="?after=1">Previous</a><a href="?after=2" rel="next">›</a>'
    assert variants("/p", html, "x") == ["/p?after=2"]


def test_no_variants_on_a_page_without_queries() -> None:
    assert variants("/", "<p>hello</p><a href='/work/1'>work</a>", "x") == []


def test_csrf_token_of_the_first_form_that_has_one() -> None:
    assert csrf_token(PAGE) == "tok-1"
    assert csrf_token("<form></form>") == ""


def test_page_rules_and_their_paths() -> None:
    app = Flask(__name__)
    for rule, endpoint, methods in (("/manage/<int:project_id>", "ui.manage", ["GET"]),
                                    ("/review/<int:project_id>/<int:item_id>", "ui.resolve",
                                     ["POST"]),
                                    ("/api/v1/me", "api.me", ["GET"]),
                                    ("/x/<name>", "ui.x", ["GET"])):
        app.add_url_rule(rule, endpoint, lambda **_: "", methods=methods)
    rules = page_rules(app)
    assert [rule.rule for rule in rules] == ["/manage/<int:project_id>", "/x/<name>"]
    assert fill_rule(app, rules[0], {"project_id": 3}) == "/manage/3"
    assert fill_rule(app, rules[1], {"project_id": 3}) is None


def test_strides_are_coprime_with_the_workers() -> None:
    for working in (1960, 196, 49, 7, 2):
        found = strides(working)
        assert found
        for stride in found:
            picked = {(5 + j * stride) % working for j in range(working)}
            assert len(picked) == working  # k < working labels go to k distinct workers


def test_worker_names_sort_by_position() -> None:
    assert worker_name(7) == "bench-w00007"
    assert sorted([worker_name(10), worker_name(9)]) == [worker_name(9), worker_name(10)]
