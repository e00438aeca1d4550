"""The error pages a browser gets: crowd's own layout, plain words and a way back; never
framework text or a traceback. The JSON API keeps its error bodies (``crowd.web.errors``).

The 500 and 503 pages are *bare*: they do not load the signed-in user, since the
database may be the very thing that failed; every other page shows the usual header.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request

WORDS: dict[int, tuple[str, str]] = {
    400: ("This request could not be used",
          "Something in what was sent could not be read. Go back, check the form and try again."),
    401: ("Please log in", "This page needs you to be logged in."),
    403: ("You may not open this page",
          "Your account does not have access to this page. If you think it should, ask a "
          "manager of the project."),
    404: ("Page not found",
          "There is no page at this address, or it is not one your account can open. Check the "
          "address, or start again from the home page."),
    405: ("This page cannot be used that way",
          "The address exists, but not for this kind of request (a form sent to a page that "
          "only shows something, for example). Go back and use the page's own buttons."),
    409: ("That changed in the meantime",
          "Someone else changed this while you were on the page. Reload it and try again."),
    410: ("No longer available", "What this address pointed to is no longer available."),
    413: ("That is too large", "What was sent is larger than crowd accepts in one request."),
    415: ("That kind of file cannot be used",
          "crowd cannot read what was sent. Use one of the formats the page asks for."),
    422: ("That could not be used", "Some of what was sent is not valid. Go back and correct it."),
    429: ("Too many requests", "Too many requests came in a short time. Wait a moment and retry."),
    431: ("Request headers too large",
          "The browser sent more header data than crowd accepts; clearing this site's cookies "
          "usually helps."),
    500: ("Something went wrong",
          "crowd could not finish this request. The error has been logged. Try again; if it "
          "keeps happening, tell the people who run crowd."),
    503: ("crowd is unavailable just now",
          "The database cannot be reached at the moment. Wait a few seconds and reload the page."),
}
CSRF_MESSAGE = ("This form has expired or did not come from crowd's own page. Go back, reload "
                "the page and send the form again.")
BARE = (500, 503)


@dataclass(frozen=True)
class ErrorPage:
    """What the error template shows."""

    status: int
    title: str
    message: str
    request_id: str | None = None
    back: str | None = None


def back_link() -> str | None:
    """The page the browser came from, if it is another page of this site."""
    referrer = request.referrer
    if not referrer or len(referrer) > 2000:
        return None
    parts = urlsplit(referrer)
    if parts.netloc != request.host or not parts.path.startswith("/"):
        return None
    if parts.path == request.path or any(ord(ch) < 0x21 or ch == "\\" for ch in parts.path):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_for(status: int, message: str | None = None, request_id: str | None = None) -> ErrorPage:
    """The page for ``status``: crowd's words, or ``message`` where one was given."""
    title, default = WORDS.get(status, WORDS[500] if status >= 500 else WORDS[400])
    return ErrorPage(status, title, message or default, request_id,
                     None if status in BARE else back_link())


def render(status: int, message: str | None = None, request_id: str | None = None) -> Response:
    """The error page as a response; plain text if even the template cannot render."""
    page = page_for(status, message, request_id)
    try:
        if status in BARE:  # without the context processors: Flask-Login's loads the user
            html = current_app.jinja_env.get_template("error.html").render(
                page=page, bare_page=True)
        else:
            html = render_template("error.html", page=page, bare_page=False, error_page=True)
    except Exception:  # the page must not fail while reporting a failure
        current_app.logger.exception("the error page for %d could not be rendered", status)
        text = f"{page.title}. {page.message}" + (
            f" (request id {request_id})" if request_id else "")
        return Response(text + "\n", status=status, mimetype="text/plain")
    return Response(html, status=status, mimetype="text/html")
