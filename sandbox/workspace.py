"""A local Slack workspace in the browser: the fake Slack Web API (the bot talks to it through
slack_sdk, as to Slack) plus a page where a person plays several people. What they do on the page
reaches the bot as Slack sends it: signed Events API and interactivity requests. Besides channels
and DMs the page shows each person's App Home (views.publish), the thinking status
(assistant.threads.setStatus) and streamed answers (chat.startStream), and the bot's modals.

`python -m sandbox.workspace --child --port 3000 --bot-url URL` reads the bot token and the
signing secret from the first two lines of stdin (kept out of process lists)."""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import json
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from sandbox.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack, Message, SlackError
from sandbox.serving import stop_with_parent
from sandbox.slack_requests import (
    HR_CHANNEL,
    click_payload,
    event_body,
    home_click_payload,
    home_opened_event,
    home_tick_payload,
    signed_headers,
    view_submission_payload,
)

PAGE = Path(__file__).parent / "workspace_page"
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/format.js": ("format.js", "text/javascript; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
APPROVALS = "C0APPROVALS"
CHANNELS = [
    {"id": HR_CHANNEL, "name": "hr", "topic": "HR requests: mention @HR Assistant"},
    {"id": APPROVALS, "name": "approvals", "topic": "Approval cards for HR changes"},
]
# Who the person at the page can be: one of each kind the bot treats differently.
PERSONAS = [
    {"id": "U0DANA", "name": "Dana", "role": "HR representative"},
    {"id": "U0BOB", "name": "Bob", "role": "approver"},
    {"id": "U0CAROL", "name": "Carol", "role": "approver"},
    {"id": "U0GUEST", "name": "Gus", "role": "guest"},
    {"id": "U0GINA", "name": "Gina", "role": "member, not on the requester list"},
]
BOT_NAME = "HR Assistant"
_MENTION = re.compile(r"(?<![\w.@])@(hr assistant|hrbot)\b", re.I)  # not inside an email
MAX_TEXT = 4000


class Workspace(FakeSlack):
    """The fake Slack with the page on top. `deliver_to(url, signing_secret)` says where the bot
    takes Slack's requests."""

    def __init__(self, *, bot_token: str, port: int = 0, state: Path | None = None) -> None:
        """`state`: a file the conversation is kept in, so a restart shows it again (the bot's
        own database keeps the actions)."""
        super().__init__(bot_token=bot_token, port=port)
        self.state_path = state
        self.bot_url: str | None = None
        self.signing_secret = ""
        self.triggers: dict[str, str] = {}  # trigger_id → who clicked
        self.open_views: dict[str, dict[str, Any]] = {}  # view id → {"user", "view"}
        self.notices: list[dict[str, Any]] = []  # deliveries the bot did not take
        self.clicks: list[dict[str, Any]] = []  # every button press sent to the bot, in order
        self.loading: dict[tuple[str, str], list[str]] = {}  # the status's loading messages
        self.markdown: set[tuple[str, str]] = set()  # streamed messages: Markdown, not mrkdwn
        self._trigger_ids = itertools.count(1)
        self._closing = False
        if state is not None and state.is_file():
            kept = json.loads(state.read_text())
            self.messages = {(m["channel"], m["ts"]): Message(**m) for m in kept["messages"]}
            self.ephemeral = kept["ephemeral"]
            self.reactions = {(c, ts): set(names) for c, ts, names in kept["reactions"]}
            self.markdown = {(c, ts) for c, ts in kept.get("markdown", [])}

    def _keep(self) -> None:
        """Write the conversation to the state file (whole, then renamed into place)."""
        if self.state_path is None:
            return
        with self._lock:
            kept = {
                "messages": [dataclasses.asdict(m) for m in self.messages.values()],
                "ephemeral": self.ephemeral,
                "reactions": [[c, ts, sorted(n)] for (c, ts), n in self.reactions.items()],
                "markdown": sorted(self.markdown),
            }
            draft = self.state_path.with_suffix(".tmp")
            draft.write_text(json.dumps(kept))
            draft.replace(self.state_path)

    def handle(self, method: str, token: str | None, args: dict[str, Any]) -> tuple[int, dict]:
        before = self.version
        answer = super().handle(method, token, args)
        if self.version != before:
            self._keep()
        return answer

    def _next_ts(self) -> str:
        """Slack's message ids are the time they were posted (made unique)."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def deliver_to(self, url: str, signing_secret: str) -> None:
        self.bot_url, self.signing_secret = url, signing_secret

    # --- the Web API, where the page needs more than the fake ------------------------------

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.triggers.pop(str(args.get("trigger_id")), None)
        if user is None:
            raise SlackError("invalid_trigger_id")  # unknown, or used already
        answer = super()._views_open(args)
        self.open_views[answer["view"]["id"]] = {"user": user, "view": answer["view"]}
        return answer

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """Only from a click inside a modal the person has open: on top of it."""
        user = self.triggers.get(str(args.get("trigger_id")))
        if user is None or not any(v["user"] == user for v in self.open_views.values()):
            raise SlackError("invalid_trigger_id")
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """Only a modal still open: a closed one is gone, as in Slack."""
        opened = self.open_views.get(str(args.get("view_id")))
        if opened is None:
            raise SlackError("not_found")
        answer = super()._views_update(args)
        opened["view"] = answer["view"]
        return answer

    def _assistant_threads_setStatus(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._assistant_threads_setStatus(args)
        loading = args.get("loading_messages") or []
        if isinstance(loading, str):  # form-encoded: a JSON array, checked by the fake
            loading = json.loads(loading)
        self.loading[(str(args["channel_id"]), str(args["thread_ts"]))] = list(loading)
        return answer

    def _chat_startStream(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = super()._chat_startStream(args)
        self.markdown.add((answer["channel"], answer["ts"]))
        return answer

    # --- what the page does ----------------------------------------------------------------

    def serve_other(self, request: BaseHTTPRequestHandler) -> None:
        path = urlsplit(request.path).path
        port = self._server.server_address[1]
        if request.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            request.send_error(421)  # another name for this address: DNS rebinding, say
            return
        if request.command == "GET" and path in STATIC:
            name, kind = STATIC[path]
            _send(request, 200, (PAGE / name).read_bytes(), kind)
        elif request.command == "GET" and path == "/workspace/state":
            query = parse_qs(urlsplit(request.path).query)
            me = (query.get("as") or [PERSONAS[0]["id"]])[0]
            _send_json(request, 200, self.state(me))
        elif request.command == "GET" and path == "/workspace/events":
            self._stream(request)
        elif request.command == "POST" and path in ACTIONS:
            length = int(request.headers.get("Content-Length") or 0)
            if length > 64 * 1024 or not self._from_page(request):
                _send_json(request, 403, {"error": "not from this page"})
                return
            try:
                answer = ACTIONS[path](self, json.loads(request.rfile.read(length) or b"{}"))
            except (ValueError, KeyError, TypeError) as e:
                _send_json(request, 400, {"error": str(e)})
                return
            _send_json(request, 200, answer)
        else:
            request.send_error(404)

    def _from_page(self, request: BaseHTTPRequestHandler) -> bool:
        """JSON from this page only: another site's form cannot post here (a JSON body from
        another origin needs a CORS preflight, which is never granted)."""
        origin = request.headers.get("Origin")
        pages = {self.base_url, self.base_url.replace("127.0.0.1", "localhost")}
        kind = (request.headers.get("Content-Type") or "").split(";")[0].strip()
        return kind == "application/json" and (origin is None or origin in pages)

    def state(self, me: str) -> dict[str, Any]:
        with self._lock:
            messages = [
                {
                    "channel": m.channel,
                    "ts": m.ts,
                    "user": m.user,
                    "text": m.text,
                    "blocks": m.blocks,
                    "thread_ts": m.thread_ts,
                    "edited": bool(m.history),
                    "reactions": sorted(self.reactions.get((m.channel, m.ts), set())),
                    "markdown": (m.channel, m.ts) in self.markdown,
                    "streaming": m.streaming,
                }
                for m in self.messages.values()
                if _visible(m.channel, me)
            ]
            statuses = [
                {
                    "channel": channel,
                    "thread_ts": thread_ts,
                    "status": status,
                    "loading": self.loading.get((channel, thread_ts), []),
                }
                for (channel, thread_ts), status in self.statuses.items()
                if _visible(channel, me)
            ]
            mine = [
                {**e, "user": BOT_USER_ID, "ephemeral": True}
                for e in self.ephemeral
                if e["user"] == me
            ]
            views = [v["view"] for v in self.open_views.values() if v["user"] == me]
            return {
                "version": self.version,
                "me": me,
                "bot": {"id": BOT_USER_ID, "name": BOT_NAME},
                "people": PERSONAS,
                "names": {
                    **{u: p.get("real_name", u) for u, p in self.users.items()},
                    BOT_USER_ID: BOT_NAME,
                },
                # Whom a users_select offers: the workspace's people (not bots or the deleted).
                "members": [
                    {"id": u, "name": p.get("real_name", u)}
                    for u, p in sorted(self.users.items(), key=lambda i: i[1].get("real_name", ""))
                    if not (p.get("deleted") or p.get("is_bot") or p.get("is_app_user"))
                ],
                "channels": [*CHANNELS, {"id": dm_of(me), "name": BOT_NAME, "dm": True}],
                "messages": sorted([*messages, *mine], key=lambda m: float(m["ts"])),
                "statuses": statuses,
                "home": self.homes.get(me),
                "view": views[-1] if views else None,
                "notices": self.notices[-3:],
            }

    def say(self, body: dict[str, Any]) -> dict[str, Any]:
        me, channel = _persona(body["as"]), str(body["channel"])
        text = str(body["text"]).strip()
        if not text or len(text) > MAX_TEXT:
            raise ValueError(f"a message has 1 to {MAX_TEXT} characters")
        if channel not in (HR_CHANNEL, APPROVALS, dm_of(me)):
            raise ValueError(f"no channel {channel} here")
        # As Slack sends it: &, < and > escaped, then the mention as Slack's own markup.
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = _MENTION.sub(f"<@{BOT_USER_ID}>", text)
        thread_ts = body.get("thread_ts") or None
        with self._lock:
            ts = self._next_ts()
            self.messages[(channel, ts)] = Message(channel, ts, text, None, thread_ts, user=me)
            self.version += 1
            self._lock.notify_all()
        self._keep()
        event = {"user": me, "team": TEAM_ID, "text": text, "ts": ts, "channel": channel}
        event["event_ts"] = ts
        if thread_ts:
            event["thread_ts"] = thread_ts
        if channel.startswith("D"):
            event.update(type="message", channel_type="im")
        elif f"<@{BOT_USER_ID}>" in text:
            event.update(type="app_mention")
        else:
            return {"ts": ts, "delivered": False}  # the bot hears channels only when mentioned
        self._deliver(json.dumps(event_body(event)).encode(), "application/json")
        return {"ts": ts, "delivered": True}

    def open_home(self, body: dict[str, Any]) -> dict[str, Any]:
        """The person opened the bot's Home tab: app_home_opened, as Slack sends it each time."""
        event = home_opened_event(_persona(body["as"]))
        self._deliver(json.dumps(event_body(event)).encode(), "application/json")
        return {}

    def click(self, body: dict[str, Any]) -> dict[str, Any]:
        me = _persona(body["as"])
        trigger_id = f"{next(self._trigger_ids)}.{secrets.token_hex(6)}"
        value = body.get("value")
        if body.get("home"):
            payload = self._home_action(me, body, trigger_id)
        elif body.get("view_id"):
            payload = self._modal_action(me, body, trigger_id)
        else:
            payload = click_payload(
                me,
                str(body["action_id"]),
                None if value is None else str(value),
                channel=str(body["channel"]),
                message_ts=str(body["ts"]),
                trigger_id=trigger_id,
                block_id=str(body.get("block_id") or "b"),
            )
        with self._lock:
            self.triggers[trigger_id] = me
            self.clicks.append({"user": me, "action_id": str(body["action_id"])})
        self._deliver(urlencode({"payload": json.dumps(payload)}).encode(), FORM)
        return {"trigger_id": trigger_id}

    def _home_action(self, me: str, body: dict[str, Any], trigger_id: str) -> dict[str, Any]:
        """A button pressed or a checkbox ticked on `me`'s Home tab, as Slack sends it: built
        from the view as the bot published it (only what it shows can be clicked or ticked),
        with the state of its checkboxes."""
        with self._lock:
            home = copy.deepcopy(self.homes.get(me))
        if home is None:
            raise ValueError("the bot has not published a Home tab for you")
        block_id, action_id = str(body.get("block_id") or ""), str(body["action_id"])
        value = body.get("value")
        element = _element(home, block_id, action_id, None if value is None else str(value))
        ticked = _ticked(home, body.get("ticked") or {})
        if element["type"] == "checkboxes":
            return home_tick_payload(me, home, element, block_id, ticked, trigger_id=trigger_id)
        return home_click_payload(me, home, element, block_id, ticked, trigger_id=trigger_id)

    def _modal_action(self, me: str, body: dict[str, Any], trigger_id: str) -> dict[str, Any]:
        """A button pressed in a modal `me` has open, as Slack sends it: from the view as the
        bot last set it (only a button it shows can be pressed), without a channel."""
        view_id = str(body["view_id"])
        with self._lock:
            opened = self.open_views.get(view_id)
            if opened is None or opened["user"] != me:
                raise ValueError("no such view open for you")
            view = copy.deepcopy(opened["view"])
        block_id, action_id = str(body.get("block_id") or ""), str(body["action_id"])
        value = body.get("value")
        element = _element(view, block_id, action_id, None if value is None else str(value))
        return home_click_payload(
            me, view, element, block_id, trigger_id=trigger_id, view_id=view_id
        )

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        me = _persona(body["as"])
        with self._lock:
            opened = self.open_views.get(str(body["view_id"]))
            if opened is None or opened["user"] != me:
                raise ValueError("no such view open for you")
            view = opened["view"]
        values = {
            str(block): {str(action): self._typed(typed) for action, typed in dict(fields).items()}
            for block, fields in dict(body.get("values") or {}).items()
        }
        trigger_id = f"{next(self._trigger_ids)}.{secrets.token_hex(6)}"
        payload = view_submission_payload(me, view, values, trigger_id=trigger_id)
        answer = self._deliver(
            urlencode({"payload": json.dumps(payload)}).encode(), FORM, wait=True
        )
        errors = (answer or {}).get("errors") if isinstance(answer, dict) else None
        if not errors:
            self.close_view(str(body["view_id"]), me)
        return {"errors": errors or {}}

    def _typed(self, typed: Any) -> str | dict[str, Any] | None:
        """An input's value as Slack sends it: the text (null when left empty), or a
        users_select's state naming one of the workspace's people (or none)."""
        if not isinstance(typed, dict):
            return str(typed) if typed not in (None, "") else None
        chosen = typed.get("selected_user") or None
        if typed.get("type") != "users_select" or (chosen is not None and chosen not in self.users):
            raise ValueError("an input is a text or a person of this workspace")
        return {"type": "users_select", "selected_user": chosen}

    def close_view(self, view_id: str, me: str) -> dict[str, Any]:
        with self._lock:
            if self.open_views.get(view_id, {}).get("user") == me:
                del self.open_views[view_id]
                self.version += 1
                self._lock.notify_all()
        return {}

    def close_all(self, me: str) -> dict[str, Any]:
        """The page was loaded anew: as in Slack, no modal survives a reload."""
        with self._lock:
            mine = [v for v, opened in self.open_views.items() if opened["user"] == me]
            for view_id in mine:
                del self.open_views[view_id]
            if mine:
                self.version += 1
                self._lock.notify_all()
        return {}

    # --- to the bot, as Slack sends it -----------------------------------------------------

    def _deliver(self, body: bytes, kind: str, *, wait: bool = False) -> Any:
        if wait:
            return self._post(body, kind)
        threading.Thread(target=self._post, args=(body, kind), daemon=True).start()
        return None

    def _post(self, body: bytes, kind: str) -> Any:
        if self.bot_url is None:
            return self._notice("The bot is not connected to this workspace yet.")
        headers = {"Content-Type": kind, **signed_headers(body, secret=self.signing_secret)}
        try:
            answer = requests.post(self.bot_url, data=body, headers=headers, timeout=10)
        except requests.RequestException:
            return self._notice("The bot did not answer: is it running?")
        if answer.status_code != 200:
            return self._notice(f"The bot answered HTTP {answer.status_code}.")
        try:
            return answer.json() if answer.content else None
        except ValueError:
            return None

    def _notice(self, text: str) -> None:
        with self._lock:
            self.notices.append({"id": uuid.uuid4().hex, "text": text, "at": time.time()})
            self.version += 1
            self._lock.notify_all()

    def _stream(self, request: BaseHTTPRequestHandler) -> None:
        """Server-sent events: the state's version, each time it moves on."""
        request.send_response(200)
        request.send_header("Content-Type", "text/event-stream")
        request.send_header("Cache-Control", "no-store")
        request.end_headers()
        seen = -1
        try:
            while not self._closing:
                with self._lock:
                    if self.version == seen:
                        self._lock.wait(10)
                    current = self.version
                if current != seen:
                    request.wfile.write(f"data: {current}\n\n".encode())
                    seen = current
                else:
                    request.wfile.write(b": still here\n\n")
                request.wfile.flush()
        except OSError:
            pass  # the page went away
        request.close_connection = True

    def stop(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        super().stop()


FORM = "application/x-www-form-urlencoded"
ACTIONS = {
    "/workspace/say": Workspace.say,
    "/workspace/click": Workspace.click,
    "/workspace/home": Workspace.open_home,
    "/workspace/submit": Workspace.submit,
    "/workspace/close": lambda w, body: w.close_view(str(body["view_id"]), _persona(body["as"])),
    "/workspace/reloaded": lambda w, body: w.close_all(_persona(body["as"])),
}


def dm_of(user: str) -> str:
    """The channel of `user`'s direct messages with the bot (as conversations.open names it)."""
    return "D" + user[1:]


def _visible(channel: str, me: str) -> bool:
    """What `me` sees: the channels, and their own DM with the bot (not anyone else's)."""
    return not channel.startswith("D") or channel == dm_of(me)


def _element(home: dict[str, Any], block_id: str, action_id: str, value: str | None) -> dict:
    """The button (with `value`, if given) or checkboxes `action_id` in block `block_id` of the
    published view ("" for a block without an id)."""
    for block in home.get("blocks") or []:
        if str(block.get("block_id") or "") != block_id:
            continue
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id and value in (None, element.get("value")):
                return element
    raise ValueError(f"no {action_id} on that view")


def _ticked(home: dict[str, Any], ticked: Any) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The checkboxes' state, from {block_id: {action_id: [values ticked]}}: the options as
    the view has them, in its order; an option the view does not have is refused."""
    state: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for block_id, actions in dict(ticked).items():
        for action_id, values in dict(actions).items():
            element = _element(home, str(block_id), str(action_id), None)
            wanted = {str(v) for v in list(values)}
            chosen = [o for o in element.get("options") or [] if o.get("value") in wanted]
            if element.get("type") != "checkboxes" or len(chosen) != len(wanted):
                raise ValueError("a ticked option is not on your Home tab")
            state[(str(block_id), str(action_id))] = chosen
    return state


def _persona(user: Any) -> str:
    if user not in {p["id"] for p in PERSONAS}:
        raise ValueError(f"{user!r} is not one of the people on this page")
    return user


def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
    request.send_response(status)
    request.send_header("Content-Type", kind)
    request.send_header("Content-Length", str(len(body)))
    request.send_header("Cache-Control", "no-store")
    request.send_header("X-Content-Type-Options", "nosniff")
    request.end_headers()
    request.wfile.write(body)


def _send_json(request: BaseHTTPRequestHandler, status: int, value: Any) -> None:
    _send(request, status, json.dumps(value).encode(), "application/json; charset=utf-8")


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.workspace", description=__doc__)
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--bot-url", required=True, help="where the bot takes Slack's requests")
    parser.add_argument("--child", action="store_true", help="stop when standard input closes")
    parser.add_argument("--state", type=Path, help="keep the conversation in this JSON file")
    args = parser.parse_args(argv)
    bot_token = sys.stdin.readline().strip()
    signing_secret = sys.stdin.readline().strip()
    if not bot_token.startswith("xoxb-") or not signing_secret:
        parser.error("stdin must hold the bot token (xoxb-…) and the signing secret, one a line")
    try:
        workspace = Workspace(bot_token=bot_token, port=args.port, state=args.state)
    except OSError as e:
        print(
            f"Cannot serve the local workspace on port {args.port}: {e.strerror or e}. "
            "Set PORT to a free one.",
            file=sys.stderr,
        )
        return 2
    workspace.deliver_to(args.bot_url, signing_secret)
    signal.signal(signal.SIGTERM, _stop)
    workspace.start()
    if args.child:
        stop_with_parent(workspace.stop)
    print("ready", flush=True)
    try:
        workspace.wait()
    except KeyboardInterrupt:
        pass
    finally:
        workspace.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
