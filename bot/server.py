"""Serving the Slack app: HTTP through waitress (a multi-threaded WSGI server), or Socket Mode."""

from __future__ import annotations

import queue
import threading
import time
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
    """waitress in front of Bolt, so one slow request never holds up the others.

    In the main thread, `serve_forever()` ends on Ctrl-C or SIGTERM the way waitress ends
    (`run()`). On a thread, `stop()` ends it gracefully: waitress has no stop of its own, so the
    steps run on waitress's loop thread through its trigger, and the trigger is closed last,
    when no worker is left that could pull it."""

    STOP_SECONDS = 10.0

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
        self._server.run()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop taking connections, let every request under way be answered, then close."""
        server = self._server
        self._on_loop(lambda: setattr(server, "accepting", False))
        deadline = time.monotonic() + self.STOP_SECONDS
        while self._on_loop(self._close_idle_connections) and time.monotonic() < deadline:
            time.sleep(0.02)
        server.task_dispatcher.shutdown()  # every worker has finished; none will pull again
        server.trigger.pull_trigger(server.close)  # the listener and the trigger, last
        if self._thread is not None:
            self._thread.join(self.STOP_SECONDS)

    def _on_loop(self, step: Callable[[], Any]) -> Any:
        """Run `step` on waitress's loop thread and return its result."""
        done: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._server.trigger.pull_trigger(lambda: done.put(step()))
        return done.get(timeout=self.STOP_SECONDS)

    def _close_idle_connections(self) -> int:
        """Close connections with nothing under way; returns how many are still busy."""
        busy = 0
        for channel in list(self._server.active_channels.values()):
            if channel.requests or channel.total_outbufs_len:
                busy += 1
            else:
                channel.handle_close()
        return busy


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    return SocketModeHandler(app, app_token)
