"""Requests no tool can do (to email, ping, book, schedule…) are declined in the bot's own words
before any model call; a request to be shown something in the thread is a read."""

from __future__ import annotations

import pytest

from approvals import Thread
from bot.agent.scope import elsewhere
from bot.tools.context import ToolContext

DANA = ToolContext(requester="U0DANA", thread=Thread("C0HR", "1700000000.000100"))


@pytest.mark.parametrize(
    ("said", "verb"),
    [
        ("Email everyone a memo about Friday's office closure.", "email"),
        ("Can you book me a half hour catch-up with Rachel Howell on Thursday?", "book"),
        ("Could you ping Tobias on Slack and remind him his timesheet is overdue?", "ping"),
        ("Please send the new joiners a welcome pack", "send"),
        ("Hi, could you please schedule a meeting with Janet", "schedule"),
        ("Tell Tobias his timesheet is late", "tell"),
        ("Remind Janet about her review", "remind"),
        ("Call Janet", "call"),
        ("Invite the engineers to the offsite", "invite"),
        ("Buy Janet a leaving present", "buy"),
    ],
)
def test_a_request_no_tool_can_do_is_named_by_its_verb(said, verb):
    assert elsewhere(said) == verb


@pytest.mark.parametrize(
    "said",
    [
        "Send me the list of engineers",
        "Remind me who our recruiter is",
        "Tell me who works in legal",
        "Message me the engineers",
        "Can you tell me Janet's job?",
        "Email of Janet Weaver?",
        "Email address of Tobias",
        "Mail address for Tobias?",
        "Call up the record of Janet",
        "Who works in engineering?",
        "Janet Weaver is now head of payroll",
        "Delete Tobias Funke",
        "Please schedule?",
        "message 3",
        "Call #2 went well; who is our recruiter?",
    ],
)
def test_a_read_or_a_change_is_never_declined(said):
    assert elsewhere(said) is None


def test_it_is_declined_without_asking_the_model_and_the_thread_remembers_it(agent, model):
    reply = agent.respond("Could you ping Tobias and remind him about his timesheet?", DANA)

    assert reply.text.startswith("I can't ping anyone or anything for you: I only look up")
    assert model.requests == [] and reply.model_calls == 0
    history = agent.conversations.load("C0HR:1700000000.000100:U0DANA")
    assert [m["role"] for m in history] == ["user", "assistant"]
