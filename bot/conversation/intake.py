"""Taking in a parsed message: stored once (Slack retries are dropped), then queued for an
answer. Nothing here waits on Slack; who may ask is checked on the answering side."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot.conversation.inbox import Inbox
from bot.slack.events import Incoming
from infra.limits import RateWindow

log = structlog.get_logger(__name__)


class Intake:
    """`storable` bounds what one person can make the bot store (a generous multiple of the
    per-minute limit the answering side enforces with a notice); past it messages are dropped
    before anything is written."""

    def __init__(
        self, inbox: Inbox, storable: RateWindow, queue_answer: Callable[[Incoming], bool]
    ) -> None:
        self.inbox = inbox
        self.storable = storable
        self.queue_answer = queue_answer

    def take(self, message: Incoming) -> None:
        if not self.storable.allow(message.user):
            log.warning("intake.flood_dropped", user=message.user, event_id=message.event_id)
            return
        if not self.inbox.accept(message):
            log.info("slack.duplicate_event", event_id=message.event_id)
            return
        if not self.queue_answer(message):  # this person already has a full queue: a flood
            log.warning("answer.dropped", user=message.user, event_id=message.event_id)
            self.inbox.answered(message.event_id)
