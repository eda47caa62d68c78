"""Serving the Slack app: HTTP through waitress (a multi-threaded WSGI server), or Socket Mode."""

from __future__ import annotations

import html
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl

import waitress
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

EVENTS_PATH = "/slack/events"
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def health(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


class ShownPage(Protocol):
    status: int
    title: str
    text: str


PAGE_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    # The URL carries a one-time code: never cached, never sent on as a referrer, never framed.
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
]
STATUS_WORDS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    405: "Method Not Allowed",
    502: "Bad Gateway",
}


def page_application(answer: Callable[[Mapping[str, str]], ShownPage]) -> WSGIApp:
    """A GET endpoint whose query goes to `answer`, shown as a small HTML page."""

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            status, title, text = 405, "Not allowed", "Only GET is served here."
        else:
            query = dict(parse_qsl(environ.get("QUERY_STRING") or "", max_num_fields=20))
            page = answer(query)
            status, title, text = page.status, page.title, page.text
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            '<meta name=viewport content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} · HR bot</title>"
            '<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 36em; margin: 4em auto; '
            'padding: 0 1em"><main>'
            f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></main></body></html>"
        ).encode()
        word = STATUS_WORDS.get(status, "Error")
        start_response(f"{status} {word}", [*PAGE_HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    return application


def wsgi_application(app: App | None, extra: dict[str, WSGIApp] | None = None) -> WSGIApp:
    """Events and interactivity at /slack/events (unless `app` is None: Socket Mode brings
    them), GET /healthz for load balancers, and any `extra` paths (each a WSGI app of its own)."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else not_found
    routes: dict[str, WSGIApp] = {"/healthz": health, **(extra or {})}

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        route = routes.get(environ.get("PATH_INFO") or "")
        if route is not None:
            return route(environ, start_response)
        return slack(environ, start_response)

    return application


def not_found(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"not found"]


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
