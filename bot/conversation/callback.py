"""GET /oauth/callback: the HR account linked (or the link refused), then the message that led
to it answered, taken up again from the inbox, so a crash meanwhile does not lose it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.conversation.inbox import Inbox
from bot.hr.linking import Linking, Page
from bot.slack.events import Incoming


class CallbackPage:
    """GET /oauth/callback: the link made (or refused), then the message that led to it is
    answered: taken up again from the inbox, so a crash meanwhile does not lose it."""

    def __init__(
        self,
        linking: Linking,
        inbox: Inbox,
        queue_answer: Callable[[Incoming], bool],
        *,
        within_seconds: float,
        on_linked: Callable[[str], None] | None = None,
    ) -> None:
        """`on_linked(user)` hears of every link made (App Home shows it)."""
        self.linking = linking
        self.inbox = inbox
        self.queue_answer = queue_answer
        self.within_seconds = within_seconds
        self.on_linked = on_linked

    def __call__(self, query: Mapping[str, str]) -> Page:
        linked = self.linking.callback(query)
        if linked.slack_user and self.on_linked is not None:
            self.on_linked(linked.slack_user)
        if linked.slack_user and linked.event_id:
            message = self.inbox.reopen(
                linked.event_id, linked.slack_user, within_seconds=self.within_seconds
            )
            if message is None or not self.queue_answer(message):
                if message is not None:
                    self.inbox.answered(message.event_id)
                self.linking.tell(linked.slack_user, "Please ask your question again.")
        return linked.page
