"""What every page shares beyond its template: the navigation by role and the favicon.

The links are offered only for pages that exist in this app (``current_app.view_functions``)
and that the user's role may open, so a page added later appears in the bar by a line
in ``NAV`` or ``PROJECT_AREAS``, and one that is not there yet is simply not linked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request, send_from_directory, url_for
from flask_login import current_user

# (endpoints, the first that exists is linked; text; roles that see it, None: everyone)
NAV: tuple[tuple[tuple[str, ...], str, tuple[str, ...] | None], ...] = (
    (("ui.home",), "Home", None),
    (("ui.projects_list", "ui.projects"), "Projects", ("manager", "admin")),
)
# A project's areas, linked while a page of that project is open.
PROJECT_AREAS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ui.work", "Work", ("worker",)),
    ("ui.manage", "Manage", ("manager", "admin")),
    ("ui.review", "Review", ("expert", "admin")),
)
FAVICON = "favicon.svg"
FAVICON_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class NavLink:
    text: str
    url: str
    current: bool


def _link(endpoint: str, text: str, **values: Any) -> NavLink:
    current = request.endpoint == endpoint and all(
        (request.view_args or {}).get(key) == value for key, value in values.items())
    return NavLink(text, url_for(endpoint, **values), current)


def nav_links(project_areas: bool = True) -> list[NavLink]:
    """The bar's links for the signed-in user (none for anyone else); with
    ``project_areas``, those of the project whose page this is (not on an error page,
    where the project may be one the user cannot reach)."""
    if not current_user.is_authenticated:
        return []
    role, known = current_user.role, current_app.view_functions
    links = []
    for endpoints, text, roles in NAV:
        endpoint = next((e for e in endpoints if e in known), None)
        if endpoint is not None and (roles is None or role in roles):
            links.append(_link(endpoint, text))
    project_id = (request.view_args or {}).get("project_id")
    if project_areas and isinstance(project_id, int):
        links += [_link(endpoint, text, project_id=project_id)
                  for endpoint, text, roles in PROJECT_AREAS
                  if endpoint in known and role in roles]
    return links


def favicon() -> Response:
    """``/favicon.ico``: browsers ask for it whatever the page links; crowd's SVG."""
    return send_from_directory(current_app.static_folder or "", FAVICON,
                               mimetype="image/svg+xml", max_age=FAVICON_MAX_AGE)


def register(app: Flask) -> None:
    """The navigation for every template and the ``/favicon.ico`` route."""
    app.add_template_global(nav_links, "nav_links")
    app.add_url_rule("/favicon.ico", "favicon", favicon, methods=["GET"])
