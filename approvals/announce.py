"""Posts approval cards, keeps every copy up to date, and tells the requester what happened."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from approvals import cards
from approvals.store import ActionStore, PendingAction
from approvals.tokens import TokenSigner

log = structlog.get_logger(__name__)


class Announcer:
    """All Slack I/O of the approvals engine. `on_outcome` hears every finished action
    (the bot uses it to note the outcome in the requester's conversation)."""

    def __init__(
        self,
        client: WebClient,
        store: ActionStore,
        signer: TokenSigner,
        *,
        approvers: Sequence[str],
        approval_channel: str | None,
        on_outcome: Callable[[PendingAction], None] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.signer = signer
        self.approvers = tuple(approvers)
        self.approval_channel = approval_channel
        self.on_outcome = on_outcome

    def _permalink(self, channel: str | None, ts: str | None) -> str | None:
        if not channel or not ts:
            return None
        try:
            return self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"]
        except SlackApiError as e:
            log.warning("slack.permalink_failed", error=e.response.get("error"))
            return None

    def _targets(self) -> list[str]:
        if self.approval_channel:
            return [self.approval_channel]
        targets = []
        for approver in self.approvers:
            try:
                targets.append(self.client.conversations_open(users=approver)["channel"]["id"])
            except SlackApiError as e:
                log.error("slack.dm_open_failed", approver=approver, error=e.response.get("error"))
        return targets

    def post(self, action: PendingAction) -> None:
        """Send the card to the approvers (every copy remembered), then tell the requester."""
        blocks = cards.render_card(
            action,
            approve_token=self.signer.sign(action.id, "approve", action.request_hash),
            reject_token=self.signer.sign(action.id, "reject", action.request_hash),
            conversation_link=self._permalink(action.channel, action.thread_ts),
        )
        first_link = None
        for channel in self._targets():
            try:
                posted = self.client.chat_postMessage(
                    channel=channel, text=cards.card_text(action), blocks=blocks
                )
            except SlackApiError as e:
                log.error("slack.card_failed", action_id=action.id, error=e.response.get("error"))
                continue
            self.store.add_card(action.id, posted["channel"], posted["ts"], "approver")
            first_link = first_link or self._permalink(posted["channel"], posted["ts"])
        if action.channel and action.thread_ts:
            posted = self.client.chat_postMessage(
                channel=action.channel,
                thread_ts=action.thread_ts,
                text=cards.requester_notice(action, first_link),
            )
            self.store.add_card(action.id, posted["channel"], posted["ts"], "requester")

    def refresh(self, action: PendingAction) -> None:
        """Replace the buttons on every approver's copy with where the action stands now."""
        blocks = cards.render_card(action)
        for card in self.store.cards(action.id):
            if card.kind != "approver":
                continue
            try:
                self.client.chat_update(
                    channel=card.channel, ts=card.ts, text=cards.card_text(action), blocks=blocks
                )
            except SlackApiError as e:
                log.error(
                    "slack.card_update_failed", action_id=action.id, error=e.response.get("error")
                )

    def finish(self, action: PendingAction) -> None:
        """An action reached its end: note it for the model, update every card, then tell the
        requester (noted first, so a quick follow-up question already knows the outcome)."""
        if self.on_outcome is not None:
            self.on_outcome(action)
        self.refresh(action)
        if action.channel and action.thread_ts:
            try:
                self.client.chat_postMessage(
                    channel=action.channel,
                    thread_ts=action.thread_ts,
                    text=cards.requester_outcome(action),
                )
            except SlackApiError as e:
                log.error(
                    "slack.outcome_failed", action_id=action.id, error=e.response.get("error")
                )

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """A message only `user` sees (the answer to a refused click)."""
        if not channel:
            return
        try:
            self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as e:
            log.warning("slack.ephemeral_failed", error=e.response.get("error"))
