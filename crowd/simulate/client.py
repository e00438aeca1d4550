"""A small JSON client of the crowd API on one kept-alive connection (stdlib only)."""
from __future__ import annotations

import http.client
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

API = "/api/v1"
# A kept-alive connection the server closed while idle fails on its next use;
# the request is sent again once on a new connection. Every call the simulator
# repeats this way is idempotent on the server (next returns the held lease,
# answering the same label again returns the same 200).
RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
             http.client.CannotSendRequest, http.client.BadStatusLine)
# A 503 (the database unavailable for a moment, e.g. under a CPU-starved host) is
# answered with Retry-After; the call is sent again after it, this many times at most.
# Every response still counts in ``statuses``, so a run's report shows them.
UNAVAILABLE_RETRIES = 5
MAX_RETRY_WAIT = 2.0


class ApiError(Exception):
    """A call that did not get the status it needed."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        self.status, self.body = status, body
        detail = body.get("error", {}).get("message") if isinstance(body, dict) else None
        super().__init__(f"{method} {path} -> {status}" + (f": {detail}" if detail else ""))

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict):
            return self.body.get("error", {}).get("code")
        return None


class Api:
    """Calls to ``base_url`` (``http://host:port``, optionally with a path prefix),
    with a bearer token once ``token`` is set. Not thread-safe: one per thread or worker."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/") + API
        self.token, self.timeout = token, timeout
        self.statuses: Counter[int] = Counter()
        self.reconnects = 0
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = (http.client.HTTPSConnection if self.scheme == "https"
                    else http.client.HTTPConnection)
            self._conn = kind(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, decoded body) of one request; JSON bodies are parsed, others are text."""
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for _ in range(UNAVAILABLE_RETRIES):
            status, data, wait = self._send(method, path, payload, headers)
            if status != 503:
                return status, data
            time.sleep(wait)
        status, data, _ = self._send(method, path, payload, headers)
        return status, data

    def _send(self, method: str, path: str, payload: bytes | None,
              headers: dict[str, str]) -> tuple[int, Any, float]:
        """(status, decoded body, seconds a 503 asks to wait) of one request."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, self.prefix + path, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except RETRYABLE:
                self.close()
                if attempt == 2:
                    raise
                self.reconnects += 1
        self.statuses[response.status] += 1
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        wait = _retry_after(response.getheader("Retry-After"))
        media = response.getheader("Content-Type", "")
        if media.startswith("application/json") and raw:
            return response.status, json.loads(raw), wait
        return response.status, raw.decode("utf-8", "replace"), wait

    def expect(self, method: str, path: str, body: Any = None,
               ok: tuple[int, ...] = (200, 201)) -> Any:
        """The decoded body of a call that must answer one of ``ok``; ``ApiError`` otherwise."""
        status, data = self.call(method, path, body)
        if status not in ok:
            raise ApiError(method, path, status, data)
        return data

    def jsonl(self, path: str) -> list[dict[str, Any]]:
        """The rows of a JSON-lines download."""
        status, data = self.call("GET", path)
        if status != 200 or not isinstance(data, str):
            raise ApiError("GET", path, status, data)
        return [json.loads(line) for line in data.splitlines() if line.strip()]


def _retry_after(value: str | None) -> float:
    """Seconds of a ``Retry-After`` header (a number of seconds), capped; 1 if unreadable."""
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_WAIT)
