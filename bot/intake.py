"""Taking in a parsed message: stored once (Slack retries are dropped), limited per person, then
queued for an answer."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot.inbox import Inbox, Incoming
from bot.limits import RateWindow
from bot.replies import Replies

log = structlog.get_logger(__name__)

TOO_FAST = "You are sending messages faster than I can take them; wait a minute and ask again."


class Intake:
    def __init__(
        self,
        inbox: Inbox,
        rate: RateWindow,
        replies: Replies,
        queue_answer: Callable[[Incoming], None],
    ) -> None:
        self.inbox = inbox
        self.rate = rate
        self.replies = replies
        self.queue_answer = queue_answer

    def take(self, message: Incoming) -> None:
        if not self.inbox.accept(message):
            log.info("slack.duplicate_event", event_id=message.event_id)
            return
        if not self.rate.allow(message.user):
            self.replies.post(message.thread, TOO_FAST)
            self.inbox.answered(message.event_id)
            return
        self.replies.react(message)
        self.queue_answer(message)
