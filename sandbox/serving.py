"""Runs a stand-in HTTP server on a loopback thread, for tests and local trials."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import weakref
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Self


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


def stop_with_parent(stop: Callable[[], object]) -> None:
    """As a child process: the parent holds our stdin open; when it closes (the parent stopped
    or died), call `stop`."""
    threading.Thread(target=lambda: (sys.stdin.read(), stop()), daemon=True).start()
