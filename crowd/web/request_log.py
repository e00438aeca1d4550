"""Request ids and, with ``CROWD_LOG_FORMAT=json``, one JSON log line per request.

Every request gets an id: the client's ``X-Request-Id`` if it is a sane token
(RFC 9110 token characters, at most 128), otherwise a new random one. It is
echoed in the response's ``X-Request-Id`` and put in the 500 body and in every
JSON log line written during the request, so a client's report can be matched
to the server's log.

In JSON mode the ``crowd`` logger (the app's logger and every ``crowd.*`` one)
writes one JSON object per line to stderr, which is gunicorn's error log. A
request line names the URL rule, never the path's query string, and no body,
cookie or header but the request id: passwords, tokens and item data stay out.
Each request line also gives the SQL statements the request sent (``statements``)
and the CPU time its thread spent (``cpu_ms``), for finding what a route costs.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler
from sqlalchemy import event, inspect

HEADER = "X-Request-Id"
LOG_FORMATS = ("text", "json")
REQUEST_LOGGER = "crowd.request"
MAX_ID_LENGTH = 128
_SANE_ID = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1," + str(MAX_ID_LENGTH) + "}")
# Per-request state lives in the WSGI environ, not ``g``: a test may hold one
# app context open over several requests, and ``g`` would then be shared.
_ID_KEY = "crowd.request_id"
_START_KEY = "crowd.request_start"
_FIELDS_KEY = "crowd.request_fields"
_CPU_KEY = "crowd.request_cpu"
_STATEMENTS_KEY = "crowd.request_statements"

log = logging.getLogger(REQUEST_LOGGER)


def is_sane_id(value: str) -> bool:
    """Whether a client's request id may be used as ours (token chars, 1 to 128)."""
    return _SANE_ID.fullmatch(value) is not None


def request_id() -> str:
    """This request's id, chosen on first use (call inside a request)."""
    environ = request.environ
    if _ID_KEY not in environ:
        offered = request.headers.get(HEADER, "")
        environ[_ID_KEY] = offered if is_sane_id(offered) else uuid.uuid4().hex
    return str(environ[_ID_KEY])


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    return request_id() if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request_id,
    the record's ``crowd_fields`` and, with an exception, its ``traceback``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id(),
        }
        entry.update(getattr(record, "crowd_fields", None) or {})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii keeps a line one line: newlines and the like are escaped.
        return json.dumps(entry, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time (gunicorn's error log;
    pytest's capture in tests), like :data:`logging.lastResort`."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr


def configure_logging(log_format: str, name: str = "crowd") -> None:
    """Make logger ``name`` write JSON lines to stderr (``json``), or undo that (``text``).

    The logger is process-wide; the last app made in a process decides.
    """
    logger = logging.getLogger(name)
    for handler in [h for h in logger.handlers if isinstance(h, StderrHandler)]:
        logger.removeHandler(handler)
    if log_format == "json":
        handler = StderrHandler()
        handler.setFormatter(JsonFormatter())
        logger.removeHandler(default_handler)  # Flask's text handler, if added already
        logger.addHandler(handler)
        logger.propagate = False  # a root handler would print each line a second time
        logging.getLogger(REQUEST_LOGGER).setLevel(logging.INFO)
    else:
        logger.propagate = True
        logging.getLogger(REQUEST_LOGGER).setLevel(logging.NOTSET)


def _start() -> None:
    request.environ[_START_KEY] = time.perf_counter()
    # The request runs on one thread (gunicorn's gthread worker), so the thread's
    # CPU clock measures this request alone, waits for the database excluded.
    request.environ[_CPU_KEY] = time.thread_time()
    request.environ[_STATEMENTS_KEY] = 0
    request_id()


def _count_statement(*_args: Any) -> None:
    """Counts each SQL statement the engine sends during a request."""
    if has_request_context() and _STATEMENTS_KEY in request.environ:
        request.environ[_STATEMENTS_KEY] += 1


def _user_id() -> int | None:
    """The API token's user, else a browser user already loaded by flask-login.

    Reading ``g._login_user`` instead of ``current_user``, and the id from the
    identity map instead of the attribute, logs who the request acted as without
    a query, even after a failed request's session was rolled back and closed.
    """
    user = g.get("api_user") or g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    state = inspect(user, raiseerr=False)
    identity = state.identity if state is not None else None
    return int(identity[0]) if identity else None


def _finish(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    rule = request.url_rule
    request.environ[_FIELDS_KEY] = {
        "method": request.method,
        "route": rule.rule if rule is not None else request.path,
        "status": response.status_code,
        "user_id": _user_id(),
        "client": request.remote_addr,
    }
    return response


def _log_request(_exc: BaseException | None) -> None:
    fields = request.environ.get(_FIELDS_KEY) or {
        "method": request.method, "route": request.path, "status": 500,
        "user_id": None, "client": request.remote_addr,
    }
    cpu = request.environ.get(_CPU_KEY)
    fields["cpu_ms"] = round((time.thread_time() - cpu) * 1000, 2) if cpu is not None else None
    start = request.environ.get(_START_KEY)  # read after the CPU clock: the span holds it
    fields["duration_ms"] = (
        round((time.perf_counter() - start) * 1000, 2) if start is not None else None
    )
    fields["statements"] = request.environ.get(_STATEMENTS_KEY)
    log.info("request", extra={"crowd_fields": fields})


def init_app(app: Flask) -> None:
    """Give ``app`` request ids and, with ``LOG_FORMAT`` ``json``, JSON request lines."""
    log_format = app.config.get("LOG_FORMAT", "text")
    if log_format not in LOG_FORMATS:
        raise ValueError(
            f"CROWD_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {log_format!r}")
    configure_logging(log_format, app.name)
    # First, so the clock and the id are there even when a later hook refuses.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    if log_format == "json":
        app.teardown_request(_log_request)
        event.listen(app.extensions["crowd_db"].engine, "before_cursor_execute",
                     _count_statement)
