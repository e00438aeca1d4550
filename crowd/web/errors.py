"""Turning refusals into JSON errors: ``{"error": {"code", "message"}}``."""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from crowd.domain.errors import (
    BadRequest,
    Conflict,
    CrowdError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    Unauthorized,
)

STATUS: dict[type[CrowdError], int] = {
    BadRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    InvalidInput: 422,
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


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    """Install the handlers: JSON under /api/, the usual pages elsewhere."""

    @app.errorhandler(CrowdError)
    def _crowd_error(error: CrowdError) -> Any:
        return error_response(status_of(error), error.code, error.message, error.details)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        if _is_api():
            return error_response(400, "csrf", error.description)
        return error.description, 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        if not _is_api():
            return error
        status = error.code or 500
        message = error.description or error.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"the request body is larger than the limit of {limit} bytes"
        return error_response(status, HTTP_CODES.get(status, "error"), message)

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError) -> Any:
        app.logger.exception("unhandled error", exc_info=error.original_exception)
        if not _is_api():
            return "Internal server error", 500
        return error_response(500, "internal", "an unexpected error happened; it was logged")
