"""Linking a Slack user to their own HR account (OAuth 2.0 authorization code with PKCE): the
private Connect button, the callback that checks the HR identity is the person's own, and
disconnecting (revoked at the provider, then deleted); register(app) for its buttons."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from authlib.common.security import generate_token
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.hr import link_messages as say
from bot.hr.accounts import Accounts, SealBroken
from bot.hr.authority import PerUser
from bot.hr.link_states import LinkStates, StateExpired, StateUsed, UnknownState
from bot.hr.oauth import HRIdentityProvider, ProviderError, revoked
from infra.people import Directory, LookupFailed, membership_problem

log = structlog.get_logger(__name__)

CALLBACK_PATH = "/oauth/callback"


@dataclass(frozen=True)
class Page:
    """What the person's browser is shown after the HR sign-in."""

    status: int
    title: str
    text: str


@dataclass(frozen=True)
class Linked:
    """A callback's outcome: the page to show, and who was linked from which message."""

    page: Page
    slack_user: str | None = None
    event_id: str | None = None


class Linking:
    """`per_user` holds the accounts, the link states and the HR identity provider; `identity`
    is the bot's own (auth.test: its team and Grid org); `record` writes the audit."""

    def __init__(
        self,
        per_user: PerUser,
        people: Directory,
        client: WebClient,
        identity: Mapping[str, Any],
        *,
        record: Callable[..., None],
    ) -> None:
        self.accounts: Accounts = per_user.accounts
        self.states: LinkStates = per_user.states
        self.provider: HRIdentityProvider = per_user.provider
        self.authority = per_user.authority
        self.people = people
        self.client = client
        self.team_id: str = identity["team_id"]
        self.enterprise_id: str | None = identity.get("enterprise_id")
        self.record = record

    # --- asking ---------------------------------------------------------------------------

    def link_url(self, slack_user: str, event_id: str | None = None) -> str:
        """A fresh single-use authorization link bound to `slack_user`."""
        verifier = generate_token(64)
        state = self.states.start(slack_user, verifier, event_id=event_id)
        return self.provider.authorization_url(state, verifier)

    def offer(
        self,
        channel: str | None,
        slack_user: str,
        why: str,
        *,
        event_id: str | None = None,
        thread_ts: str | None = None,
    ) -> None:
        """The Connect button, visible to `slack_user` alone: ephemeral where they are, or in
        their DM with the bot."""
        blocks = say.connect_blocks(why, self.link_url(slack_user, event_id))
        text = f"{why} Connect your HR account to go on."
        try:
            if channel:
                self.client.chat_postEphemeral(
                    channel=channel, user=slack_user, text=text, blocks=blocks, thread_ts=thread_ts
                )
            else:
                self._direct(slack_user, text, blocks)
        except SlackApiError as e:
            log.warning("hr_link.offer_failed", user=slack_user, error=e.response.get("error"))

    def home_section(self, slack_user: str) -> list[dict[str, Any]]:
        """App Home's part about the person's HR account: connected or not."""
        return say.home_blocks(self.authority.subject(slack_user) is not None)

    def _direct(self, slack_user: str, text: str, blocks: list[dict[str, Any]] | None) -> None:
        opened = self.client.conversations_open(users=slack_user)
        self.client.chat_postMessage(channel=opened["channel"]["id"], text=text, blocks=blocks)

    def tell(self, slack_user: str, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        try:
            self._direct(slack_user, text, blocks)
        except SlackApiError as e:
            log.warning("hr_link.dm_failed", user=slack_user, error=e.response.get("error"))

    # --- the callback ---------------------------------------------------------------------

    def _refused(self, why: str, actor: str | None, page: Page, **detail: Any) -> Linked:
        log.info("hr_link.refused", why=why, user=actor)
        self.record("hr_link_refused", action_id=None, actor=actor, detail={"why": why, **detail})
        return Linked(page)

    def callback(self, query: Mapping[str, str]) -> Linked:
        """The browser's return from the HR sign-in (`state` and `code`, or `error`)."""
        try:
            claim = self.states.claim(query.get("state"))
        except UnknownState:  # anyone can send one: logged, not audited (no flood of rows)
            log.info("hr_link.refused", why="unknown_state")
            return Linked(Page(400, "Link not recognised", say.UNKNOWN))
        except StateExpired:
            return self._refused("expired", None, Page(400, "Link expired", say.EXPIRED))
        except StateUsed:
            return self._refused("replayed", None, Page(400, "Link already used", say.USED))
        user = claim.slack_user
        if query.get("error"):
            why = "declined" if query.get("error") == "access_denied" else "provider_error"
            return self._refused(why, user, Page(400, "Not connected", say.DECLINED))
        code = query.get("code")
        if not code or len(code) > 2048:
            return self._refused("no_code", user, Page(400, "Not connected", say.BROKEN_ANSWER))
        try:
            token = self.provider.exchange(code, claim.code_verifier)
        except ProviderError:
            return self._refused("exchange_failed", user, Page(502, "Not connected", say.PROVIDER))
        try:
            return self._bind(user, token, claim.event_id)
        except Exception:  # a broken step after the exchange: the grant must not be left behind
            log.exception("hr_link.failed", user=user)
            self._revoke(token)
            return self._refused("failed", user, Page(502, "Not connected", say.PROVIDER))

    def _bind(self, user: str, token: dict[str, Any], event_id: str | None) -> Linked:
        """Link `token` to `user` only if its HR identity is this Slack user's own."""
        try:
            identity = self.provider.identity(token)
            person = self.people.get(user)
        except (ProviderError, LookupFailed):
            self._revoke(token)
            return self._refused("identity_unknown", user, Page(502, "Not connected", say.PROVIDER))
        problem = membership_problem(person, self.team_id, self.enterprise_id)
        if problem is not None:
            self._revoke(token)
            return self._refused(problem, user, Page(403, "Not connected", say.NOT_MEMBER))
        if identity.email is None or person.email is None or identity.email != person.email:
            # A forwarded link: someone else signed in. Their grant must not reach this user.
            self._revoke(token)
            self.tell(user, say.FORWARDED_DM)
            return self._refused(
                "email_mismatch",
                user,
                Page(403, "Not your link", say.MISMATCH),
                hr_subject=identity.subject,
            )
        earlier = self._unlink(user, why="replaced")
        self.accounts.link(user, identity.subject, identity.email, token)
        if earlier is not None and earlier.token.get("refresh_token") != token.get("refresh_token"):
            self._revoke(earlier.token)
        log.info("hr_link.linked", user=user)
        said = (
            f"Your HR account ({identity.email}) is connected: I now act in the HR system as "
            "you. Say `disconnect` here, or use the button, to end it."
        )
        self.tell(user, said, say.connected_blocks(said))
        return Linked(Page(200, "Connected", say.CONNECTED), user, event_id)

    def _unlink(self, user: str, *, why: str):
        try:
            return self.accounts.unlink(user, why=why)
        except SealBroken:
            self.accounts.discard(user, why=why)
            return None

    def _revoke(self, token: Mapping[str, Any]) -> bool:
        return revoked(self.provider, dict(token))

    def disconnect_clicked(self, user: str, channel: str | None) -> None:
        """The Disconnect button on the "connected" message."""
        self.tell(user, self.disconnect(user))

    # --- disconnecting --------------------------------------------------------------------

    def disconnect(self, user: str) -> str:
        """Revoke the person's grant at the HR identity provider and delete it here; what to
        tell them."""
        account = self._unlink(user, why="disconnected")
        if account is None:
            return "Your HR account was not connected; there is nothing to disconnect."
        if self._revoke(account.token):
            return "Disconnected: your HR account's access was revoked and deleted here."
        return (
            "Disconnected here: I deleted your HR account's tokens, but the HR system did not "
            "confirm revoking them; you can also end the access from your HR account settings."
        )


def register(app: App, linking: Linking, *, on_change: Callable[[str], None]) -> None:
    """The Connect and Disconnect buttons (in a DM and on App Home). `on_change(user)` hears of
    every link ended here (App Home shows it)."""

    @app.action(say.CONNECT_ACTION_ID)
    def on_connect(ack: Ack) -> None:
        ack()  # a link button: the browser opens the link; Slack still expects an answer

    @app.action(say.CONNECT_FROM_HOME_ID)
    def on_connect_from_home(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # App Home's button: a fresh, single-use Connect button in the person's DM
        user = (body.get("user") or {}).get("id")
        if isinstance(user, str) and user:
            linking.offer(None, user, say.ASKED_TO_CONNECT)

    @app.action(say.DISCONNECT_ACTION_ID)
    def on_disconnect(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = (body.get("user") or {}).get("id")
        if isinstance(user, str) and user:
            linking.disconnect_clicked(user, (body.get("channel") or {}).get("id"))
            on_change(user)
