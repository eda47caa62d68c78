"""Taking turns in a conversation, across replicas: one conversation's messages (one Slack
thread, one person) are answered one at a time, in the order they were sent, by whichever
process holds that conversation's turn (a named lease), whichever process Slack gave them to."""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from bot.agent.history import conversation_key
from bot.conversation.inbox import Inbox
from bot.slack.events import Incoming
from infra.named_leases import NamedLeases

log = structlog.get_logger(__name__)


def turn_name(message: Incoming) -> str:
    return f"turn:{conversation_key(message.thread, message.user)}"


class Turns:
    """The answering pool's handler: `take(message)` answers, with `answer`, every unanswered
    message of the conversation `message` is in, oldest first, while holding its turn. When
    another process holds the turn, `take` leaves the message to it: a holder looks again after
    letting go, so a message stored meanwhile is never stranded."""

    def __init__(
        self, inbox: Inbox, leases: NamedLeases, answer: Callable[[Incoming], None]
    ) -> None:
        self.inbox = inbox
        self.leases = leases
        self.answer = answer
        self._requeued: set[str] = set()  # stalled messages queued again, not yet taken
        self._guard = threading.Lock()

    def take(self, message: Incoming) -> None:
        with self._guard:
            self._requeued.discard(message.event_id)
        name = turn_name(message)
        while self.leases.take(name):
            try:
                with self.leases.kept(name):
                    while (waiting := self.inbox.next_in_conversation(message)) is not None:
                        self.answer(waiting)
                        if not self.leases.renew(name):  # lapsed meanwhile: no longer ours
                            log.warning("turn.lost", event_id=waiting.event_id)
                            return
            finally:
                self.leases.release(name)  # only if still ours
            # One may have been stored after our last look and before we let go: its process
            # saw the turn taken and left it to us.
            if not self.inbox.waiting_in_conversation(message):
                return
        log.info("turn.held_elsewhere", event_id=message.event_id)

    def stalled(self) -> list[Incoming]:
        """This process's messages still unanswered a lease after they came in whose
        conversation nobody holds (its holder died after looking, say): to queue again. Each
        is returned once until it is taken, so a long backlog is never queued twice over."""
        waiting = self.inbox.waiting_longer_than(self.leases.seconds)
        with self._guard:
            self._requeued &= {message.event_id for message in waiting}
            stalled = [
                message
                for message in waiting
                if message.event_id not in self._requeued
                and not self.leases.held(turn_name(message))
            ]
            self._requeued.update(message.event_id for message in stalled)
        return stalled
