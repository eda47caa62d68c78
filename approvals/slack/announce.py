"""Posts approval cards, keeps every copy up to date, and tells the requester what happened."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from approvals.deciders import Deciders
from approvals.records import Card, PendingAction
from approvals.slack import blocks as kit
from approvals.slack import cards, channel_cards, modals
from approvals.slack.card_copies import CardCopies
from approvals.tokens import TokenSigner

log = structlog.get_logger(__name__)

REDACTED_PER_ROUND = 200  # messages rewritten per housekeeping round, once purged
MAX_REDACT_TRIES = 5
# What Slack answers for a message that cannot be updated ever again.
GONE = frozenset(
    {
        "message_not_found",
        "channel_not_found",
        "is_archived",
        "cant_update_message",
        "edit_window_closed",
        "not_in_channel",
        "account_inactive",
    }
)
APPROVER_CARDS = frozenset({"approver"})
NOTICES = frozenset({"requester"})
# A message that is there but may no longer be edited: deleted instead.
UNEDITABLE = frozenset({"cant_update_message", "edit_window_closed"})


class Announcements(Protocol):
    """What the click handler needs said in Slack; Announcer does it for real (and what the
    sweeper needs: approvals.sweeper.Notices)."""

    def post(self, action: PendingAction) -> None: ...

    def unposted(self, action: PendingAction) -> bool: ...

    def refresh(self, action: PendingAction) -> None: ...

    def finish(self, action: PendingAction) -> None: ...

    def tell_approvers(
        self, action: PendingAction, text: str, in_channel: str | None = None
    ) -> None: ...

    def escalate(self, action: PendingAction, people: list[str]) -> None: ...

    def open_reject_modal(
        self,
        action: PendingAction,
        trigger_id: str,
        token: str,
        channel: str | None,
        view_id: str | None = None,
    ) -> bool: ...

    def details_view(self, action: PendingAction, channel: str | None) -> dict: ...

    def update_details(self, view_id: str, action: PendingAction, channel: str | None) -> None: ...

    def tell(self, channel: str | None, user: str, text: str) -> None: ...

    def open_modal(self, action: PendingAction, trigger_id: str, view: dict) -> bool: ...

    def tell_requester(self, action: PendingAction, text: str) -> None: ...

    def hand_over(self, action: PendingAction, person: str, note: str) -> bool: ...


class Announcer:
    """All Slack I/O of the approvals engine. `approvers` names who gets a DM when there is no
    approval channel; `on_outcome` hears every finished action (the bot notes it in the
    requester's conversation)."""

    def __init__(
        self,
        client: WebClient,
        copies: CardCopies,
        signer: TokenSigner,
        *,
        approvers: Callable[[], Iterable[str]],
        approval_channel: str | None,
        on_outcome: Callable[[PendingAction], None] | None = None,
        on_change: Callable[[PendingAction], None] | None = None,
        excluded: Callable[[PendingAction, str], bool] | None = None,
        contributors_decide: bool = False,
        deciders: Deciders | None = None,
    ) -> None:
        """`on_change` hears of every action whose cards were posted or updated (App Home
        refreshes the views of the people it concerns). `excluded(action, person)`: the
        person is, or may be, the one the action is about (approvals.subjects): no card by DM
        for them, whatever brings it (posting, escalation, a hand-over). `contributors_decide`
        (ALLOW_SELF_APPROVAL): those whose words shaped an action may decide it too.
        `deciders`: when the manager of the person an action is about decides it instead."""
        self.client = client
        self.copies = copies
        self.signer = signer
        self.approvers = approvers
        self.approval_channel = approval_channel
        self.on_outcome = on_outcome
        self.on_change = on_change
        self.excluded = excluded or (lambda action, person: False)
        self.contributors_decide = contributors_decide
        self.deciders = deciders
        self._dm_channels: dict[str, str] = {}

    def _call(
        self, method: str, action_id: int | None, *, remember: bool = True, **kwargs
    ) -> dict | None:
        """One Web API call; a failure is logged and skipped so the other copies still go out.
        A message posted about an action is remembered (unless `remember` is off: the caller
        keeps it as a card), so retention can rewrite it."""
        try:
            answer = getattr(self.client, method)(**kwargs).data
        except (SlackApiError, OSError) as e:  # refused, or Slack out of reach (a timeout)
            error = e.response.get("error") if isinstance(e, SlackApiError) else type(e).__name__
            log.error("slack.call_failed", method=method, action_id=action_id, error=error)
            return None
        if method == "chat_postMessage" and action_id is not None and remember and answer:
            self.copies.remember(action_id, answer["channel"], answer["ts"])
        return answer

    def redact_purged(
        self, action_of: Callable[[int], PendingAction], *, limit: int = REDACTED_PER_ROUND
    ) -> int:
        """Rewrite every message posted about an action whose personal data retention purged
        (its cards, the requester's notice and outcome, the notes under them) to a summary
        without it; how many were rewritten. A message Slack cannot update now is tried again
        next round, at most MAX_REDACT_TRIES times; one that is gone (deleted, its channel
        archived) is given up on. Logged either way; the database's purge never waits on it."""
        done = 0
        for card in self.copies.unredacted(limit, MAX_REDACT_TRIES):
            text = cards.purged(action_of(card.action_id))
            try:
                self.client.chat_update(
                    channel=card.channel, ts=card.ts, text=text, blocks=[kit.section(text)]
                )
            except SlackApiError as e:
                error = e.response.get("error")
                if error in UNEDITABLE and self._deleted(card):  # kept as it was: take it down
                    self.copies.redacted(card, time.time())
                    done += 1
                    continue
                gone = error in GONE
                log.warning(
                    "slack.redact_failed", action_id=card.action_id, error=error, given_up=gone
                )
                self.copies.redaction_failed(card, give_up=gone, max_tries=MAX_REDACT_TRIES)
                continue
            self.copies.redacted(card, time.time())
            done += 1
        if done:
            log.info("slack.redacted", messages=done)
        return done

    def _deleted(self, card: Card) -> bool:
        """Take down a message Slack will not let the bot edit any more."""
        try:
            self.client.chat_delete(channel=card.channel, ts=card.ts)
        except SlackApiError as e:
            error = e.response.get("error")
            log.warning("slack.delete_failed", action_id=card.action_id, error=error)
            return False
        return True

    def _permalink(self, channel: str | None, ts: str | None) -> str | None:
        if not channel or not ts:
            return None
        answer = self._call("chat_getPermalink", None, channel=channel, message_ts=ts)
        return answer["permalink"] if answer else None

    def _targets(self, action: PendingAction) -> list[str]:
        """Where cards go: the DM of the manager who decides it; else the approval channel, or
        the DM of each approver but the person the action is about (opened once, then
        remembered: a DM's channel never changes)."""
        manager = self.deciders.manager(action) if self.deciders else None
        if manager is not None:
            return self._direct_messages([manager])
        if self.approval_channel:
            return [self.approval_channel]
        return self._direct_messages(p for p in self.approvers() if not self.excluded(action, p))

    def _deciders(self, action: PendingAction) -> list[str]:
        """The approvers who may decide `action`: its manager, when they do; else not the
        person it is about, nor (unless they may) anyone whose words shaped it."""
        manager = self.deciders.manager(action) if self.deciders else None
        if manager is not None:
            return [manager]
        return [
            person
            for person in self.approvers()
            if (self.contributors_decide or person not in action.shaped_by)
            and not self.excluded(action, person)
        ]

    def _direct_messages(self, people: Iterable[str]) -> list[str]:
        targets = []
        for person in people:
            channel = self._dm_channels.get(person)
            if channel is None:
                opened = self._call("conversations_open", None, users=person)
                if not opened:
                    continue
                channel = self._dm_channels[person] = opened["channel"]["id"]
            targets.append(channel)
        return targets

    def escalate(self, action: PendingAction, people: list[str]) -> None:
        """The card, by DM, to each of `people` (the escalation group) who has no copy yet,
        with a note under it saying why it came; every copy is kept up to date like the others."""
        carded = {card.channel for card in self.copies.of(action.id) if card.kind == "approver"}
        allowed = [p for p in people if not self.excluded(action, p)]
        missing = [t for t in self._direct_messages(allowed) if t not in carded]
        note = (
            f"Action #{action.id} has waited since {cards.when(action.created_at)} without a "
            "decision, so it was escalated to your group: you may decide it too."
        )
        for channel, ts in self._post_cards(action, missing):
            self._call("chat_postMessage", action.id, channel=channel, thread_ts=ts, text=note)
        self._changed(action)

    def _changed(self, action: PendingAction) -> None:
        if self.on_change is not None:
            try:
                self.on_change(action)
            except Exception:  # a view left stale never stops the cards
                log.exception("announce.on_change_failed", action_id=action.id)

    def unposted(self, action: PendingAction) -> bool:
        """Whether a copy is missing: the card in one of its places (one approver's DM failed
        while the others went out), or the requester's notice."""
        posted = self.copies.of(action.id)
        carded = {card.channel for card in posted if card.kind == "approver"}
        noticed = any(card.kind == "requester" for card in posted)
        return (action.thread is not None and not noticed) or any(
            target not in carded for target in self._targets(action)
        )

    def _approver_blocks(self, action: PendingAction, channel: str) -> list[dict]:
        """The full card in a DM; in a channel, read by others too, the summary."""
        render = cards.render_card if channel.startswith("D") else channel_cards.summary_card
        if action.status != "pending":
            return render(action)
        link = self._permalink(action.channel, action.thread_ts)
        return render(
            action,
            approve_token=self.signer.sign(action.id, "approve", action.request_hash),
            reject_token=self.signer.sign(action.id, "reject", action.request_hash),
            conversation_link=link,
            more_buttons=self._revision_buttons(action),
        )

    @staticmethod
    def _card_text(action: PendingAction, channel: str) -> str:
        return (cards if channel.startswith("D") else channel_cards).card_text(action)

    def _revision_buttons(self, action: PendingAction) -> list[dict]:
        """Edit (a request with a body: there is something to edit) and Reassign."""
        edit = self.signer.sign(action.id, "edit", action.request_hash) if action.body else None
        reassign = self.signer.sign(action.id, "reassign", action.request_hash)
        return modals.revision_buttons(edit, reassign)

    def _requester_blocks(self, action: PendingAction) -> list[dict]:
        approver_cards = [c for c in self.copies.of(action.id) if c.kind == "approver"]
        link = (
            self._permalink(approver_cards[0].channel, approver_cards[0].ts)
            if approver_cards
            else None
        )
        token = self.signer.sign(action.id, "withdraw", action.request_hash)
        told = action.is_terminal and self.copies.outcome_told(action.id)
        return cards.requester_blocks(action, link, token, outcome_told=told)

    def post(self, action: PendingAction) -> None:
        """Send the card to the approvers (every copy remembered), then tell the requester.
        What was posted before is not posted again, so a failed post can simply be retried."""
        posted = self.copies.of(action.id)
        carded = {card.channel for card in posted if card.kind == "approver"}
        missing = [target for target in self._targets(action) if target not in carded]
        if missing:
            self._post_cards(action, missing)
        if not any(card.kind == "requester" for card in posted):
            self._post_notice(action)
            self._too_few(action)
        self._changed(action)

    def _too_few(self, action: PendingAction) -> None:
        """When too few approvers may decide the action for its quorum (the person it is about
        and those who shaped it take no part), the requester's thread and the approvers' cards
        say so; it escalates as usual if it waits."""
        try:
            deciders = len(self._deciders(action))
        except Exception:  # an unreadable roster: the clicks are checked (and refused) anyway
            log.warning("announce.deciders_unknown", action_id=action.id)
            return
        if deciders >= action.approvals_required:
            return
        text = (
            f"Only {deciders} of the approvers may decide action #{action.id}, which needs "
            f"{action.approvals_required}: the person a change is about, and anyone whose words "
            "shaped it, take no part. It waits for more approvers, and escalates if it waits "
            "too long."
        )
        log.info("announce.too_few_deciders", action_id=action.id, deciders=deciders)
        self.tell_requester(action, text)
        self.tell_approvers(action, text)

    def _post_cards(self, action: PendingAction, targets: list[str]) -> list[tuple[str, str]]:
        """The card in each of `targets`; the (channel, ts) of those posted, each remembered."""
        done = []
        for channel in targets:
            posted = self._call(
                "chat_postMessage",
                action.id,
                remember=False,
                channel=channel,
                text=self._card_text(action, channel),
                blocks=self._approver_blocks(action, channel),
            )
            if posted:
                self.copies.add(action.id, posted["channel"], posted["ts"], "approver")
                done.append((posted["channel"], posted["ts"]))
        return done

    def _post_notice(self, action: PendingAction) -> None:
        if action.channel and action.thread_ts:
            posted = self._call(
                "chat_postMessage",
                action.id,
                remember=False,
                channel=action.channel,
                thread_ts=action.thread_ts,
                text=cards.requester_notice(action, None),
                blocks=self._requester_blocks(action),
            )
            if posted:
                self.copies.add(action.id, posted["channel"], posted["ts"], "requester")

    def refresh(self, action: PendingAction) -> None:
        """Show where the action stands on every copy of its card and on the requester's notice.
        A DM copy whose approver the action is now about (an edit made it theirs, say) loses
        its details and buttons instead."""
        self._refresh(action)
        self._changed(action)

    def _refresh(self, action: PendingAction, kinds: frozenset[str] = frozenset()) -> None:
        """refresh, of the copies of `kinds` only (when given), without telling on_change."""
        requester_blocks = None
        copies = [c for c in self.copies.of(action.id) if not kinds or c.kind in kinds]
        barred = self._barred(action, copies)
        for card in copies:
            if card.channel in barred:
                text = barred_text(action)
                blocks = [kit.section(text)]
            elif card.kind == "approver":
                blocks = self._approver_blocks(action, card.channel)
                text = self._card_text(action, card.channel)
            else:
                requester_blocks = requester_blocks or self._requester_blocks(action)
                blocks, text = requester_blocks, cards.requester_notice(action, None)
            self._call(
                "chat_update", action.id, channel=card.channel, ts=card.ts, text=text, blocks=blocks
            )

    def _barred(self, action: PendingAction, copies: list[Card]) -> set[str]:
        """The DMs, among those holding a copy of the card, of approvers the action is (or may
        be) about: theirs no longer shows it."""
        dms = {c.channel for c in copies if c.kind == "approver" and c.channel.startswith("D")}
        if not dms:
            return set()
        try:
            owners = {ch: p for p, ch in self._dm_channels.items() if ch in dms}
            if dms - owners.keys():  # opened by another process: whose is it?
                for person in self.approvers():
                    owners.update((ch, person) for ch in self._direct_messages([person]))
        except Exception:  # an unreadable roster: the clicks are checked (and refused) anyway
            log.warning("announce.dm_owners_unknown", action_id=action.id)
            return set()
        return {ch for ch in dms if ch in owners and self.excluded(action, owners[ch])}

    def finish(self, action: PendingAction) -> None:
        """An action reached its end: note it for the model (first, so a quick follow-up
        question already knows the outcome), update the approvers' cards, tell the requester in
        one message of plain words, then update their notice (which says the outcome itself
        only when that message could not be posted)."""
        if self.on_outcome is not None:
            self.on_outcome(action)
        self._refresh(action, APPROVER_CARDS)
        self._tell_outcome(action)
        self._refresh(action, NOTICES)
        self._changed(action)  # once, with every copy updated

    def _tell_outcome(self, action: PendingAction) -> None:
        """The outcome, once, as a reply in the requester's thread (which notifies them)."""
        if action.thread is None or self.copies.outcome_told(action.id):
            return
        posted = self._call(
            "chat_postMessage",
            action.id,
            remember=False,
            channel=action.thread.channel,
            thread_ts=action.thread.ts,
            text=cards.requester_outcome(action),
            blocks=cards.requester_outcome_blocks(action),
        )
        if posted:
            self.copies.remember(action.id, posted["channel"], posted["ts"], kind="outcome")

    def remind(self, action: PendingAction) -> None:
        """Once, near its expiry: the action still waits for a decision."""
        self.tell_approvers(action, cards.reminder(action), channel_cards.reminder(action))

    def tell_approvers(
        self, action: PendingAction, text: str, in_channel: str | None = None
    ) -> None:
        """A reply under every approver's copy of the card (reminders, recovery notices);
        `in_channel`, when given, is what copies in a channel get instead (no personal data)."""
        copies = self.copies.of(action.id)
        barred = self._barred(action, copies)
        for card in copies:
            if card.kind == "approver" and card.channel not in barred:
                said = text if card.channel.startswith("D") or in_channel is None else in_channel
                self._call(
                    "chat_postMessage",
                    action.id,
                    channel=card.channel,
                    thread_ts=card.ts,
                    text=said,
                )

    def open_reject_modal(
        self,
        action: PendingAction,
        trigger_id: str,
        token: str,
        channel: str | None,
        view_id: str | None = None,
    ) -> bool:
        """Ask for an optional reason. Must run within Slack's ~3 s trigger window. From Show
        details (`view_id`) the question goes on top of it (views.push), which its
        submission then updates."""
        metadata = json.dumps({"token": token, "channel": channel, "view": view_id})
        opened = self._call(
            "views_push" if view_id else "views_open",
            action.id,
            trigger_id=trigger_id,
            view=modals.reject_modal(action, metadata),
        )
        return opened is not None

    def details_view(self, action: PendingAction, channel: str | None) -> dict:
        """Show details: the full card in a modal, with Approve and Reject while it waits
        (the card's own signed buttons, so a click there is checked like one on the card)."""
        if action.status != "pending":
            return channel_cards.details_modal(action, channel=channel)
        return channel_cards.details_modal(
            action,
            approve_token=self.signer.sign(action.id, "approve", action.request_hash),
            reject_token=self.signer.sign(action.id, "reject", action.request_hash),
            channel=channel,
        )

    def update_details(self, view_id: str, action: PendingAction, channel: str | None) -> None:
        """Show details again, after a decision made in it."""
        self._call(
            "views_update", action.id, view_id=view_id, view=self.details_view(action, channel)
        )

    def tell(self, channel: str | None, user: str, text: str) -> None:
        """A message only `user` sees (the answer to a refused click): ephemeral where they
        clicked, or in their DM with the bot when the click came from no channel (App Home)."""
        if channel:
            self._call("chat_postEphemeral", None, channel=channel, user=user, text=text)
        else:
            for dm in self._direct_messages([user]):
                self._call("chat_postMessage", None, channel=dm, text=text)

    def open_modal(self, action: PendingAction, trigger_id: str, view: dict) -> bool:
        """Open `view` (Edit's or Reassign's). Must run within Slack's ~3 s trigger window."""
        return self._call("views_open", action.id, trigger_id=trigger_id, view=view) is not None

    def tell_requester(self, action: PendingAction, text: str) -> None:
        """A message in the requester's thread (what an approver's edit changed)."""
        if action.channel and action.thread_ts:
            self._call(
                "chat_postMessage",
                action.id,
                channel=action.channel,
                thread_ts=action.thread_ts,
                text=text,
            )

    def hand_over(self, action: PendingAction, person: str, note: str) -> bool:
        """The card by DM to `person` (a copy kept up to date like the others; a DM that has
        one already keeps it), with `note` under it. False: the card could not reach them."""
        if self.excluded(action, person):
            return False  # the person it is about never gets its card
        dm = next(iter(self._direct_messages([person])), None)
        if dm is None:
            return False

        def copy_there() -> Card | None:
            copies = self.copies.of(action.id)
            return next((c for c in copies if c.channel == dm and c.kind == "approver"), None)

        card = copy_there()
        if card is None:
            self._post_cards(action, [dm])
            card = copy_there()
            self._changed(action)
        if card is not None:
            self._call("chat_postMessage", action.id, channel=dm, thread_ts=card.ts, text=note)
        return card is not None


def barred_text(action: PendingAction) -> str:
    return (
        f"Action #{action.id} is now about your own HR record, so you take no part in it: its "
        "details are no longer shown here, and other approvers decide it."
    )
