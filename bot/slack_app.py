"""The Slack app: Bolt listeners (thin), conversation answers on our own pool, approval clicks."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from approvals import PendingAction, cards
from approvals.announce import Announcer
from approvals.approvers import ApproverDirectory
from approvals.clicks import Click, ClickHandler
from approvals.sweeper import Sweeper
from bot.agent import ModelUnavailable
from bot.config import Config
from bot.conversations import thread_key
from bot.dispatch import OrderedPool
from bot.inbox import Inbox, Incoming
from bot.runtime import Runtime
from bot.slack_text import from_slack, to_slack
from bot.tools import ToolContext

log = structlog.get_logger(__name__)

RECEIVED_REACTION = "eyes"
CLICK_PATTERN = re.compile(
    rf"^({cards.APPROVE_ACTION_ID}|{cards.REJECT_ACTION_ID}|{cards.WITHDRAW_ACTION_ID})$"
)
MODEL_DOWN = (
    "Sorry, the language model is not answering right now, so I could not handle that. "
    "Nothing was changed. Please try again in a few minutes."
)
TOO_FAST = "You are sending messages faster than I can take them; wait a minute and ask again."
BROKEN = "Sorry, something went wrong while answering. Nothing was changed."


def _event_thread(item: tuple[dict, dict]) -> str:
    event = item[1]
    return f"{event.get('channel')}:{event.get('thread_ts') or event.get('ts')}"


def make_web_client(config: Config) -> WebClient:
    return WebClient(
        token=config.slack_bot_token,
        base_url=config.slack_api_url,
        timeout=10,
        # A 429 waits for Retry-After instead of losing the reply.
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=5),
        ],
    )


class SlackBot:
    """Everything the Slack side does, wired in one place."""

    def __init__(self, runtime: Runtime, client: WebClient) -> None:
        config = runtime.config
        if runtime.signer is None:
            raise ValueError("APPROVAL_SECRET is needed to sign approval buttons")
        self.runtime = runtime
        self.client = client
        identity = client.auth_test()
        self.bot_user_id: str = identity["user_id"]
        self.team_id: str = identity["team_id"]
        self.approvers = ApproverDirectory(
            config.approvers, group=config.approver_group, client=client
        )
        self.announcer = Announcer(
            client,
            runtime.actions,
            runtime.signer,
            approvers=self.approvers.members,
            approval_channel=config.approval_channel,
            on_outcome=self._note_outcome,
        )
        runtime.toolbox.on_pending = self.announcer.post
        self.clicks = ClickHandler(
            runtime.actions,
            runtime.signer,
            runtime.executor,
            self.announcer,
            approvers=self.approvers,
            allow_self_approval=config.allow_self_approval,
            team_id=self.team_id,
        )
        self.sweeper = Sweeper(runtime.actions, self.announcer, runtime.executor)
        self._stopping = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._recent_lock = threading.Lock()
        self.inbox = Inbox(runtime.database)
        self.pool: OrderedPool[Incoming] = OrderedPool(
            self.answer, key=lambda m: m.thread_key, workers=config.model_concurrency
        )
        self.intake: OrderedPool[tuple[dict, dict]] = OrderedPool(
            lambda item: self.receive(*item), key=_event_thread, workers=4
        )
        self.click_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="clicks")
        # Bolt runs listeners (and so each acknowledgement) here; ours only hand work over.
        self.listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt")
        self.app = App(
            client=client,
            signing_secret=config.slack_signing_secret,
            request_verification_enabled=not config.socket_mode,
            listener_executor=self.listeners,
        )
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.action(CLICK_PATTERN)(self._on_click)
        self.app.view(cards.REJECT_MODAL_ID)(self._on_reject_reason)

    # --- listeners (Bolt acks events itself; actions ack first) ---------------------------

    # Bolt acks from its own worker threads, so they only hand work over: storing a message,
    # deciding a click or calling the model never delays another request's acknowledgement.

    def _on_mention(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        self.intake.submit((body, event))

    def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") == "im":
            self.intake.submit((body, event))

    def _on_click(self, ack: Ack, body: dict[str, Any]) -> None:
        ack()
        action = (body.get("actions") or [{}])[0]
        self.click_pool.submit(
            self.clicks.handle,
            Click(
                user=(body.get("user") or {}).get("id", ""),
                team=(body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id"),
                action_id=str(action.get("action_id", "")),
                value=str(action.get("value", "")),
                channel=(body.get("channel") or {}).get("id")
                or (body.get("container") or {}).get("channel_id"),
                trigger_id=body.get("trigger_id"),
            ),
        )

    def _on_reject_reason(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()  # closes the modal; the outcome shows on the card and in the thread
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        values = (view.get("state") or {}).get("values") or {}
        reason = ((values.get(cards.REASON_BLOCK_ID) or {}).get(cards.REASON_INPUT_ID) or {}).get(
            "value"
        )
        user = body.get("user") or {}
        self.click_pool.submit(
            self.clicks.handle,
            Click(
                user=user.get("id", ""),
                team=(body.get("team") or {}).get("id") or user.get("team_id"),
                action_id=cards.REJECT_ACTION_ID,
                value=str(metadata.get("token", "")),
                channel=metadata.get("channel"),
                reason=reason,
                submitted=True,
            ),
        )

    # --- conversations --------------------------------------------------------------------

    def receive(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """Take one message event: ignore bots and edits, store it once, queue the answer."""
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return
        if event.get("user") == self.bot_user_id:
            return
        event_id = body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}"
        message = Incoming(
            event_id=event_id,
            user=event["user"],
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event["ts"],
            message_ts=event["ts"],
            text=from_slack(event.get("text") or "", self.bot_user_id),
        )
        if not self.inbox.accept(message):
            log.info("slack.duplicate_event", event_id=event_id)
            return
        if not self._within_rate(message.user):
            self._post(message, TOO_FAST)
            self.inbox.answered(message.event_id)
            return
        self._react(message, "reactions_add")
        self.pool.submit(message)

    def _within_rate(self, user: str) -> bool:
        """At most USER_MESSAGES_PER_MINUTE messages from one person in any 60 seconds."""
        now = time.monotonic()
        with self._recent_lock:
            recent = self._recent[user]
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= self.runtime.config.user_messages_per_minute:
                return False
            recent.append(now)
            return True

    def _forget_idle_users(self) -> None:
        """Keep the rate window's memory bounded by who spoke in the last minute."""
        now = time.monotonic()
        with self._recent_lock:
            for user in [
                u for u, times in self._recent.items() if not times or now - times[-1] > 60
            ]:
                del self._recent[user]

    def _react(self, message: Incoming, method: str) -> None:
        try:
            getattr(self.client, method)(
                channel=message.channel, timestamp=message.message_ts, name=RECEIVED_REACTION
            )
        except SlackApiError as e:
            log.warning("slack.reaction_failed", error=e.response.get("error"))

    def answer(self, message: Incoming) -> None:
        """Run the agent for one message and post its answer in the thread (a pool worker)."""
        context = ToolContext(message.user, message.channel, message.thread_ts)
        structlog.contextvars.bind_contextvars(thread=message.thread_key)
        try:
            if not message.text:
                text = "Ask me about employees, for example: _who is employee 2?_"
            else:
                text = to_slack(
                    self.runtime.agent.respond(message.thread_key, message.text, context).text
                )
        except ModelUnavailable:
            text = MODEL_DOWN
        except Exception:
            log.exception("answer.failed")
            text = BROKEN
        finally:
            structlog.contextvars.unbind_contextvars("thread")
        try:
            self._post(message, text)
        finally:
            self._react(message, "reactions_remove")
            self.inbox.answered(message.event_id)

    def _post(self, message: Incoming, text: str) -> None:
        try:
            self.client.chat_postMessage(
                channel=message.channel, thread_ts=message.thread_ts, text=text
            )
        except SlackApiError as e:  # retried already (429, connection); re-running won't help
            log.error("slack.answer_failed", error=e.response.get("error"))

    def _note_outcome(self, action: PendingAction) -> None:
        if action.channel and action.thread_ts:
            self.runtime.conversations.note(
                thread_key(action.channel, action.thread_ts), cards.conversation_note(action)
            )

    def resume(self) -> int:
        """At start-up: settle actions a crash interrupted, then queue the messages that
        arrived but were never answered. Returns how many messages were queued."""
        recovered = self.sweeper.recover()
        if any(recovered.values()):
            log.warning("actions.recovered", **recovered)
        waiting = self.inbox.unanswered()
        for message in waiting:
            self.pool.submit(message)
        return len(waiting)

    def housekeep(self) -> None:
        """One round of background care: expiry, reminders, retention."""
        self.sweeper.sweep()
        self._forget_idle_users()
        days = self.runtime.config.conversation_retention_days
        self.runtime.conversations.purge(days)
        self.inbox.purge(days)
        self.runtime.actions.forget_records(days)

    def start_housekeeping(self) -> None:
        def loop() -> None:
            while not self._stopping.wait(self.runtime.config.sweep_interval_seconds):
                try:
                    self.housekeep()
                except Exception:  # keep sweeping; the next round retries
                    log.exception("housekeeping.failed")

        self._housekeeper = threading.Thread(target=loop, name="housekeeping", daemon=True)
        self._housekeeper.start()

    def close(self) -> None:
        """Finish the clicks and answers under way; call before closing the database."""
        self._stopping.set()
        if self._housekeeper is not None:
            self._housekeeper.join()
        self.listeners.shutdown(wait=True)
        self.intake.shutdown(wait=True)
        self.click_pool.shutdown(wait=True)
        self.pool.shutdown(wait=True)
