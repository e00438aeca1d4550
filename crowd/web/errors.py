"""Turning refusals into responses: JSON errors ``{"error": {"code", "message"}}`` under
/api/ (and for clients that ask for JSON), crowd's error pages (``crowd.web.error_pages``)
for browsers."""
from __future__ import annotations

import sqlite3
import time
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from crowd.domain.errors import (
    BadRequest,
    Conflict,
    CrowdError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from crowd.web import error_pages

STATUS: dict[type[CrowdError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    InvalidInput: 422,
    TooManyRequests: 429,
}

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
}


def error_response(status: int, code: str, message: str, details: Any = None) -> tuple[Response, int]:
    """A JSON error body with ``status``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return jsonify({"error": body}), status


def status_of(error: CrowdError) -> int:
    """The HTTP status for a domain refusal."""
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


# Seconds a client should wait before retrying after a 503 (database unavailable).
RETRY_AFTER_SECONDS = 1
# Failures of the database rather than of a statement: a retry may well succeed.
UNAVAILABLE = (
    sa_exc.OperationalError,  # connection refused or lost, SQLite "database is locked"
    sa_exc.InterfaceError,  # a connection already closed
    sa_exc.TimeoutError,  # no pooled connection came free in time
    psycopg.OperationalError, sqlite3.OperationalError,  # unwrapped, if one slips through
)


# SQLite calls a missing table or a syntax error an OperationalError too: those are
# bugs (500); only these messages say the file is busy or cannot be used just now.
SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached or used just now."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, sqlite3.Error):
        return isinstance(cause, sqlite3.OperationalError) and any(
            mark in str(cause).lower() for mark in SQLITE_TRANSIENT)
    if isinstance(error, UNAVAILABLE):
        return True
    return isinstance(error, sa_exc.DBAPIError) and bool(error.connection_invalidated)


def unavailable_response() -> Any:
    """503 with ``Retry-After``: JSON under /api/ and for /readyz, a bare page elsewhere."""
    message = "the database is unavailable just now; retry shortly"
    if _wants_json() or request.path == "/readyz":
        response, status = error_response(503, "database_unavailable", message)
    else:
        response, status = error_pages.render(503), 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


_quiet = {"until": 0.0, "skipped": 0}  # one warning a second, not one per failed request


def _log_unavailable(app: Flask, error: Exception) -> None:
    now = time.monotonic()
    if now < _quiet["until"]:
        _quiet["skipped"] += 1
        return
    skipped, _quiet["skipped"], _quiet["until"] = _quiet["skipped"], 0, now + 1.0
    text = str(error).strip()
    app.logger.warning("database unavailable (%s): %s%s", type(error).__name__,
                       text.splitlines()[0] if text else "",
                       f" [and {skipped} more since the last warning]" if skipped else "")


def _is_api() -> bool:
    return request.path.startswith("/api/")


def _wants_json() -> bool:
    """The API, or a script asking for JSON rather than a page (a browser's ``*/*`` or
    ``text/html`` gets the page)."""
    if _is_api():
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _custom_description(error: HTTPException) -> str | None:
    """A description the code gave (``abort(400, description=...)``), not werkzeug's own."""
    description = error.description
    return description if description and description != type(error).description else None


def _no_method_matches(app: Flask, error: HTTPException) -> bool:
    """Whether a 405 is really a 404: werkzeug answers 405 when a rule of the same shape
    serves another method, before that rule's converter has refused the value (an id
    beyond the range, say), so re-match with each method it offered."""
    adapter = app.url_map.bind_to_environ(request.environ)
    for method in getattr(error, "valid_methods", None) or ():
        try:
            adapter.match(method=method)
        except HTTPException as refusal:
            if refusal.code in (404, 405):
                continue
            return False  # a redirect: the URL does match
        return False
    return True


def register(app: Flask) -> None:
    """Install the handlers: JSON under /api/, the usual pages elsewhere."""

    @app.errorhandler(CrowdError)
    def _crowd_error(error: CrowdError) -> Any:
        if _wants_json():
            response, status = error_response(status_of(error), error.code, error.message,
                                              error.details)
        else:
            status = status_of(error)
            response = error_pages.render(status, error.message)
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.retry_after)
        return response, status

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        if _wants_json():
            return error_response(400, "csrf", error.description)
        return error_pages.render(400, error_pages.CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        status = error.code or 500
        if status < 400:
            return error
        json = _wants_json()
        message = (error.description or error.name) if json else _custom_description(error)
        if status == 405 and _no_method_matches(app, error):
            status = 404
            message = "The requested URL was not found on the server." if json else None
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if status == 413 and limit:
            message = (f"the request body is larger than the limit of {limit} bytes" if json
                       else f"What was sent is larger than the limit of {limit / 2**20:g} MB.")
        if json:
            response, status = error_response(status, HTTP_CODES.get(status, "error"), message)
        else:
            response = error_pages.render(status, message)
            for name, value in error.get_headers() if status == error.code else ():
                if name.lower() != "content-type":  # Retry-After, WWW-Authenticate...
                    response.headers.setdefault(name, value)
        if status == 405:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods or ()))
        return response, status

    @app.errorhandler(sa_exc.DBAPIError)
    @app.errorhandler(sa_exc.TimeoutError)
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(sqlite3.OperationalError)
    def _database_error(error: Exception) -> Any:
        if not database_unavailable(error):
            raise error  # a bug, not an outage: Flask logs it and answers 500
        from crowd.extensions import db

        db.discard()
        _log_unavailable(app, error)
        return unavailable_response()

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError) -> Any:
        # Flask has logged the traceback already (once, with the request id in JSON mode).
        from crowd.web.request_log import request_id

        if not _wants_json():
            return error_pages.render(500, request_id=request_id())
        return jsonify({"error": {"code": "internal", "request_id": request_id(),
                                  "message": "an unexpected error happened; it was logged"}}), 500
