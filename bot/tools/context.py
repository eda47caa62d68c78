"""What a tool call knows of who asks and where (ToolContext), and what it gives back
(ToolResult): text for the model, and the bot's own answer when a change ends the turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from approvals import PendingAction, Thread
from approvals.slack.cards import summary_with
from approvals.slack.values import visible
from bot.tools.budget import HRBudget
from bot.tools.finder import Found


@dataclass(frozen=True)
class ToolContext:
    """Who is asking, and from which Slack thread: recorded on every pending action."""

    requester: str
    thread: Thread | None = None
    # Everyone whose words were in the model's context (the agent fills it in); none of them
    # may approve what the model queues.
    contributors: frozenset[str] = frozenset()
    # The HR requests this user message may still make (the agent gives each message its own).
    budget: HRBudget = field(default_factory=lambda: HRBudget(None))
    # The people's messages the model has read, verbatim (speaker, text): quoted on the card of
    # whatever it queues, so approvers judge what was asked, not the model's account of it.
    words: tuple[tuple[str, str], ...] = ()
    # (tool, fields) a change named that its record does not have, this message (the agent
    # gives each message its own): the second time, the bot answers.
    strikes: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    @property
    def requesters_words(self) -> list[str]:
        """The requester's own messages among `words`, in order."""
        return [text for speaker, text in self.words if speaker == self.requester]

    @property
    def last_asked(self) -> str:
        """The requester's last message: what the current turn is for ("" when none)."""
        mine = self.requesters_words
        return mine[-1] if mine else ""


WORDS_QUOTED = 3  # the last messages a card quotes


def words_in(messages: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The last WORDS_QUOTED user turns of `messages` as (verified speaker, text)."""
    said = [
        (str(m.get("name") or "unknown"), m["content"])
        for m in messages
        if m.get("role") == "user" and isinstance(m.get("content"), str)
    ]
    return tuple(said[-WORDS_QUOTED:])


@dataclass(frozen=True)
class ToolResult:
    """What one tool call gives back: `content` for the model; `answer`, when set, ends the turn
    with the bot's own words to the user (a change held, or one that names nobody or several
    people), so the model never words what happens to a change. `found`: the people a read
    settled (a search, the whole directory, a page), which the answer is checked against."""

    content: str
    answer: str | None = None
    held: PendingAction | None = None
    found: Found | None = None


def held_answer(action: PendingAction) -> str:
    """The requester's answer when a change is held: what it is and whose record (values in
    inline code, so none reads as the bot's own words), and that a human decides."""
    return (
        f"Sent for approval (#{action.id}): {summary_with(action, coded)}. Nothing "
        "changes until an approver approves it; the outcome will be posted here."
    )


def queued_message(action: PendingAction) -> str:
    """All the model ever learns about a held write: its number and that a human decides."""
    return (
        f"Queued as action #{action.id}: {action.method} {action.path} is waiting for a human "
        "approver, who will approve or reject it. Nothing has changed yet. Do not call this "
        "again for the same change and do not say it is done; the system will post the "
        "outcome in this thread."
    )


def coded(value: Any) -> str:
    """A value inside the bot's own sentence: one line, cut, in inline code (the Slack text is
    escaped when it is posted)."""
    return "`" + visible(value, 80).replace("`", "'") + "`"
