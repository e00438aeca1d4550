"""Streamed file downloads, shared by the API and the manager's page."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Response, stream_with_context

MEDIA = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv"}


def download(body: Iterable[str], fmt: str, filename: str) -> Response:
    """A streamed attachment of ``body`` chunks in ``fmt``."""
    response = Response(stream_with_context(body), mimetype=MEDIA[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
