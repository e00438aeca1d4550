"""A TCP proxy for fault tests: sits between a server and its database and can cut it.

    with TcpProxy("127.0.0.1", 5432) as proxy:
        # point the app at 127.0.0.1:<proxy.port> instead of the database's port
        proxy.cut()                    # every connection closed, new ones closed at once
        proxy.restore()                # connections pass again
        proxy.hang()                   # new connections accepted but never answered

Threads only, 127.0.0.1 only: the proxy listens on a free loopback port and
forwards to a loopback target. ``cut`` shuts down both sides of every open
connection (the client sees the server go away mid-conversation) and then
accepts and closes every new one (the client sees "server closed the
connection"). ``hang`` is a black hole for new connections: they are accepted
and held silently, which only a client-side connect timeout ends.
"""
from __future__ import annotations

import socket
import threading
from types import TracebackType

LOOPBACK = "127.0.0.1"
_CHUNK = 65536


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on it
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """Forward 127.0.0.1:<port> to ``target_host:target_port`` until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        if target_host not in (LOOPBACK, "localhost"):
            raise ValueError("the fault proxy forwards to 127.0.0.1 only")
        self.target = (LOOPBACK, target_port)
        self.mode = "pass"  # "pass", "cut" or "hang"
        self.accepted = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)

    # -- control ---------------------------------------------------------------

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def cut(self) -> int:
        """Close every open connection and turn new ones away; how many were closed."""
        with self._lock:
            self.mode = "cut"
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)
        return len(sockets) // 2

    def hang(self) -> None:
        """Hold new connections open without forwarding a byte (open ones are cut)."""
        self.cut()
        with self._lock:
            self.mode = "hang"

    def restore(self) -> None:
        """Forward new connections again."""
        with self._lock:
            self.mode = "pass"
            held, self._open = self._open, set()
        for sock in held:  # connections held by hang() are let go, not forwarded
            _close(sock)

    def stop(self) -> None:
        """Stop listening and close everything (also on leaving the ``with`` block)."""
        self._stopped.set()
        _close(self._listener)
        self.cut()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, _type: type[BaseException] | None, _exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self.stop()

    # -- forwarding ------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed by stop()
            with self._lock:
                mode = self.mode
                if mode == "hang":
                    self._open.add(client)
            if mode == "cut":
                self.refused += 1
                _close(client)
            elif mode == "pass":
                threading.Thread(target=self._connect, args=(client,), daemon=True,
                                 name="tcp-proxy-conn").start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            if self.mode != "pass":  # cut while we were connecting
                _close(client)
                _close(upstream)
                return
            self._open.update((client, upstream))
            self.accepted += 1
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True,
                         name="tcp-proxy-up").start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy ``source`` to ``sink`` until either side ends; then end both."""
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)
        _close(source)
        _close(sink)
