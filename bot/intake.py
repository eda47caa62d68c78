"""Taking in a parsed message: stored once (Slack retries are dropped), then queued for an
answer. Nothing here waits on Slack; who may ask is checked on the answering side."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bot.inbox import Inbox, Incoming

log = structlog.get_logger(__name__)


class Intake:
    def __init__(self, inbox: Inbox, queue_answer: Callable[[Incoming], None]) -> None:
        self.inbox = inbox
        self.queue_answer = queue_answer

    def take(self, message: Incoming) -> None:
        if not self.inbox.accept(message):
            log.info("slack.duplicate_event", event_id=message.event_id)
            return
        self.queue_answer(message)
