"""A small HR directory REST API (reqres-compatible) in SQLite, for trying the bot and for tests."""

from __future__ import annotations

import json
import math
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlite_utils

from sandbox.hr_oauth import HRAuthorizationServer, Incoming, OAuthSettings, Reply
from sandbox.serving import BackgroundServer, MethodHandler, RecordingServer

PER_PAGE = 6
MAX_BODY_BYTES = 64 * 1024
EDITABLE_FIELDS = {"name": str, "job": str, "email": str, "first_name": str, "last_name": str}
MAX_FIELD_LENGTH = 200

SEED = [
    ("George", "Bluth", "chief executive"),
    ("Janet", "Weaver", "payroll specialist"),
    ("Emma", "Wong", "software engineer"),
    ("Eve", "Holt", "recruiter"),
    ("Charles", "Morris", "accountant"),
    ("Tracey", "Ramos", "designer"),
    ("Michael", "Lawson", "sales lead"),
    ("Lindsay", "Ferguson", "office manager"),
    ("Tobias", "Funke", "analyst"),
    ("Byron", "Fields", "support engineer"),
    ("George", "Edwards", "data engineer"),
    ("Rachel", "Howell", "product manager"),
    ("Amara", "Okafor", "benefits coordinator"),
    ("Lukas", "Brandt", "site reliability engineer"),
    ("Priya", "Raman", "legal counsel"),
    ("Mateo", "Silva", "marketing manager"),
    ("Hannah", "Kowalski", "QA engineer"),
    ("Yusuf", "Demir", "facilities lead"),
    ("Ines", "Carvalho", "training coordinator"),
    ("Noah", "Lindqvist", "security engineer"),
]

_USER_PATH = re.compile(r"^/api/users/(?P<id>[1-9][0-9]{0,9})$")


def _email(first: str, last: str) -> str:
    return f"{first}.{last}".lower().replace(" ", "") + "@reqres.in"


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in ("id", "email", "first_name", "last_name", "job")}


@dataclass(frozen=True)
class SeenRequest:
    """One request as the sandbox received it; tests use these to prove what was (not) sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() on arrival
    subject: str | None = None  # with OAuth on: whose access token authorised it


class BadRequest(Exception):
    """The request body is not acceptable; the message goes back to the client."""


@dataclass
class Directory:
    """The employee records, in one SQLite file (or memory)."""

    path: str
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(
            sqlite3.connect(self.path, check_same_thread=False),
            execute_plugins=False,
        )
        with self._lock:
            if "users" not in self.db.table_names():
                self.db["users"].create(
                    {"id": int, "email": str, "first_name": str, "last_name": str, "job": str},
                    pk="id",
                )
                self.db["users"].insert_all(
                    {"email": _email(f, last), "first_name": f, "last_name": last, "job": job}
                    for f, last, job in SEED
                )
            if "idempotency" not in self.db.table_names():
                self.db["idempotency"].create(
                    {"key": str, "method": str, "path": str, "status": int, "body": str},
                    pk="key",
                )

    def page(self, number: int) -> dict[str, Any]:
        with self._lock:
            total = self.db["users"].count
            rows = list(
                self.db["users"].rows_where(
                    order_by="id", limit=PER_PAGE, offset=(number - 1) * PER_PAGE
                )
            )
        return {
            "page": number,
            "per_page": PER_PAGE,
            "total": total,
            "total_pages": math.ceil(total / PER_PAGE),
            "data": [_public(row) for row in rows],
        }

    def get(self, user_id: int) -> dict[str, Any] | None:
        with self._lock:
            rows = list(self.db["users"].rows_where("id = ?", [user_id]))
        return _public(rows[0]) if rows else None

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        record = _record_fields(fields, require_name=True)
        record.setdefault("job", "")
        record.setdefault("email", _email(record["first_name"], record["last_name"]))
        with self._lock:
            user_id = self.db["users"].insert(record).last_pk
        return {**self.get(user_id), "name": _full_name(record), "createdAt": _now()}

    def update(self, user_id: int, fields: dict[str, Any]) -> dict[str, Any] | None:
        changes = _record_fields(fields, require_name=False)
        if not changes:
            raise BadRequest(f"body must set at least one of {sorted(EDITABLE_FIELDS)}")
        with self._lock:
            if not list(self.db["users"].rows_where("id = ?", [user_id])):
                return None
            self.db["users"].update(user_id, changes)
        record = self.get(user_id)
        return {**record, "name": _full_name(record), "updatedAt": _now()}

    def delete(self, user_id: int) -> bool:
        with self._lock:
            if not list(self.db["users"].rows_where("id = ?", [user_id])):
                return False
            self.db["users"].delete(user_id)
        return True

    def replay(self, key: str, method: str, path: str) -> tuple[int, str] | None:
        with self._lock:
            rows = list(self.db["idempotency"].rows_where("key = ?", [key]))
        if rows and rows[0]["method"] == method and rows[0]["path"] == path:
            return rows[0]["status"], rows[0]["body"]
        if rows:
            raise BadRequest("Idempotency-Key was already used for a different request")
        return None

    def remember(self, key: str, method: str, path: str, status: int, body: str) -> None:
        with self._lock:
            self.db["idempotency"].insert(
                {"key": key, "method": method, "path": path, "status": status, "body": body},
                ignore=True,
            )

    def close(self) -> None:
        self.db.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _full_name(record: dict[str, Any]) -> str:
    return f"{record['first_name']} {record['last_name']}".strip()


def _record_fields(fields: dict[str, Any], *, require_name: bool) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    for name, value in fields.items():
        if not isinstance(value, str):
            raise BadRequest(f"field {name!r} must be a string")
        if len(value) > MAX_FIELD_LENGTH:
            raise BadRequest(f"field {name!r} is longer than {MAX_FIELD_LENGTH} characters")
    record = {key: value.strip() for key, value in fields.items() if key != "name"}
    if "name" in fields:
        parts = fields["name"].split()
        if not parts:
            raise BadRequest("field 'name' must not be empty")
        record.setdefault("first_name", parts[0])
        record.setdefault("last_name", " ".join(parts[1:]))
    if require_name and not record.get("first_name"):
        raise BadRequest("field 'name' is required")
    return record


class _Handler(MethodHandler):
    server: _Server

    def respond(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            self.close_connection = True
            return
        raw = self.rfile.read(length) if length else b""
        self.server.wait_if_held(method)
        arrived = time.monotonic()
        oauth = self.server.oauth
        incoming = Incoming(method, self.path, self.headers, raw)
        subject, answer = oauth.admit(incoming) if oauth else (None, None)
        headers = dict(self.headers.items())
        self.server.record(SeenRequest(method, self.path, headers, raw, arrived, subject))
        if answer is not None:
            self._reply(answer)
            return
        token = self.server.token
        if token and self.headers.get("Authorization") != f"Bearer {token}":
            self._send(HTTPStatus.UNAUTHORIZED, {"error": "missing or invalid bearer token"})
            return
        try:
            status, body = self._route(method, raw)
        except BadRequest as e:
            status, body = HTTPStatus.BAD_REQUEST, {"error": str(e)}
        self._send(status, body)

    def _route(self, method: str, raw: bytes) -> tuple[int, Any]:
        parts = urlsplit(self.path)
        directory = self.server.directory
        if parts.path == "/api/users":
            if method == "GET":
                return HTTPStatus.OK, directory.page(_page_number(parts.query))
            if method == "POST":
                return self._idempotent(method, lambda: (201, directory.create(_json_object(raw))))
            return HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{method} is not allowed here"}
        match = _USER_PATH.match(parts.path)
        if not match:
            return HTTPStatus.NOT_FOUND, {"error": f"no such resource: {parts.path}"}
        user_id = int(match["id"])
        not_found = (HTTPStatus.NOT_FOUND, {"error": f"employee {user_id} not found"})
        if method == "GET":
            record = directory.get(user_id)
            return (HTTPStatus.OK, {"data": record}) if record else not_found
        if method in ("PUT", "PATCH"):

            def update() -> tuple[int, Any]:
                record = directory.update(user_id, _json_object(raw))
                return (HTTPStatus.OK, record) if record else not_found

            return self._idempotent(method, update)
        if method == "DELETE":
            return self._idempotent(
                method,
                lambda: (HTTPStatus.NO_CONTENT, None) if directory.delete(user_id) else not_found,
            )
        return HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{method} is not allowed here"}

    def _idempotent(self, method: str, apply: Any) -> tuple[int, Any]:
        key = self.headers.get("Idempotency-Key")
        directory = self.server.directory
        if key:
            replayed = directory.replay(key, method, self.path)
            if replayed:
                return replayed[0], json.loads(replayed[1])
        status, body = apply()
        if key and int(status) < 500:
            directory.remember(key, method, self.path, int(status), json.dumps(body))
        return status, body

    def _send(self, status: int, body: Any) -> None:
        if body is None:
            self._reply(Reply(status))
        else:
            json_type = ("Content-Type", "application/json; charset=utf-8")
            self._reply(Reply(status, json.dumps(body).encode(), (json_type,)))

    def _reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


def _page_number(query: str) -> int:
    values = parse_qs(query, keep_blank_values=True).get("page", ["1"])
    if len(values) != 1 or not re.fullmatch(r"[1-9][0-9]{0,5}", values[0]):
        raise BadRequest("query parameter 'page' must be a positive whole number")
    return int(values[0])


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError as e:
        raise BadRequest(f"body is not valid JSON: {e}") from e
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


class _Server(RecordingServer):
    def __init__(self, address: tuple[str, int], directory: Directory, token: str | None) -> None:
        super().__init__(address, _Handler)
        self.directory = directory
        self.token = token
        self.oauth: HRAuthorizationServer | None = None  # set once the address is known
        self.verbose = False
        self._released = threading.Event()
        self._released.set()
        self.held = threading.Semaphore(0)
        self.hold_reads = True

    def wait_if_held(self, method: str) -> None:
        """While requests are held (a test stalling the HR API), wait until released."""
        if not self._released.is_set() and (self.hold_reads or method != "GET"):
            self.held.release()
            self._released.wait(30)


class HRSandbox(BackgroundServer):
    """The sandbox served on a background thread: `with HRSandbox(path) as hr: hr.url`. With
    `oauth=OAuthSettings(...)` it is also an OAuth 2.0 authorization server (sandbox/hr_oauth.py)
    and every HR API request needs one of its access tokens."""

    def __init__(
        self,
        db_path: str | Path = ":memory:",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        oauth: OAuthSettings | None = None,
    ) -> None:
        if token and oauth:
            raise ValueError("a static token and OAuth exclude each other: choose one")
        self.directory = Directory(str(db_path))
        super().__init__(_Server((host, port), self.directory, token))
        if oauth:
            try:
                self._server.oauth = HRAuthorizationServer(oauth, issuer=self.base_url)
            except ValueError:
                self.stop()
                raise

    @property
    def oauth(self) -> HRAuthorizationServer | None:
        return self._server.oauth

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def seen(self) -> list[SeenRequest]:
        """Every request received so far, oldest first."""
        return self._server.snapshot()

    def hold_requests(self, *, writes_only: bool = False) -> None:
        """Stall every request (or every write) from now on, as a slow HR API would, until
        release_requests()."""
        self._server.hold_reads = not writes_only
        self._server._released.clear()

    def wait_for_held(self, timeout: float = 10.0) -> None:
        if not self._server.held.acquire(timeout=timeout):
            raise AssertionError("no request reached the held HR API")

    def release_requests(self) -> None:
        self._server._released.set()

    def writes_seen(self) -> list[SeenRequest]:
        """The HR API requests other than GET (not the OAuth endpoints' own POSTs)."""
        oauth = self._server.oauth
        return [r for r in self.seen if r.method != "GET" and not (oauth and oauth.serves(r.path))]

    def set_verbose(self, verbose: bool) -> None:
        self._server.verbose = verbose

    def stop(self) -> None:
        super().stop()
        self.directory.close()
