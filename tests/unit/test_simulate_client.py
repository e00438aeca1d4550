"""The simulator's API client waits out a 503 as the API asks (Retry-After), boundedly."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from crowd.simulate import client
from crowd.simulate.client import Api


@contextmanager
def _server(unavailable: int) -> Iterator[tuple[str, list[str]]]:
    """A local server that answers 503 (Retry-After: 0) ``unavailable`` times, then 200."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.path)
            failing = len(seen) <= unavailable
            body = json.dumps({"error": {"code": "database_unavailable", "message": "x"}}
                              if failing else {"accepted": True}).encode()
            self.send_response(503 if failing else 200)
            if failing:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_503_is_sent_again_after_retry_after_and_every_response_is_counted() -> None:
    with _server(unavailable=2) as (url, seen):
        api = Api(url, token="t")
        status, body = api.call("POST", "/assignments/1/answer", {"label": "a"})
    assert (status, body) == (200, {"accepted": True})
    assert len(seen) == 3
    assert api.statuses == {503: 2, 200: 1}


def test_a_database_that_stays_unavailable_gives_the_503_back_after_the_bounded_retries() -> None:
    with _server(unavailable=100) as (url, seen):
        status, body = Api(url).call("POST", "/projects/1/next")
    assert status == 503 and body["error"]["code"] == "database_unavailable"
    assert len(seen) == client.UNAVAILABLE_RETRIES + 1


def test_retry_after_is_read_as_seconds_and_capped() -> None:
    assert client._retry_after("0") == 0.0
    assert client._retry_after("1") == 1.0
    assert client._retry_after("3600") == client.MAX_RETRY_WAIT
    assert client._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 1.0
    assert client._retry_after(None) == 1.0
    assert client._retry_after("-5") == 0.0
