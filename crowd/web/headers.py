"""Security headers on every response.

The pages load their one style sheet and one script from ``/static``; no inline
script or style is allowed, so injected markup cannot run or restyle a page.
Images come from crowd itself or ``data:`` URIs, and from the origins a deployment
lists in ``CROWD_IMAGE_SOURCES`` (none by default: an item's image URL elsewhere is
shown as a link, and the worker's browser fetches nothing from another site).
"""
from __future__ import annotations

from flask import Flask, Response

from crowd.domain.worker_page import parse_origins

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def headers_for(image_origins: tuple[str, ...]) -> dict[str, str]:
    """``HEADERS`` with ``image_origins`` added to the CSP's ``img-src``."""
    if not image_origins:
        return HEADERS
    policy = CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data:", "img-src 'self' data: " + " ".join(image_origins))
    return {**HEADERS, "Content-Security-Policy": policy}


def init_app(app: Flask) -> None:
    """Send the headers on every response; ``IMAGE_SOURCES`` is checked here (a
    malformed origin stops the app from starting) and kept as ``IMAGE_ORIGINS``."""
    app.config["IMAGE_ORIGINS"] = parse_origins(app.config.get("IMAGE_SOURCES", ""))
    headers = headers_for(app.config["IMAGE_ORIGINS"])

    def _secure(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    app.after_request(_secure)
