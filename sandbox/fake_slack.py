"""A loopback stand-in for Slack's Web API and Socket Mode, as strict as Slack where it matters:
invalid Block Kit gets `invalid_blocks`, unknown messages `message_not_found`, a wrong token
`invalid_auth`, a method the app has no scope for `missing_scope`. Every call is recorded so
tests can see exactly what the bot sent."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from websockets.sync.server import ServerConnection, serve

from sandbox.serving import BackgroundServer

TEAM_ID = "T0TEAM"
OTHER_TEAM_ID = "T0OTHERORG"
BOT_USER_ID = "U0HRBOT"
BOT_ID = "B0HRBOT"
EMAIL_DOMAIN = "hr.example"


def member(user_id: str, name: str, *, team: str = TEAM_ID, **flags: Any) -> dict[str, Any]:
    """A users.info `user` object as Slack returns it for a full member, with `flags` on top
    (is_restricted, is_ultra_restricted, deleted, is_bot, is_app_user, is_stranger…)."""
    user = {
        "id": user_id,
        "team_id": team,
        "name": name.lower(),
        "real_name": name,
        "deleted": False,
        "is_bot": False,
        "is_app_user": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "profile": {"real_name": name, "email": f"{name.lower()}@{EMAIL_DOMAIN}"},
    }
    user.update(flags)
    return user


# The workspace's people: HR reps, approvers, an ordinary member, and every kind of person the
# bot must refuse. Tests add more with FakeSlack.add_user().
PEOPLE = {
    user["id"]: user
    for user in (
        member("U0DANA", "Dana"),
        member("U0ALICE", "Alice"),
        member("U0BOB", "Bob"),
        member("U0CAROL", "Carol"),
        member("U0GINA", "Gina"),
        member("U0EVE", "Eve"),
        member("U0GUEST", "Gus", is_restricted=True),
        member("U0SOLO", "Solo", is_restricted=True, is_ultra_restricted=True),
        member("U0GONE", "Gone", deleted=True),
        member("U0ROBOT", "Robot", is_bot=True),
        member("U0APPUSER", "Appy", is_app_user=True),
        member("U0OUTSIDER", "Olga", team=OTHER_TEAM_ID, is_stranger=True),
        member(BOT_USER_ID, "hrbot", is_bot=True),
    )
}
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100  # modals and Home tabs
MAX_METADATA = 3000
MAX_TEXT = 40000
MAX_MARKDOWN = 12000  # per chat.*Stream call
MAX_LOADING_MESSAGES = 10
_CHANNEL = re.compile(r"^[CDG][A-Z0-9]{2,30}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_TS = re.compile(r"[0-9]{10}\.[0-9]{6}")  # fullmatch
_ID_LIMIT = 255


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None


@dataclass
class Message:
    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions
    at: float = field(default_factory=time.monotonic)  # when it was posted
    user: str = BOT_USER_ID  # who wrote it: the bot, unless a person wrote it on the page
    streaming: bool = False  # started by chat.startStream and not stopped yet


class SlackError(Exception):
    """Slack would answer ok: false with this error code (and any `detail` fields beside it)."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(code)
        self.detail = detail


def check_blocks(blocks: Any, limit: int = MAX_BLOCKS) -> None:
    """Raise SlackError('invalid_blocks') where Slack would refuse the blocks."""
    if blocks is None:
        return
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError as e:
            raise SlackError("invalid_blocks_format") from e
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackError("invalid_blocks")
    block_ids = set()
    for block in blocks:
        if not isinstance(block, dict):
            raise SlackError("invalid_blocks")
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > _ID_LIMIT or block_id in block_ids:
                raise SlackError("invalid_blocks")
            block_ids.add(block_id)
        for element in block.get("elements") or []:
            if isinstance(element, dict) and len(element.get("action_id") or "") > _ID_LIMIT:
                raise SlackError("invalid_blocks")
        if block.get("type") == "rich_text":
            _check_rich_text(block)
        try:
            parsed = Block.parse(block)
            if parsed is None:
                raise SlackError("invalid_blocks")
            parsed.to_dict()  # runs slack_sdk's validators (lengths, counts, required fields)
        except (SlackObjectFormationError, KeyError, TypeError, AttributeError) as e:
            raise SlackError("invalid_blocks") from e


_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


def _check_rich_text(block: dict[str, Any]) -> None:
    """What slack_sdk leaves unchecked in rich text and Slack refuses: a text run without
    text, a mention of something that is not a user ID, a link that is not http(s)."""
    for section in block.get("elements") or []:
        runs = section.get("elements") if isinstance(section, dict) else None
        for run in runs or []:
            kind = run.get("type") if isinstance(run, dict) else None
            if kind == "text" and not (isinstance(run.get("text"), str) and run["text"]):
                raise SlackError("invalid_blocks")
            if kind == "user" and not _USER_ID.fullmatch(str(run.get("user_id") or "")):
                raise SlackError("invalid_blocks")
            if kind == "link" and not str(run.get("url") or "").startswith(("https://", "http://")):
                raise SlackError("invalid_blocks")


def _view(args: dict[str, Any], kind: str) -> dict[str, Any]:
    """The view an update or a publish gives: JSON of that type, its metadata within Slack's
    limit, its blocks checked like messages' (with a view's limit of 100)."""
    view = args.get("view")
    try:
        view = json.loads(view) if isinstance(view, str) else view
    except ValueError as e:
        raise SlackError("invalid_arguments") from e
    if not isinstance(view, dict) or view.get("type") != kind:
        raise SlackError("invalid_arguments")
    if len(str(view.get("private_metadata") or "")) > MAX_METADATA:
        raise SlackError("invalid_arguments")
    check_blocks(view.get("blocks"), MAX_VIEW_BLOCKS)
    return view


def _json_or_none(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class FakeSlack(BackgroundServer):
    """`with FakeSlack(bot_token=...) as slack:` then point WebClient(base_url=slack.api_url)."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        port: int = 0,
    ):
        self.bot_token = bot_token
        self.app_token = app_token
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemeral: list[dict[str, Any]] = []
        self.reactions: dict[tuple[str, str], set[str]] = {}
        self.views: list[dict[str, Any]] = []  # opened (or pushed), in order: V1, V2, …
        self.view_updates: list[tuple[str, dict[str, Any]]] = []
        self.homes: dict[str, dict[str, Any]] = {}  # each person's published Home tab
        self.statuses: dict[tuple[str, str], str] = {}  # (channel, thread_ts) → status shown
        self.user_groups: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {
            k: json.loads(json.dumps(v)) for k, v in PEOPLE.items()
        }
        self._rate_limited: dict[str, int] = {}
        self._failing: dict[str, tuple[str, int]] = {}
        self._scopes_missing: dict[str, str] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._socket_server: Any = None
        self._socket_connections: list[ServerConnection] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self.version = 0  # moves on with every change, so a page can tell when to look again
        server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        server.slack = self  # type: ignore[attr-defined]
        super().__init__(server)

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    # --- what tests use -------------------------------------------------------------------

    def rate_limit(self, method: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with HTTP 429 and Retry-After: 1."""
        with self._lock:
            self._rate_limited[method] = times

    def fail(self, method: str, error: str = "internal_error", times: int = 1) -> None:
        """Answer the next `times` calls of `method` with ok: false and `error`."""
        with self._lock:
            self._failing[method] = (error, times)

    def lack_scope(self, method: str, scope: str) -> None:
        """Refuse every later call of `method` as Slack refuses an app not granted `scope`."""
        with self._lock:
            self._scopes_missing[method] = scope

    def add_user(self, user_id: str, name: str | None = None, **flags: Any) -> None:
        with self._lock:
            self.users[user_id] = member(user_id, name or user_id.lower(), **flags)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def thread(self, channel: str, thread_ts: str) -> list[Message]:
        """Replies in a thread, oldest first; a streamed one once it is finished (a test wants
        what the person ends up reading)."""
        with self._lock:
            return [
                m
                for m in self.messages.values()
                if m.channel == channel and m.thread_ts == thread_ts and not m.streaming
            ]

    def in_channel(self, channel: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages.values() if m.channel == channel and not m.streaming]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        """Wait until predicate() is truthy (re-checked after every call) and return its value."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting; calls so far: {self._summary()}")
                self._lock.wait(remaining)

    def _summary(self) -> str:
        recent = [f"{c.method}{'' if c.ok else '!' + str(c.error)}" for c in self.calls[-30:]]
        return f"{len(self.calls)} calls, the last ones: {recent}"

    # --- Web API --------------------------------------------------------------------------

    def handle(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict]:
        with self._lock:
            if self._rate_limited.get(method):
                self._rate_limited[method] -= 1
                self.calls.append(Call(method, args, False, "ratelimited"))
                self._lock.notify_all()
                return 429, {"ok": False, "error": "ratelimited"}
            try:
                error, times = self._failing.get(method, ("", 0))
                if times:
                    self._failing[method] = (error, times - 1)
                    raise SlackError(error)
                expected = self.app_token if method == "apps.connections.open" else self.bot_token
                if token != expected:
                    raise SlackError("invalid_auth" if token else "not_authed")
                if method in self._scopes_missing:
                    raise SlackError("missing_scope", needed=self._scopes_missing[method])
                handler = getattr(self, "_" + method.replace(".", "_"), None)
                if handler is None:
                    raise SlackError("unknown_method")
                result = {"ok": True, **handler(args)}
                self.calls.append(Call(method, args, True))
                self.version += 1
            except SlackError as e:
                result = {"ok": False, "error": str(e), **e.detail}
                self.calls.append(Call(method, args, False, str(e)))
            self._lock.notify_all()
            return 200, result

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.{next(self._ts):06d}"

    @staticmethod
    def _channel(args: dict[str, Any]) -> str:
        channel = args.get("channel")
        if not isinstance(channel, str) or not _CHANNEL.match(channel):
            raise SlackError("channel_not_found")
        return channel

    @staticmethod
    def _content(args: dict[str, Any]) -> tuple[str | None, list | None]:
        text, blocks = args.get("text"), args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        check_blocks(blocks)
        if not text and not blocks:
            raise SlackError("no_text")
        if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
            raise SlackError("msg_too_long")
        return text, blocks

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://hr-example.slack.com/",
            "team": "HR Example",
            "team_id": TEAM_ID,
            "user": "hrbot",
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        text, blocks = self._content(args)
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not _TS.fullmatch(str(thread_ts)):
            raise SlackError("invalid_thread_ts")
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(channel, ts, text, blocks, thread_ts)
        self.statuses.pop((channel, str(thread_ts)), None)  # the bot answered: Slack clears it
        return {"channel": channel, "ts": ts, "message": {"text": text, "blocks": blocks, "ts": ts}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = self.messages.get((channel, args.get("ts")))
        if message is None:
            raise SlackError("message_not_found")
        text, blocks = self._content(args)
        message.history.append({"text": message.text, "blocks": message.blocks})
        message.text, message.blocks = text, blocks
        return {"channel": channel, "ts": message.ts, "text": text}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = self.messages.get((channel, args.get("ts")))
        if message is None:
            raise SlackError("message_not_found")
        if message.user != BOT_USER_ID:  # a bot token deletes only the bot's own messages
            raise SlackError("cant_delete_message")
        del self.messages[(channel, message.ts)]
        return {"channel": channel, "ts": message.ts}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if str(args.get("user")) not in self.users:
            raise SlackError("user_not_found")
        text, blocks = self._content(args)
        ts = self._next_ts()
        self.ephemeral.append(
            {
                "channel": channel,
                "user": args["user"],
                "text": text,
                "blocks": blocks,
                "thread_ts": args.get("thread_ts"),
                "ts": ts,
            }
        )
        return {"message_ts": ts}

    def _chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("message_ts"))
        return {
            "channel": channel,
            "permalink": f"https://hr-example.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    # --- the thinking status and streamed messages (Slack's AI-app methods) -----------------

    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel_id")
        if not isinstance(channel, str) or not _CHANNEL.match(channel):
            raise SlackError("channel_not_found")
        thread_ts = str(args.get("thread_ts"))
        if not _TS.fullmatch(thread_ts):
            raise SlackError("invalid_thread_ts")
        status, loading = args.get("status"), args.get("loading_messages")
        if isinstance(loading, str):  # form-encoded: a JSON array
            loading = _json_or_none(loading)
        if not isinstance(status, str) or (
            loading is not None
            and not (
                isinstance(loading, list)
                and len(loading) <= MAX_LOADING_MESSAGES
                and all(isinstance(m, str) and m for m in loading)
            )
        ):
            raise SlackError("invalid_arguments")
        if status:
            self.statuses[(channel, thread_ts)] = status
        else:  # an empty status clears it
            self.statuses.pop((channel, thread_ts), None)
        return {}

    def _chat_startStream(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        thread_ts = args.get("thread_ts")
        if not thread_ts:
            raise SlackError("invalid_arguments")  # a stream always answers someone's message
        if not _TS.fullmatch(str(thread_ts)):
            raise SlackError("invalid_thread_ts")
        if not channel.startswith("D"):  # outside a DM Slack must be told who reads it
            if not args.get("recipient_team_id"):
                raise SlackError("missing_recipient_team_id")
            if not args.get("recipient_user_id"):
                raise SlackError("missing_recipient_user_id")
        for key in ("recipient_team_id", "recipient_user_id"):
            if key in args and not isinstance(args[key], str):
                raise SlackError("invalid_arguments")
        text = self._streamed(args, required=False)
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(
            channel, ts, text, None, str(thread_ts), streaming=True
        )
        self.statuses.pop((channel, str(thread_ts)), None)  # the bot answered: Slack clears it
        return {"channel": channel, "ts": ts}

    def _chat_appendStream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        message.text = (message.text or "") + self._streamed(args, required=True)
        return {"channel": message.channel, "ts": message.ts}

    def _chat_stopStream(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        text = self._streamed(args, required=False)
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = _json_or_none(blocks)
        check_blocks(blocks)
        message.text = (message.text or "") + text
        message.blocks = blocks
        message.streaming = False
        return {"channel": message.channel, "ts": message.ts, "message": {"text": message.text}}

    def _streaming_message(self, args: dict[str, Any]) -> Message:
        message = self.messages.get((self._channel(args), str(args.get("ts"))))
        if message is None or message.user != BOT_USER_ID:
            raise SlackError("message_not_found")
        if not message.streaming:
            raise SlackError("message_not_in_streaming_state")
        return message

    @staticmethod
    def _streamed(args: dict[str, Any], *, required: bool) -> str:
        """The text one chat.*Stream call adds: `markdown_text`, then any markdown_text chunks."""
        text, chunks = args.get("markdown_text"), args.get("chunks")
        if isinstance(chunks, str):  # form-encoded: a JSON array
            chunks = _json_or_none(chunks)
        if (text is not None and not isinstance(text, str)) or (
            chunks is not None
            and not (isinstance(chunks, list) and all(isinstance(c, dict) for c in chunks))
        ):
            raise SlackError("invalid_arguments")
        text = (text or "") + "".join(
            str(c.get("text") or "") for c in chunks or [] if c.get("type") == "markdown_text"
        )
        if required and not text and not chunks:
            raise SlackError("invalid_arguments")
        if len(text) > MAX_MARKDOWN:
            raise SlackError("msg_too_long")
        return text

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users") or "")
        if not _USER.match(users):
            raise SlackError("user_not_found")
        return {"channel": {"id": "D" + users[1:]}}

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (self._channel(args), str(args.get("timestamp")))
        name = args.get("name")
        if name in self.reactions.setdefault(key, set()):
            raise SlackError("already_reacted")
        self.reactions[key].add(name)
        return {}

    def _reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (self._channel(args), str(args.get("timestamp")))
        if args.get("name") not in self.reactions.get(key, set()):
            raise SlackError("no_reaction")
        self.reactions[key].discard(args["name"])
        return {}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = args.get("usergroup")
        if group not in self.user_groups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.user_groups[group])}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": json.loads(json.dumps(user))}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        """As Slack: the one active account with that profile email, else users_not_found."""
        email = str(args.get("email") or "").strip().lower()
        if not email:
            raise SlackError("invalid_arguments")
        for user in self.users.values():
            if not user.get("deleted") and user["profile"].get("email", "").lower() == email:
                return {"user": json.loads(json.dumps(user))}
        raise SlackError("users_not_found")

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            raise SlackError("invalid_trigger_id")
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        check_blocks(view.get("blocks"))
        self.views.append(view)
        return {"view": {"id": f"V{len(self.views)}", **view}}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """A modal on top of the one the click came from; a view id of its own."""
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """A modal opened earlier, shown anew: only a known view id, only a modal."""
        view_id = str(args.get("view_id") or "")
        number = view_id[1:]
        if not (
            view_id.startswith("V") and number.isdigit() and 0 < int(number) <= len(self.views)
        ):
            raise SlackError("not_found")
        view = _view(args, "modal")
        self.view_updates.append((view_id, view))
        return {"view": {"id": view_id, **view}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """A Home tab: only for a known user, only of type home, blocks checked like messages
        (with a view's limit of 100)."""
        user = args.get("user_id")
        if not isinstance(user, str) or user not in self.users:
            raise SlackError("user_not_found")
        view = _view(args, "home")
        self.homes[user] = view
        return {"view": {"id": f"VHOME{user}", **view}}

    # --- Socket Mode ----------------------------------------------------------------------

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if self._socket_server is None:
            self._socket_server = serve(self._socket_session, "127.0.0.1", 0)
            threading.Thread(target=self._socket_server.serve_forever, daemon=True).start()
        port = self._socket_server.socket.getsockname()[1]
        return {"url": f"ws://127.0.0.1:{port}/link/?ticket={uuid.uuid4()}"}

    def _socket_session(self, connection: ServerConnection) -> None:
        connection.send(
            json.dumps(
                {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0HRBOT"}}
            )
        )
        with self._lock:
            self._socket_connections.append(connection)
            self._lock.notify_all()
        for raw in connection:
            message = json.loads(raw)
            with self._lock:
                if "envelope_id" in message:
                    self._acks[message["envelope_id"]] = message
                self._lock.notify_all()

    def send_envelope(
        self, kind: str, payload: dict[str, Any], *, connection: int = -1, retry_attempt: int = 0
    ) -> str:
        """Push an envelope (events_api, interactive) to the connected app; returns its id.
        With several connections (replicas), `connection` picks which, in the order they
        connected, as Slack spreads events over an app's connections."""
        chosen = self.wait_for(
            lambda: (
                len(self._socket_connections) > max(connection, -1 - connection)
                and self._socket_connections[connection]
            )
        )
        envelope_id = str(uuid.uuid4())
        chosen.send(
            json.dumps(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": False,
                    "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else "",
                }
            )
        )
        return envelope_id

    def wait_for_connections(self, count: int, timeout: float = 30.0) -> None:
        """Until `count` Socket Mode connections are open (one per replica)."""
        self.wait_for(lambda: len(self._socket_connections) >= count, timeout)

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        return self.wait_for(lambda: self._acks.get(envelope_id), timeout)

    def serve_other(self, request: BaseHTTPRequestHandler) -> None:
        """A request outside /api/: the Web API has nothing there (the workspace page does)."""
        request.send_error(404)

    def stop(self) -> None:
        for connection in self._socket_connections:
            connection.close()
        if self._socket_server is not None:
            self._socket_server.shutdown()
        super().stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        if not self.path.startswith("/api/"):
            self.server.slack.serve_other(self)  # type: ignore[attr-defined]
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = self.path.removeprefix("/api/").split("?")[0]
        content_type = self.headers.get("Content-Type") or ""
        if "json" in content_type:
            args = json.loads(raw or b"{}")
        else:
            args = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        auth = self.headers.get("Authorization") or ""
        token = (
            auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        )
        status, body = self.server.slack.handle(method, token, args)  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST
