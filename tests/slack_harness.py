"""The whole bot on loopback: the real app behind waitress, a fake Slack, the scripted model and
the sandbox HR API; requests signed exactly as Slack signs them."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from cryptography.fernet import Fernet

from approvals import Thread, audit
from approvals.__main__ import open_read_only
from approvals.slack.cards import REJECT_ACTION_ID
from approvals.slack.channel_cards import DETAILS_ACTION_ID
from approvals.slack.modals import (
    ASSIGNEE_BLOCK_ID,
    ASSIGNEE_INPUT_ID,
    EDIT_ACTION_ID,
    FIELD_BLOCK_PREFIX,
    FIELD_INPUT_ID,
    REASON_BLOCK_ID,
    REASON_INPUT_ID,
    REASSIGN_ACTION_ID,
)
from bot import app
from bot import config as configuration
from bot.agent.history import conversation_key
from bot.app import HRBot
from bot.hr.link_messages import CONNECT_ACTION_ID
from bot.hr.linking import CALLBACK_PATH
from bot.settings import HRIS_SANDBOX_KEY
from bot.slack.server import HttpServer, socket_mode_handler, wsgi_application
from bot.tools.catalogue import DEFAULT_CATALOGUE
from sandbox import HRISSandbox, HRSandbox
from sandbox.fake_slack import FakeSlack
from sandbox.hr_oauth import OAuthSettings
from sandbox.scripted_model import ScriptedModel
from sandbox.slack_requests import (  # noqa: F401 - the tests import them from here
    HR_CHANNEL,
    click_payload,
    dm_event,
    event_body,
    home_click_payload,
    home_opened_event,
    mention_event,
    new_ts,
    view_submission_payload,
)
from sandbox.slack_requests import signed_headers as _signed_headers
from sandbox.workspace import Workspace
from tests.fakes import Clock, sign_in
from tests.test_children import free_port

SIGNING_SECRET = "test-signing-secret"
OAUTH_CLIENT = "hr-bot"
OAUTH_SECRET = "hr-bot-client-secret"
TOKEN_KEY = Fernet.generate_key().decode()
APPROVAL_CHANNEL = "C0APPROVALS"
PEOPLE_NAMES = {
    "U0DANA": "dana",
    "U0ALICE": "alice",
    "U0BOB": "bob",
    "U0CAROL": "carol",
    "U0GINA": "gina",
    "U0EVE": "eve",
}


def signed_headers(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict:
    return _signed_headers(body, secret=secret, timestamp=timestamp)


def loopback_env(slack: FakeSlack, model: ScriptedModel, hr: HRSandbox) -> dict[str, str]:
    """The bot's settings for the loopback fakes (Slack, the scripted model, the sandbox HR
    API) and the people and channels the tests use; secrets and storage are the caller's."""
    return {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_API_URL": slack.api_url,
        "OPENAI_API_KEY": "test-key",
        "OPENAI_BASE_URL": model.url,
        "OPENAI_MAX_RETRIES": "0",
        "OPENAI_MODEL": "scripted",
        "TOOLS": "generic",  # the tests' scripted models call call_rest_api
        "HR_API_URL": hr.url,
        "REQUESTERS": "U0DANA,U0ALICE",
        "ALLOWED_CHANNELS": HR_CHANNEL,
        "APPROVERS": "U0BOB,U0CAROL,U0ALICE",
        "APPROVAL_CHANNEL": APPROVAL_CHANNEL,
    }


class Stack:
    """Start with `Stack(tmp_path, **env).start()`; `restart()` keeps every database.

    `oauth=True`: per-user HR authority (HR_AUTH=oauth), the sandbox being the HR system's
    authorization server on its own clock (`hr_clock`); the bot serves its OAuth callback on
    `public_url`."""

    def __init__(
        self,
        tmp_path: Path,
        catalogue: dict | None = None,
        *,
        oauth: bool = False,
        workspace: bool = False,
        hris: str | None = None,
        **env: str,
    ) -> None:
        """`hris`: the HRIS sandbox and its preset catalogue (HR_CATALOGUE=personio) in place
        of the employees-only sandbox and catalogue, its typed tools offered."""
        self.tmp_path = tmp_path
        self.catalogue_path = DEFAULT_CATALOGUE
        if catalogue is not None:
            self.catalogue_path = tmp_path / "endpoints.json"
            self.catalogue_path.write_text(json.dumps(catalogue))
        self.port = free_port() if oauth else 0
        self.public_url = f"http://127.0.0.1:{self.port}"
        self.hr_clock = Clock()
        settings = None
        if oauth:
            callback = self.public_url + CALLBACK_PATH
            settings = OAuthSettings(OAUTH_CLIENT, OAUTH_SECRET, [callback], clock=self.hr_clock)
        self.hr = (
            HRISSandbox().start()
            if hris
            else HRSandbox(tmp_path / "hr.sqlite3", oauth=settings).start()
        )
        self.model = ScriptedModel().start()
        # `workspace`: the fake Slack with the local workspace page, which sends the bot what a
        # person does there.
        self.slack = (Workspace(bot_token="xoxb-test-token") if workspace else FakeSlack()).start()
        self.env = {
            **loopback_env(self.slack, self.model, self.hr),
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "APPROVAL_SECRET": "s" * 40,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "MODEL_CONCURRENCY": "4",
        }
        if hris:
            self.catalogue_path = None  # HR_CATALOGUE's
            self.env.update(HR_CATALOGUE=hris, HR_API_TOKEN=HRIS_SANDBOX_KEY, TOOLS="typed")
        if oauth:
            self.env.update(
                HR_AUTH="oauth",
                HR_OAUTH_ISSUER=self.hr.url,
                HR_OAUTH_CLIENT_ID=OAUTH_CLIENT,
                HR_OAUTH_CLIENT_SECRET=OAUTH_SECRET,
                HR_OAUTH_SCOPES="hr",
                PUBLIC_URL=self.public_url,
                TOKEN_ENCRYPTION_KEYS=TOKEN_KEY,
            )
        self.env.update(env)
        self.env = {k: v for k, v in self.env.items() if v is not None}
        self.clock = Clock()
        self.app: HRBot | None = None
        self.server: HttpServer | None = None
        self.socket = None

    def start(self) -> Stack:
        config = configuration.load(self.env, env_file=None)
        self.app = app.build(config, now=self.clock, catalogue_path=self.catalogue_path)
        # Resume without the timer: tests run housekeeping rounds themselves.
        self.app.housekeeper.resume()
        if config.socket_mode:
            self.socket = socket_mode_handler(self.app.bolt, config.slack_app_token)
            self.socket.connect()
            if self.app.routes:  # as python -m bot does: the callback only, on PORT
                self.server = HttpServer(
                    wsgi_application(None, self.app.routes), host="127.0.0.1", port=self.port
                ).start()
        else:
            self.server = HttpServer(
                wsgi_application(self.app.bolt, self.app.routes),
                host="127.0.0.1",
                port=self.port,
                threads=8,
            ).start()
            if isinstance(self.slack, Workspace):
                self.slack.deliver_to(self.url, SIGNING_SECRET)
        return self

    def audit(self, event: str | None = None) -> list[audit.AuditEvent]:
        """The audit trail read from the database file (works after drain() too)."""
        db = open_read_only(self.env.get("DATABASE_URL") or self.env["DATABASE_PATH"])
        try:
            return [e for e in audit.events(db) if event is None or e.event == event]
        finally:
            db.close()

    def history(self, user: str, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """What the model will see of `user`'s conversation in that thread."""
        return self.app.conversations.load(conversation_key(Thread(channel, thread_ts), user))

    def housekeep(self) -> None:
        """One round of the housekeeper, as its timer would run it."""
        self.app.housekeeper.sweep()

    def drain(self) -> None:
        """Stop serving and finish all work handed over so far: every event acknowledged has
        then been handled, so a test can assert what did *not* happen without sleeping."""
        self.stop_app()

    def stop_app(self) -> None:
        if self.app is None:
            return
        if self.socket is not None:
            self.socket.close()
            self.socket = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.app.close()
        self.app = None

    def restart(self) -> None:
        self.stop_app()
        self.start()

    def stop(self) -> None:
        self.stop_app()
        self.slack.stop()
        self.model.stop()
        self.hr.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/slack/events"

    def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        headers=None,
        shared: bool = False,
        **sign,
    ) -> requests.Response:
        return self.send_body(event_body(event, event_id, shared=shared), headers=headers, **sign)

    def send_body(self, envelope: dict[str, Any], *, headers=None, **sign) -> requests.Response:
        """An Events API envelope as given (a test may leave fields out), signed as Slack signs."""
        body = json.dumps(envelope).encode()
        all_headers = {
            "Content-Type": "application/json",
            **signed_headers(body, **sign),
            **(headers or {}),
        }
        return requests.post(self.url, data=body, headers=all_headers, timeout=5)

    def send_click(self, payload: dict[str, Any], **sign) -> requests.Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **signed_headers(body, **sign),
        }
        return requests.post(self.url, data=body, headers=headers, timeout=5)

    def replies(self, channel: str, thread_ts: str, count: int = 1, timeout: float = 10.0):
        """Wait for `count` bot messages in the thread and return them."""
        return self.slack.wait_for(
            lambda: (r := self.slack.thread(channel, thread_ts)) and len(r) >= count and r, timeout
        )

    def answered(self, event: dict, timeout: float = 10.0) -> None:
        """Wait until the bot is done with `event`'s message: the last thing it does is take
        back its working reaction, after the conversation is stored and the answer posted."""
        self.slack.wait_for(
            lambda: any(
                c.args.get("timestamp") == event["ts"]
                for c in self.slack.calls_to("reactions.remove")
            ),
            timeout,
        )

    def approval_cards(self, count: int = 1) -> list:
        """Wait for `count` approval cards (any channel) and return them, oldest first."""

        def found():
            cards = [
                m
                for m in list(self.slack.messages.values())
                if m.blocks
                and m.blocks[0].get("type") == "header"
                and re.match(r"Approval needed|Action #\d+: ", m.blocks[0]["text"]["text"])
            ]
            return len(cards) >= count and cards

        # Snapshots: the fake updates its messages in place when the bot edits them.
        return [copy.deepcopy(card) for card in self.slack.wait_for(found)]

    def button(self, card, action_id: str) -> str:
        for block in card.blocks:
            for element in block.get("elements") or []:
                if element.get("action_id") == action_id:
                    return element["value"]
        raise AssertionError(f"no {action_id} button on the card")

    def click(self, user: str, card, action_id: str, **overrides) -> requests.Response:
        payload = click_payload(
            user, action_id, self.button(card, action_id), channel=card.channel, message_ts=card.ts
        )
        payload.update(overrides)
        return self.send_click(payload)

    def reject_with_reason(self, user: str, card, reason: str | None) -> requests.Response:
        """Click Reject, wait for the modal, and submit it as Slack would."""
        opened = len(self.slack.views)
        self.click(user, card, REJECT_ACTION_ID)
        view = self.slack.wait_for(lambda: len(self.slack.views) > opened and self.slack.views[-1])
        modal = {
            "id": "V1",
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
        }
        values = {REASON_BLOCK_ID: {REASON_INPUT_ID: reason}}
        payload = view_submission_payload(user, modal, values, trigger_id="5678.1234.fedcba")
        return self.send_click(payload)

    def details(self, user: str, card) -> list[dict[str, Any]]:
        """Click Show details on a channel's card as `user` and return the blocks of the modal
        it opened (the full record); fails if none opened."""
        opened = len(self.slack.views)
        self.click(user, card, DETAILS_ACTION_ID)
        view = self.slack.wait_for(lambda: len(self.slack.views) > opened and self.slack.views[-1])
        return view["blocks"]

    # --- App Home ------------------------------------------------------------------------

    def open_home(self, user: str) -> dict[str, Any]:
        """Open `user`'s Home tab as Slack does, and return the view the bot published."""
        before = self.slack.homes.get(user)
        assert self.send_event(home_opened_event(user)).status_code == 200
        return self.slack.wait_for(lambda: (h := self.slack.homes.get(user)) is not before and h)

    def home_click(
        self,
        user: str,
        action_id: str,
        *,
        value: str | None = None,
        tick: list[str] = (),
        view: dict[str, Any] | None = None,
    ) -> requests.Response:
        """Click a button of `user`'s published Home tab (the one with `value`, if given),
        with the batch options whose values are in `tick` ticked; only what the view shows can
        be clicked or ticked. `view`: an earlier version, still on their screen."""
        home = copy.deepcopy(view or self.slack.homes[user])
        found, ticked = None, {}
        for block in home["blocks"]:
            for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
                wanted = value in (None, element.get("value"))
                if element.get("action_id") == action_id and wanted:
                    found = found or (element, block.get("block_id", ""))
                if element.get("type") == "checkboxes" and tick:
                    chosen = [o for o in element["options"] if o["value"] in tick]
                    assert len(chosen) == len(tick), "a ticked option is not on the view"
                    ticked[(block["block_id"], element["action_id"])] = chosen
        assert found, f"no {action_id} button on {user}'s Home tab"
        return self.send_click(home_click_payload(user, home, found[0], found[1], ticked))

    # --- Edit and Reassign ------------------------------------------------------------------

    def open_modal(self, user: str, card, action_id: str) -> dict[str, Any]:
        """Click `action_id` on the card and wait for the modal it opens."""
        opened = len(self.slack.views)
        self.click(user, card, action_id)
        return self.slack.wait_for(lambda: len(self.slack.views) > opened and self.slack.views[-1])

    def submit(self, user: str, view: dict[str, Any], values: dict) -> requests.Response:
        """Submit an opened modal as Slack does: the view as opened, with its inputs' state."""
        payload = view_submission_payload(
            user, {"id": "V1", **view}, values, trigger_id="5678.1234.fedcba"
        )
        return self.send_click(payload)

    def edit(self, user: str, card, typed: dict[str, str | None]) -> requests.Response:
        """Click Edit, then submit the modal with `typed` over the values it opened with
        (Slack sends every input's value, changed or not)."""
        view = self.open_modal(user, card, EDIT_ACTION_ID)
        values = {
            block["block_id"]: {FIELD_INPUT_ID: block["element"].get("initial_value")}
            for block in view["blocks"]
            if block.get("block_id", "").startswith(FIELD_BLOCK_PREFIX)
        }
        for name, text in typed.items():
            values[FIELD_BLOCK_PREFIX + name] = {FIELD_INPUT_ID: text}
        return self.submit(user, view, values)

    def reassign(self, user: str, card, to: str) -> requests.Response:
        """Click Reassign, choose `to` in the modal and submit it."""
        view = self.open_modal(user, card, REASSIGN_ACTION_ID)
        chosen = {"type": "users_select", "selected_user": to}
        return self.submit(user, view, {ASSIGNEE_BLOCK_ID: {ASSIGNEE_INPUT_ID: chosen}})

    # --- per-user HR authority (oauth=True) -------------------------------------------------

    def connect_link(self, user: str, count: int = 1) -> str:
        """The URL on the `count`th Connect button shown to `user` (only visible to them)."""

        def found():
            links = [
                element["url"]
                for e in list(self.slack.ephemeral) + self._direct_messages()
                if e.get("user") in (user, None) and e.get("blocks")
                for block in e["blocks"]
                for element in block.get("elements") or []
                if element.get("action_id") == CONNECT_ACTION_ID
            ]
            return len(links) >= count and links[count - 1]

        return self.slack.wait_for(found)

    def _direct_messages(self) -> list[dict]:
        return [
            {"user": None, "blocks": m.blocks}
            for m in list(self.slack.messages.values())
            if m.channel.startswith("D") and m.blocks
        ]

    def sign_in_and_return(self, url: str, email: str, **form: str) -> requests.Response:
        """What a browser does with a Connect link: the HR sign-in page, then the redirect back
        to the bot's callback. Returns the bot's page."""
        redirect = sign_in(url, email, **form)
        assert redirect.status_code == 302, redirect.text
        location = redirect.headers["Location"]
        assert location.startswith(self.public_url + CALLBACK_PATH), location
        return requests.get(location, timeout=10)

    def connect(self, user: str, email: str | None = None, count: int = 1) -> requests.Response:
        """Follow `user`'s Connect button and sign in as `email` (their own, by default)."""
        email = email or f"{PEOPLE_NAMES[user]}@hr.example"
        return self.sign_in_and_return(self.connect_link(user, count), email)
