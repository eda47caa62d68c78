"""Answering a message: the agent's reply posted in the thread; outcomes noted for the model."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from approvals import PendingAction, Thread
from approvals.authority import Authority, SharedToken
from bot.agent.completions import ModelUnavailable
from bot.agent.history import NOTICE_PREFIX, ConversationStore, conversation_key
from bot.agent.loop import Agent
from bot.conversation.gate import CHECK_FAILED, Gate, Refusal
from bot.conversation.inbox import Inbox
from bot.hr.link_messages import ASKED_TO_CONNECT
from bot.hr.linking import Linking
from bot.slack.events import Incoming
from bot.slack.status import ThinkingStatus
from bot.slack.streaming import Streamer, is_long
from bot.slack.text import to_slack
from bot.tools.context import ToolContext
from infra import metrics
from infra.limits import Limit

log = structlog.get_logger(__name__)

RECEIVED_REACTION = "eyes"
TOO_FAST = "You are sending messages faster than I can take them; wait a minute and ask again."
GREETING = "Ask me about employees, for example: _who is employee 2?_"
MODEL_DOWN = (
    "Sorry, the language model is not answering right now, so I could not handle that. "
    "Nothing was changed. Please try again in a few minutes."
)
BROKEN = "Sorry, something went wrong while answering. Nothing was changed."
RETRY_WORDS = " Do not retry it unless the user asks again."
NOT_LINKED = "Before I look anything up, I need to know who you are in the HR system."
LINK_LOST = "Your HR account's connection has ended, so I stopped there."
DISCONNECT_WORDS = frozenset({"disconnect", "disconnect my hr account"})
CONNECT_WORDS = frozenset({"connect", "connect my hr account"})
ALREADY_LINKED = "Your HR account is already connected. Say `disconnect` to end it."
NOT_DONE = frozenset({"rejected", "expired", "withdrawn", "unknown", "stale", "failed"})


def outcome_note(action: PendingAction) -> str:
    """What the model is told afterwards, as a system notice: facts the bot itself knows (ids,
    statuses, numbers), never free text someone typed, never a token or a button."""
    decided = f" by {action.decided_by}" if action.decided_by else ""
    text = f"Action #{action.id} ({action.method} {action.path}) is now {action.status}{decided}."
    if action.hr_status is not None:
        text += f" The HR API answered {action.hr_status}."
    if action.reason and action.decided_by:
        text += f" {action.decided_by} gave a reason, in their own words next."
    if action.status in NOT_DONE:
        text += RETRY_WORDS
    return text


def note_outcome(conversations: ConversationStore, action: PendingAction) -> None:
    """Tell the model, in the requester's conversation, how an action ended. A reason is the
    approver's words, so it goes in as their turn (named), never inside the system notice; that
    also makes them a contributor to whatever the model queues next in this conversation. It is
    the reason exactly as typed (the notice says whose and what for): a later card may quote it."""
    if action.thread is None:
        return
    messages = [{"role": "system", "content": f"{NOTICE_PREFIX}{outcome_note(action)}"}]
    if action.reason and action.decided_by:
        messages.append({"role": "user", "name": action.decided_by, "content": action.reason})
    conversations.append(conversation_key(action.thread, action.requester), messages)


class Replies:
    """Everything the conversation side says in Slack. `refusals` allows one refusal notice (and
    audit row) per person, reason and channel per window; `record` writes the audit."""

    def __init__(
        self,
        client: WebClient,
        agent: Agent,
        inbox: Inbox,
        gate: Gate,
        *,
        rate: Limit,
        refusals: Limit,
        slow_downs: Limit,
        record: Callable[..., None],
        authority: Authority | None = None,
        linking: Linking | None = None,
        posted_about: Callable[[int, str, str], None] | None = None,
    ) -> None:
        """With per-user HR authority, `authority` holds each person's HR account and `linking`
        asks them to connect it: nobody without a connected account reaches the model.
        `posted_about(action_id, channel, ts)` hears of each answer that tells of a held action
        (retention rewrites it with the action's other messages)."""
        self.posted_about = posted_about
        self.client = client
        self.agent = agent
        self.inbox = inbox
        self.gate = gate
        self.rate = rate
        self.refusals = refusals
        self.slow_downs = slow_downs
        self.record = record
        self.authority = authority or SharedToken()
        self.linking = linking
        self.status = ThinkingStatus(client)
        self.streamer = Streamer(client)

    def answer(self, message: Incoming) -> None:
        """Check who asked and where, then run the agent and post its answer (a pool worker).
        A refused message reaches neither the model nor the HR API."""
        try:
            if self._account_command(message):
                return
            refusal = self._check(message)
            if refusal is not None:
                self.refuse(message, refusal)
                self.inbox.forget_text(message.event_id)
            elif not self.rate.allow(message.user):
                log.info("answer.too_fast", user=message.user)
                if self.slow_downs.allow(message.user):  # one notice per person per window
                    self.tell(message, TOO_FAST)
            elif self.authority.required and self.authority.subject(message.user) is None:
                # Nothing reaches the model before the person is known to the HR system; the
                # message is answered once they have connected.
                self._offer(message, NOT_LINKED, event_id=message.event_id)
            else:
                self._run_agent(message)
                if self.authority.required and self.authority.subject(message.user) is None:
                    self._offer(message, LINK_LOST)
        finally:
            self.inbox.answered(message.event_id)

    def _offer(self, message: Incoming, why: str, *, event_id: str | None = None) -> None:
        if self.linking is not None:
            self.linking.offer(
                message.channel,
                message.user,
                why,
                event_id=event_id,
                thread_ts=message.reply_thread_ts,
            )

    def _account_command(self, message: Incoming) -> bool:
        """`disconnect` in a DM ends the person's own HR link, and `connect` offers one (an
        approver who asks nothing links this way), whoever they are: each touches only the
        sender's own link, and the link itself is checked when it is made."""
        if self.linking is None or not message.is_direct:
            return False
        word = message.text.strip().strip(".!").lower()
        if word in DISCONNECT_WORDS:
            self.post(message.thread, self.linking.disconnect(message.user))
        elif word in CONNECT_WORDS:
            if self.authority.subject(message.user) is not None:
                self.post(message.thread, ALREADY_LINKED)
            else:
                self._offer(message, ASKED_TO_CONNECT)
        else:
            return False
        self.inbox.forget_text(message.event_id)
        return True

    def _check(self, message: Incoming) -> Refusal | None:
        try:
            return self.gate.check(message)
        except Exception:  # a broken check refuses, and says so in the audit
            log.exception("gate.failed", user=message.user)
            return CHECK_FAILED

    def refuse(self, message: Incoming, refusal: Refusal) -> None:
        """Tell only the person, once per window in each channel (a refusal in their DM never
        leaves them unanswered in #hr); audit it (who, why, where, never the text)."""
        log.info("gate.refused", user=message.user, channel=message.channel, why=refusal.code)
        metrics.REFUSALS.labels(refusal.code).inc()
        if not self.refusals.allow(f"{message.user}|{message.channel}"):
            return
        self.record(
            "request_refused",
            action_id=None,
            actor=message.user,
            detail={"why": refusal.code, "channel": message.channel},
        )
        self.tell(message, refusal.text)

    def tell(self, message: Incoming, text: str) -> None:
        """A message only the person who wrote `message` sees, where they wrote it."""
        try:
            self.client.chat_postEphemeral(
                channel=message.channel,
                user=message.user,
                text=text,
                thread_ts=message.reply_thread_ts,
            )
        except SlackApiError as e:
            log.warning("slack.ephemeral_failed", error=e.response.get("error"))

    def _run_agent(self, message: Incoming) -> None:
        status = self.show_working(message)
        try:
            text, held = self._respond(message)
            if text is not None:
                ts = self.deliver(message, text)
                for action_id in held if ts and self.posted_about else ():
                    self.posted_about(action_id, message.thread.channel, ts)
        finally:
            self.stop_working(message, status=status)

    def _respond(self, message: Incoming) -> tuple[str | None, tuple[int, ...]]:
        """The answer to post, and the actions it tells of; None when the thread already says
        it all (a held change's own notice, with its link and Withdraw button, is the answer)."""
        context = ToolContext(message.user, message.thread)
        structlog.contextvars.bind_contextvars(thread=message.thread.key)
        try:
            if not message.text:
                return GREETING, ()
            reply = self.agent.respond(message.text, context)
            return (None if reply.noticed else to_slack(reply.text)), reply.held
        except ModelUnavailable:
            return MODEL_DOWN, ()
        except Exception:
            log.exception("answer.failed")
            return BROKEN, ()
        finally:
            structlog.contextvars.unbind_contextvars("thread")

    def show_working(self, message: Incoming) -> bool:
        """Show that the bot is on it: the "is thinking…" status in a direct message where
        Slack shows it (True), else the reaction on the person's message (False)."""
        if message.is_direct and self.status.show(message.thread):
            return True
        self.react(message)
        return False

    def stop_working(self, message: Incoming, *, status: bool) -> None:
        if status:
            self.status.clear(message.thread)
        else:
            self.react(message, added=False)

    def deliver(self, message: Incoming, text: str) -> str | None:
        """The answer in the person's thread: a long one in a direct message is streamed where
        Slack allows it; anything else, or a stream that did not show it all, is posted. The
        ts of the message that shows it, when known."""
        if message.is_direct and is_long(text):
            streamed = self.streamer.stream(message.thread, self.gate.team_id, message.user, text)
            if streamed:
                return streamed
        return self.post(message.thread, text)

    def post(self, thread: Thread, text: str) -> str | None:
        try:
            posted = self.client.chat_postMessage(
                channel=thread.channel, thread_ts=thread.ts, text=text
            )
        except SlackApiError as e:  # retried already (429, connection); re-running won't help
            log.error("slack.answer_failed", error=e.response.get("error"))
            return None
        return posted.get("ts")

    def react(self, message: Incoming, *, added: bool = True) -> None:
        """Show (or take back) the "working on it" reaction on the person's message: in
        channels, and in direct messages where Slack refuses the status."""
        method = self.client.reactions_add if added else self.client.reactions_remove
        try:
            method(channel=message.channel, timestamp=message.message_ts, name=RECEIVED_REACTION)
        except SlackApiError as e:
            log.warning("slack.reaction_failed", error=e.response.get("error"))
