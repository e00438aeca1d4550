"""Debian's nginx (``apt-get install nginx-light``) with ``deploy/nginx/crowd.conf``
in front of two test servers, for ``test_two_servers``."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from email.message import Message
from pathlib import Path

import pytest

from tests.databases import in_ci
from tests.system.server import REPO_ROOT, GunicornServer, free_port

DEPLOY_SITE = REPO_ROOT / "deploy" / "nginx" / "crowd.conf"
LIMIT = 50 * 1024 * 1024  # CROWD_MAX_IMPORT_BYTES's default, client_max_body_size 50m


class NginxProxy:
    """Debian's nginx with deploy/nginx/crowd.conf in front of ``upstreams``: the
    site's two upstream addresses, its port and its log path substituted, nothing else."""

    def __init__(self, binary: str, upstreams: list[GunicornServer], folder: Path) -> None:
        self.binary, self.upstreams, self.folder = binary, upstreams, folder
        self.host, self.port = "127.0.0.1", 0
        self.process: subprocess.Popen[bytes] | None = None
        self.check_output = ""

    def _write_config(self) -> Path:
        a, b = self.upstreams
        site = DEPLOY_SITE.read_text()
        for old, new in {"127.0.0.1:8001": f"{a.host}:{a.port}", "127.0.0.1:8002": f"{b.host}:{b.port}",
                         "listen 80;": f"listen {self.host}:{self.port};",
                         "/var/log/nginx/crowd.access.log": str(self.folder / "access.log")}.items():
            assert site.count(old) == 1, old
            site = site.replace(old, new)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "crowd.conf").write_text(site)
        temp = "".join(f"{kind}_temp_path {self.folder / kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        main = self.folder / "nginx.conf"
        main.write_text(("user root root;\n" if os.geteuid() == 0 else "")
                        + f"worker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
                        + f"error_log {self.folder / 'error.log'};\n"
                        + "events { worker_connections 512; }\n"
                        + f"http {{\n{temp}include {self.folder / 'crowd.conf'};\n}}\n")
        return main

    def start(self) -> NginxProxy:
        self.port = free_port(self.host)
        main = self._write_config()
        args = [self.binary, "-p", str(self.folder), "-c", str(main),
                "-e", str(self.folder / "error.log")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
        self.check_output = check.stderr.strip()
        assert check.returncode == 0, self.check_output
        self.process = subprocess.Popen([*args, "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "error.log").read_text()
            try:
                if self.get("/healthz", {})[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"nginx did not answer: {(self.folder / 'error.log').read_text()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the group this test started
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, Message, bytes]:
        conn = self.connection(10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def raw_post(self, path: str, *, declared: int | None = None, chunked_bytes: int = 0,
                 token: str | None = None) -> tuple[int, Message, bytes]:
        """POST with a declared Content-Length (and no body), or a chunked body of
        ``chunked_bytes`` (a JSON array of spaces); nginx's answer."""
        framing = (f"Content-Length: {declared}" if declared is not None
                   else "Transfer-Encoding: chunked")
        if token:
            framing += f"\r\nAuthorization: Bearer {token}"
        with socket.create_connection((self.host, self.port), timeout=60) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nConnection: close\r\n"
                         f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode())
            if declared is None:
                try:
                    sent, step = 0, 1024 * 1024
                    while sent < chunked_bytes:
                        size = min(step, chunked_bytes - sent)
                        chunk = bytearray(b" " * size)
                        if sent == 0:
                            chunk[0:1] = b"["
                        if sent + size == chunked_bytes:
                            chunk[-1:] = b"]"
                        sock.sendall(f"{size:x}\r\n".encode() + bytes(chunk) + b"\r\n")
                        sent += size
                    sock.sendall(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # nginx answered and closed early: read what it said
            response = http.client.HTTPResponse(sock)
            response.begin()
            return response.status, response.headers, response.read()


def missing(message: str) -> None:
    """Skip locally; under CI (which installs nginx-light) fail."""
    if in_ci():
        pytest.fail(f"{message}, which CI does not allow")
    pytest.skip(message)
