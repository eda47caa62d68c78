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
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def health(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def wsgi_application(app: App, extra: dict[str, WSGIApp] | None = None) -> WSGIApp:
    """Events and interactivity at /slack/events, GET /healthz for load balancers, and any
    `extra` paths (each a WSGI app of its own)."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    routes: dict[str, WSGIApp] = {"/healthz": health, **(extra or {})}

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO") or "")
        if route is not None:
            return route(environ, start_response)
        return slack(environ, start_response)

    return application


class HttpServer:
    """waitress in front of Bolt, so one slow request never holds up the others."""

    def __init__(self, application: WSGIApp, *, host: str, port: int, threads: int = 16) -> None:
        self._server = waitress.create_server(
            application,
            host=host,
            port=port,
            threads=threads,
            connection_limit=1000,
            ident="hr-approval-bot",
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.effective_port

    def serve_forever(self) -> None:
        """Serve until stop() (or Ctrl-C in this thread); requests under way are finished."""
        try:
            self._server.run()
        finally:
            self._server.task_dispatcher.shutdown()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and idle connections from waitress's own loop (through its
        trigger, the one safe way in from another thread); the loop ends when none are left."""
        self._server.trigger.pull_trigger(self._close)
        if self._thread is not None:
            self._thread.join()

    def _close(self) -> None:
        self._server.close()
        for channel in list(self._server.active_channels.values()):
            if channel.requests:  # answer what is being answered, then hang up
                channel.will_close = True
            else:
                channel.close()


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    return SocketModeHandler(app, app_token)
