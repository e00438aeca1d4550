"""Every page of the UI, as each kind of user who may open it, must be usable by everyone.

The pages are found in the URL map (every GET rule of the ``ui`` blueprint), so a page
added later is checked with no change here as long as its path parameters are among
``World.parameters``; the error pages are checked too. Each page is rendered as every
persona (manager, expert, admin, a worker in each state, nobody); every HTML answer is
checked with html.parser: a CSRF token in each POST form, a label for each field, no
inline script, ``style=`` or ``on*=`` handler, and the CSP header. In chromium (on
SQLite), axe-core (from ``axe-playwright-python``, injected with ``bypass_csp`` in this
test only) must find no "serious" or "critical" violation, and at 375 px nothing may
scroll sideways.
Screenshots of every page at both widths go to test-artifacts/a11y/.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Api, new_user
from tests.databases import backends, in_ci
from tests.support import join
from tests.web.conftest import kept_app
from tests.web.page_audit import audit

PASSWORD = "password-123"
WORKER_STATES = ("new", "qualification", "active", "retraining", "suspended")
PERSONAS = ("anonymous", "manager", "expert", "admin", *(f"worker-{s}" for s in WORKER_STATES))
IMPACTS = ("serious", "critical")
PHONE = {"width": 375, "height": 800}
DESKTOP = {"width": 1280, "height": 900}
# Pages outside the ui blueprint that a browser shows: the error pages.
PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
         "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")  # one pixel, as an item's image field
EXTRA = (("error-404", "/no-such-page"), ("error-404-project", "/work/2147483000"))


@dataclass
class World:
    project: int
    users: dict[str, tuple[int, str]]  # persona -> (id, username)
    parameters: dict[str, Any]
    pages: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, path)
    unfilled: list[str] = field(default_factory=list)


def _qualify(worker: Api, project: int, work_answers: int) -> None:
    """Answer gold as the gold label says until ``work_answers`` work items are answered."""
    answered = 0
    for _ in range(40):
        offer = worker.post(f"/projects/{project}/next")
        if offer.status_code != 200 or answered >= work_answers:
            return
        body = offer.get_json()
        work = body["mode"] == "work"
        label = "negative" if work else "positive"
        reply = worker.post(f"/assignments/{body['assignment_id']}/answer", {"label": label})
        assert reply.status_code == 200, reply.get_json()
        answered += work


def build_world(app: Flask) -> World:
    """A project with work items, gold, a qualification round, an item in review, its
    manager and expert, an admin, and a worker in each state."""
    client = app.test_client()
    tokens, users = {}, {}
    for persona in PERSONAS[1:]:
        role = persona.split("-")[0]
        user_id, tokens[persona] = new_user(app, role, f"ax-{persona}")
        users[persona] = (user_id, f"ax-{persona}")
    manager = Api(client, tokens["manager"])
    created = manager.post("/projects", {
        "name": "Reviews <b>& more</b>", "labels": ["positive", "negative", "neutral"],
        "guidelines": "# How to label\n\nPick **one** label per review.\n\n- positive\n- negative",
        # No hidden gold: the workers' made-up answers must not get anyone sanctioned.
        "qualification_size": 2, "qualification_accuracy": 0.5, "gold_rate": 0.0,
        "redundancy": 1, "max_redundancy": 1, "confidence_threshold": 1.0})
    assert created.status_code == 201, created.get_json()
    project = created.get_json()["id"]
    items = [{"external_id": f"w{i}", "data": {"text": f"A review, number {i}. " * (1 + i % 4),
                                               "stars": i % 5, "image": PIXEL}}
             for i in range(16)]
    items += [{"external_id": f"g{i}", "data": {**items[i]["data"], "text": f"Gold review {i}"},
               "gold_label": "positive"} for i in range(8)]
    assert manager.post(f"/projects/{project}/items", items).status_code == 201
    join(manager, project, "ax-expert")
    first = manager.as_(tokens["worker-qualification"]).post(f"/projects/{project}/next")
    assert first.status_code == 200, first.get_json()
    for persona, work in (("worker-active", 3), ("worker-retraining", 1), ("worker-suspended", 1)):
        _qualify(manager.as_(tokens[persona]), project, work)
    for persona, state in (("worker-retraining", "retraining"), ("worker-suspended", "suspended")):
        changed = manager.post(f"/projects/{project}/workers/{users[persona][0]}/state",
                               {"state": state, "reason": f"accessibility check: {state}"})
        assert changed.status_code == 200, changed.get_json()
    queue = manager.as_(tokens["expert"]).get(f"/reviews?project={project}").get_json()["items"]
    assert queue, "the world needs an item in review"
    active = users["worker-active"][0]
    parameters = {"project_id": project, "worker_id": active, "user_id": active,
                  "member_id": active, "item_id": queue[0]["item"]["id"],
                  "kind": "results", "fmt": "csv", "username": users["worker-active"][1]}
    world = World(project, users, parameters)
    _find_pages(app, world)
    return world


def _find_pages(app: Flask, world: World) -> None:
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("ui.") or "GET" not in (rule.methods or ()):
            continue
        missing = sorted(set(rule.arguments) - set(world.parameters))
        if missing:
            world.unfilled.append(f"{rule.rule}: no value for {', '.join(missing)}")
            continue
        values = {name: world.parameters[name] for name in rule.arguments}
        world.pages.append((rule.endpoint, adapter.build(rule.endpoint, values)))
    world.pages += list(EXTRA)


@pytest.fixture(scope="module", params=backends())
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World]]:
    with kept_app(request, tmp_path_factory) as app:
        yield app, build_world(app)


@pytest.fixture(scope="module", params=["sqlite"])
def browser_world(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, World]]:
    """The world on SQLite only: axe and the layout read the markup, which the HTML test
    has already compared on both databases (a run in chromium takes two minutes)."""
    with kept_app(request, tmp_path_factory) as app:
        yield app, build_world(app)


def _signed_in(app: Flask, world: World, persona: str) -> Any:
    """A test client with ``persona``'s session (none for anonymous)."""
    from crowd.extensions import db
    from crowd.persistence import User

    client = app.test_client()
    if persona != "anonymous":
        user_id = world.users[persona][0]
        with app.app_context():
            version = db.session.get_one(User, user_id).session_version
        with client.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = f"{user_id}:{version}", True
    return client


def rendered(app: Flask, world: World) -> Iterator[tuple[str, str, str, Any]]:
    """(persona, endpoint, path, response) of every page for every persona; redirects
    (to the login page, or onwards) are left out."""
    for persona in PERSONAS:
        client = _signed_in(app, world, persona)
        for endpoint, path in world.pages:
            response = client.get(path)
            if not 300 <= response.status_code < 400:
                yield persona, endpoint, path, response
            elif "/login" not in response.headers.get("Location", ""):
                yield persona, endpoint, path, None  # it answers, elsewhere
            response.close()  # a download streams


def test_every_page_has_labels_csrf_tokens_and_nothing_inline(
        world: tuple[Flask, World]) -> None:
    app, kept = world
    assert not kept.unfilled, ("pages whose path parameters this test cannot fill (add them "
                               f"to build_world's parameters): {kept.unfilled}")
    failures, opened = [], set()
    for persona, endpoint, path, response in rendered(app, kept):
        if response is None or response.status_code == 200:
            opened.add(endpoint)
        if response is None or response.mimetype != "text/html":
            continue
        policy = response.headers.get("Content-Security-Policy", "")
        if "script-src 'self'" not in policy or "unsafe-inline" in policy:
            failures.append(f"{path} as {persona}: CSP missing or weak: {policy!r}")
        failures += [f"{path} as {persona} ({response.status_code}): {finding}"
                     for finding in audit(response.get_data(as_text=True))]
    never = sorted({e for e, _ in kept.pages if e.startswith("ui.")} - opened)
    assert not never, f"pages no persona could open (fill their parameters better): {never}"
    assert not failures, "\n".join(["pages that fail the HTML checks:", *sorted(set(failures))])


# --- axe-core and the phone width, in chromium ------------------------------------------

def _axe_script() -> str:
    try:
        import axe_playwright_python
    except ImportError:
        message = "axe-playwright-python is missing (pip install -e '.[test]')"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def _visits(app: Flask, kept: World) -> dict[str, list[tuple[str, str, int]]]:
    """Per persona, the pages to open in the browser: each worker state's own pages, the
    other pages once signed out and once signed in (as the first of manager, expert,
    admin to get them), each error page likewise."""
    visits: dict[str, list[tuple[str, str, int]]] = {p: [] for p in PERSONAS}
    seen: set[tuple[str, int]] = set()
    for persona, endpoint, path, response in rendered(app, kept):
        if response is None or response.mimetype != "text/html":
            continue
        error_page = b'class="card narrow error-page"' in response.get_data()
        key = ("error" if error_page else endpoint, response.status_code,
               persona == "anonymous")
        if key in seen and (error_page or not persona.startswith("worker-")):
            continue
        seen.add(key)
        visits[persona].append((endpoint, path, response.status_code))
    return visits


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _violations(page: Any, script: str) -> list[str]:
    page.evaluate(script)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation.get("impact") not in IMPACTS:
            continue
        for node in violation["nodes"][:5]:
            where = " ".join(map(str, node["target"]))
            found.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} -- "
                         f"{where}: {node.get('failureSummary', '')[:200]}")
    return found


def _overflow(page: Any) -> str | None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] <= widths[1]:
        return None
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .filter(e => !e.closest('table, pre, .table-scroll') || e.matches('table, pre'))
        .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
            + (e.getAttribute('class') ? '.' + e.getAttribute('class').split(' ')[0] : ''))""")
    return f"scrolls sideways at 375 px ({widths[0]} > {widths[1]}): {', '.join(wide)}"


def _name(persona: str, endpoint: str, status: int) -> str:
    return "a11y/" + re.sub(r"[^a-z0-9-]+", "-", f"{persona}-{endpoint}-{status}".lower())


@pytest.mark.browser
def test_axe_finds_nothing_serious_and_no_page_scrolls_sideways_on_a_phone(
        browser_world: tuple[Flask, World]) -> None:
    from tests.web.browser_support import ARTIFACTS, chromium, live_server

    app, kept = browser_world
    script = _axe_script()
    visits = _visits(app, kept)
    (ARTIFACTS / "a11y").mkdir(parents=True, exist_ok=True)
    failures = []
    with live_server(app) as base, chromium() as browser:
        for persona, pages in visits.items():
            context = browser.new_context(bypass_csp=True, viewport=DESKTOP)  # axe's script
            page = context.new_page()
            if persona != "anonymous":
                _login(page, base, kept.users[persona][1])
            for endpoint, path, status in pages:
                page.set_viewport_size(DESKTOP)
                page.goto(base + path)
                name = _name(persona, endpoint, status)
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                failures += [f"{path} as {persona}: {v}" for v in _violations(page, script)]
                page.set_viewport_size(PHONE)
                page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
                wide = _overflow(page)
                if wide:
                    failures.append(f"{path} as {persona}: {wide}")
            context.close()
    assert not failures, "\n".join(["axe and phone-width failures:", *failures])
