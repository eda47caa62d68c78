"""Runs a stand-in HTTP server on a loopback thread, for tests and local trials."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import weakref
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class RecordingServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that keeps every request its handler records (`seen`, in order),
    so a test can assert what reached it."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.seen: list[Any] = []
        self._seen_lock = threading.Lock()

    def record(self, request: Any) -> None:
        with self._seen_lock:
            self.seen.append(request)

    def snapshot(self) -> list[Any]:
        with self._seen_lock:
            return list(self.seen)


class BackgroundServer:
    """Owns one ThreadingHTTPServer and the thread serving it: `with Server(...) as s: s.url`."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        server.daemon_threads = True
        self._server = server
        # Every connection taken, so that stopping cuts the kept-alive ones too, as a server
        # that goes away does (else a client's pooled connection would still be answered).
        self._connections: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        taken = server.get_request

        def get_request() -> tuple[socket.socket, object]:
            connection, address = taken()
            self._connections.add(connection)
            return connection, address

        server.get_request = get_request  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops."""
        self._thread.join()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MethodHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 handler for a stand-in API: each method goes to `respond(method)`, and requests
    are logged only while the server's `verbose` is set."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm on, a kept-alive client's
    # delayed ACK would hold the body back ~40 ms on every answer.
    disable_nagle_algorithm = True

    def respond(self, method: str) -> None:
        raise NotImplementedError

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self.respond("GET")

    def do_POST(self) -> None:
        self.respond("POST")

    def do_PUT(self) -> None:
        self.respond("PUT")

    def do_PATCH(self) -> None:
        self.respond("PATCH")

    def do_DELETE(self) -> None:
        self.respond("DELETE")


def stop_with_parent(stop: Callable[[], object]) -> None:
    """As a child process: the parent holds our stdin open; when it closes (the parent stopped
    or died), call `stop`."""
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
