"""The HRIS sandbox over HTTP: the bearer API key checked, the route table (sandbox/hris/api.py)
dispatched, every refusal in the vendor's error shape, and every request kept so that tests can
prove what was, and was not, sent."""

from __future__ import annotations

import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sandbox.hr_api import SeenRequest
from sandbox.hris.api import ROUTES, Answer, Call, Route
from sandbox.hris.errors import (
    PROBLEM_JSON,
    BadRequest,
    HRISError,
    NotAllowed,
    NotFound,
    TooLarge,
    Unauthorized,
    error_body,
)
from sandbox.hris.openapi import build
from sandbox.hris.records import Records
from sandbox.hris.shapes import read_body, read_query
from sandbox.serving import BackgroundServer, MethodHandler, RecordingServer

SANDBOX_API_KEY = "hris-sandbox-key"
MAX_BODY_BYTES = 64 * 1024


class _Handler(MethodHandler):
    server: _Server

    def respond(self, method: str) -> None:
        headers = dict(self.headers.items())
        try:
            raw = self._read_body()
        except HRISError as e:
            self.server.record(SeenRequest(method, self.path, headers, b"", time.monotonic()))
            self.close_connection = True  # the unread body would be taken for the next request
            self._send(e.status, error_body(e), PROBLEM_JSON, e.headers)
            return
        self.server.record(SeenRequest(method, self.path, headers, raw, time.monotonic()))
        try:
            status, body = self.server.answer(method, self.path, headers, raw)
        except HRISError as e:
            self._send(e.status, error_body(e), PROBLEM_JSON, e.headers)
            return
        self._send(status, body)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            raise BadRequest.of("Content-Length is not a number")
        if int(length) > MAX_BODY_BYTES:
            raise TooLarge.of(f"The body is larger than {MAX_BODY_BYTES} bytes.")
        return self.rfile.read(int(length)) if int(length) else b""

    def _send(
        self,
        status: int,
        body: Any,
        content_type: str = "application/json",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(RecordingServer):
    def __init__(self, address: tuple[str, int], records: Records, api_key: str) -> None:
        super().__init__(address, _Handler)
        self.records = records
        self.api_key = api_key
        self.document = build()
        self.verbose = False

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        parts = urlsplit(target)
        given = headers.get("Authorization", "")
        # Without the key, nothing is told about which paths exist.
        authorized = hmac.compare_digest(given.encode(), f"Bearer {self.api_key}".encode())
        routes = [(route, match) for route in ROUTES if (match := route.pattern.match(parts.path))]
        if not authorized and not any(route.public for route, _ in routes):
            raise Unauthorized.of(
                "Send the API key as 'Authorization: Bearer KEY'.",
                headers=(("WWW-Authenticate", 'Bearer realm="hris-sandbox"'),),
            )
        if not routes:
            raise NotFound.of(f"The endpoint with {parts.path} was not found.")
        chosen = [(route, match) for route, match in routes if route.method == method]
        if not chosen:
            allowed = ", ".join(route.method for route, _ in routes)
            raise NotAllowed.of(
                f"{method} is not allowed on {parts.path}.", headers=(("Allow", allowed),)
            )
        route, match = chosen[0]
        call = Call(
            records=self.records,
            base_url=self.base_url,
            path=parts.path,
            params={name: unquote(value) for name, value in match.groupdict().items()},
            query=read_query(route.query, parts.query),
            body=_body(route, headers, raw),
            document=self.document,
        )
        return route.answer(call)


def _body(route: Route, headers: dict[str, str], raw: bytes) -> dict[str, Any] | None:
    if route.body is None:
        if raw.strip():
            raise BadRequest.of(f"{route.method} {route.path} takes no body.")
        return None
    if not raw.strip():
        if route.body_required:
            raise BadRequest.of("A JSON body is required.")
        return {}
    if not headers.get("Content-Type", "").startswith("application/json"):
        raise BadRequest.of("Send the body as application/json.")
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise BadRequest.of(f"The body is not valid JSON: {e}") from e
    return read_body(route.body, value)


class HRISSandbox(BackgroundServer):
    """The Personio-shaped HRIS sandbox on a background thread:
    `with HRISSandbox() as hris: requests.get(hris.url + "/v2/persons", headers=hris.auth)`."""

    def __init__(
        self,
        db_path: str | Path = ":memory:",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = SANDBOX_API_KEY,
    ) -> None:
        if not api_key:
            raise ValueError("the HRIS sandbox needs an API key")
        self.records = Records(db_path)
        self.api_key = api_key
        try:
            super().__init__(_Server((host, port), self.records, api_key))
        except OSError:
            self.records.close()
            raise

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def auth(self) -> dict[str, str]:
        """The header that authorises a request."""
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def document(self) -> dict[str, Any]:
        """The OpenAPI document it serves at /openapi.json (with the default server address)."""
        return self._server.document

    @property
    def seen(self) -> list[SeenRequest]:
        """Every request received so far, oldest first."""
        return self._server.snapshot()

    def writes_seen(self) -> list[SeenRequest]:
        """The requests other than GET: what would have changed the HR system."""
        return [request for request in self.seen if request.method != "GET"]

    def set_verbose(self, verbose: bool) -> None:
        self._server.verbose = verbose

    def stop(self) -> None:
        super().stop()
        self.records.close()
