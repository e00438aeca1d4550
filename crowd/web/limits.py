"""Limits at the edge of the app: header size, body size (chunked or not), text in forms.

``InputLimits`` wraps the WSGI app, so it acts before Flask, CSRF or any view:

* a request whose headers are too large (one field over ``MAX_HEADER_FIELD``
  bytes, or all together over ``MAX_HEADERS``) is answered 431;
* a body sent without ``Content-Length`` (``Transfer-Encoding: chunked``; gunicorn
  then sets ``wsgi.input_terminated``) is read here, at most
  ``MAX_CONTENT_LENGTH + 1`` bytes, into a spooled file. Over the limit it is
  answered 413 and nothing of it reaches the app; under, the app sees it as an
  ordinary body with a ``Content-Length``. (Werkzeug alone would stop reading
  such a body at the limit and hand the app the first part as if it were whole.)

Errors are the JSON error body under ``/api/``, a short page elsewhere.
"""
from __future__ import annotations

import json
import tempfile
from html import escape
from collections.abc import Iterable
from typing import IO, Any

from flask import Flask, abort, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from werkzeug.wsgi import ClosingIterator, get_content_length

from crowd.domain.errors import InvalidInput
from crowd.domain.text import text_problem

MAX_HEADER_FIELD = 8 * 1024  # bytes of one header, name and value
MAX_HEADERS = 32 * 1024  # bytes of all headers together
SPOOL_IN_MEMORY = 1024 * 1024  # a buffered chunked body goes to a temporary file beyond this
READ_SIZE = 64 * 1024
SPOOL_KEY = "crowd.spooled_input"


def too_large_message(limit: int | None) -> str:
    return f"the request body is larger than the limit of {limit} bytes"


def read_bounded(stream: IO[bytes], limit: int, sink: IO[bytes] | None = None) -> bytes:
    """Read ``stream`` to its end, but never more than ``limit + 1`` bytes.

    Over ``limit`` raises ``RequestEntityTooLarge``. The bytes are returned, or
    written to ``sink`` (then ``b""`` is returned).
    """
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(READ_SIZE, limit + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise RequestEntityTooLarge(too_large_message(limit))
        if sink is not None:
            sink.write(chunk)
        else:
            parts.append(chunk)
    return b"".join(parts)


def _header_sizes(environ: dict[str, Any]) -> Iterable[tuple[str, int]]:
    for key, value in environ.items():
        if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            yield key, len(key) + len(str(value))


class InputLimits:
    """WSGI middleware enforcing the header limits and the body limit of ``app``."""

    def __init__(self, wsgi_app: Any, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        refusal = self._header_refusal(environ)
        if refusal is not None:
            return refusal(environ, start_response)
        refusal, spool = self._bound_body(environ)
        if refusal is not None:
            return refusal(environ, start_response)
        if spool is None:
            return ClosingIterator(self.wsgi_app(environ, start_response),
                                   [lambda: self._drain(environ)])
        environ[SPOOL_KEY] = spool  # closed when the request ends (see register)
        return ClosingIterator(self.wsgi_app(environ, start_response), [spool.close])

    def _drain(self, environ: dict[str, Any]) -> None:
        """Read what the app left of a body within the limit, once it has answered.

        A view may answer (401, 404, ...) without reading an upload; a server that
        then closes the connection with body bytes still unread resets it, and a
        proxy still sending them (nginx) reports 502 instead of the app's answer.
        """
        length = get_content_length(environ)
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if not length or (limit is not None and length > limit):
            return
        stream = environ["wsgi.input"]
        try:
            while stream.read(READ_SIZE):
                pass
        except OSError:
            pass  # the client went away: nothing left to protect

    def _header_refusal(self, environ: dict[str, Any]) -> Response | None:
        total = 0
        for key, size in _header_sizes(environ):
            total += size
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            if size > MAX_HEADER_FIELD:
                return _refusal(environ, 431, "header_too_large",
                                f"the {name} header is larger than {MAX_HEADER_FIELD} bytes")
        if total > MAX_HEADERS:
            return _refusal(environ, 431, "header_too_large",
                            f"the request headers are larger than {MAX_HEADERS} bytes together")
        return None

    def _bound_body(self, environ: dict[str, Any]) -> tuple[Response | None, IO[bytes] | None]:
        """Turn a body of unknown length into one of known length, or refuse it.

        Returns a refusal, or the spooled body now standing in for ``wsgi.input``.
        """
        terminated = environ.pop("wsgi.input_terminated", False)
        if get_content_length(environ) is not None or not terminated:
            return None, None  # werkzeug limits it by Content-Length (or reads none)
        limit = self.app.config.get("MAX_CONTENT_LENGTH")
        if limit is None:
            environ["wsgi.input_terminated"] = terminated
            return None, None
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        try:
            read_bounded(environ["wsgi.input"], limit, sink=spool)
        except RequestEntityTooLarge:
            spool.close()
            return _refusal(environ, 413, "too_large", too_large_message(limit)), None
        except BaseException:
            spool.close()
            raise
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the app sees a plain, whole body
        environ["CONTENT_LENGTH"] = str(spool.tell())
        spool.seek(0)
        environ["wsgi.input"] = spool
        return None, spool  # type: ignore[return-value]


def _refusal(environ: dict[str, Any], status: int, code: str, message: str) -> Response:
    if environ.get("PATH_INFO", "").startswith("/api/"):
        body = json.dumps({"error": {"code": code, "message": message}})
        return Response(body, status, mimetype="application/json")
    page = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(message)}.</p>"
    return Response(page, status, mimetype="text/html")


def check_request_text() -> None:
    """Refuse query parameters and form fields holding text that cannot be stored.

    (Werkzeug decodes them as UTF-8 and keeps a malformed sequence such as
    ``%ED%A0%80`` as those literal characters, so only NUL can get through.)
    """
    sources = [("query parameter", request.args)]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(("form field", request.form))
    for kind, values in sources:
        for key, value in values.items(multi=True):
            problem = text_problem(key) or text_problem(value)
            if problem:
                field = f"{kind} {key!r}"
                if request.path.startswith("/api/"):
                    raise InvalidInput(f"the {field} {problem}", code="invalid_text",
                                       details={"field": key})
                abort(400, description=f"The {field} {problem}; please correct it and retry.")


def register(app: Flask) -> None:
    """Install the middleware and the text check on ``app``."""
    app.wsgi_app = InputLimits(app.wsgi_app, app)  # type: ignore[method-assign]
    app.before_request(check_request_text)

    @app.teardown_request
    def _close_spooled_input(_error: BaseException | None) -> None:
        spool = request.environ.get(SPOOL_KEY)
        if spool is not None:
            spool.close()
