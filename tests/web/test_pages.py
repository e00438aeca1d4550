"""Page access: each role reaches its own pages, nobody else's."""
from __future__ import annotations

import re

import pytest

from tests.support import join


def _login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": "password-123",
                                           "csrf_token": token})
    assert response.status_code == 302


@pytest.mark.parametrize(("role", "allowed"), [
    ("worker", {"/work/{p}"}),
    ("expert", {"/review/{p}"}),
    ("manager", {"/manage/{p}"}),
    ("admin", {"/manage/{p}", "/review/{p}"}),
])
def test_each_role_opens_only_its_own_pages(app, make_project, make_user, manager, role,
                                            allowed):
    project = make_project(n_items=1)
    make_user(role, username=f"page-{role}")
    if role in ("expert", "manager"):
        join(manager, project["id"], f"page-{role}")
    client = app.test_client()
    _login(client, f"page-{role}")
    for path in ("/work/{p}", "/review/{p}", "/manage/{p}"):
        status = client.get(path.format(p=project["id"])).status_code
        assert status == (200 if path in allowed else 403), (path, status)


@pytest.mark.parametrize("role", ["expert", "manager"])
def test_a_project_page_of_another_team_is_404(app, make_project, make_user, role):
    project = make_project(n_items=1)
    make_user(role, username=f"outsider-{role}")
    client = app.test_client()
    _login(client, f"outsider-{role}")
    page = {"expert": "/review/{p}", "manager": "/manage/{p}"}[role]
    assert client.get(page.format(p=project["id"])).status_code == 404
    assert f"/manage/{project['id']}" not in client.get("/").get_data(as_text=True)


def test_pages_send_anonymous_visitors_to_the_login_page(app, make_project):
    project = make_project(n_items=1)
    client = app.test_client()
    for path in ("/", f"/work/{project['id']}", f"/manage/{project['id']}",
                 f"/review/{project['id']}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_manager_downloads_results_as_csv_from_the_project_page(app, make_project, make_user,
                                                               manager):
    project = make_project(n_items=2)
    make_user("manager", username="page-manager")
    join(manager, project["id"], "page-manager")
    client = app.test_client()
    _login(client, "page-manager")
    response = client.get(f"/manage/{project['id']}/download/results.csv")
    assert response.status_code == 200
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("external_id,status,label") and len(lines) == 3
    assert client.get(f"/manage/{project['id']}/download/secrets.csv").status_code == 404
