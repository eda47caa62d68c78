"""Serving the Slack app: HTTP through waitress (a multi-threaded WSGI server), or Socket Mode."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"


def wsgi_application(app: App) -> Callable[..., Iterable[bytes]]:
    """Events and interactivity at /slack/events; GET /healthz for load balancers."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return slack(environ, start_response)

    return application


class HttpServer:
    """waitress in front of Bolt, so one slow request never holds up the others."""

    def __init__(self, app: App, *, host: str, port: int, threads: int = 16) -> None:
        self._server = waitress.create_server(
            wsgi_application(app),
            host=host,
            port=port,
            threads=threads,
            connection_limit=1000,
            ident="hr-approval-bot",
        )
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return self._server.effective_port

    def serve_forever(self) -> None:
        """Serve until stop(); the loop closes the server itself, so no socket is closed
        under its feet."""
        server = self._server
        try:
            while not self._stopping.is_set():
                server.asyncore.loop(
                    timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1
                )
        finally:
            server.task_dispatcher.shutdown()
            for channel in list(server._map.values()):  # the listener, trigger and keep-alives
                channel.close()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    return SocketModeHandler(app, app_token)
