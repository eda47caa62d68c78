"""Requests no tool can do, answered in the bot's own words before any model call: a message whose
request is to send, ping, remind, book, schedule, call or invite (the bot reads and changes HR
records; it has no mail, calendar or messaging). Only a message that opens with such a request
counts ("Could you ping Tobias…", "Email everyone a memo…"); one that asks for something to be
shown in the thread ("send me the engineers", "remind me who our recruiter is") is a read."""

from __future__ import annotations

import re

# What people ask for that no HR tool does, as the verb that opens the request.
ELSEWHERE = (
    "email|e-mail|mail|message|dm|ping|text|notify|tell|remind|send|forward|contact|call|phone|"
    "schedule|book|reserve|arrange|organise|organize|invite|announce|print|buy|purchase"
)
# A greeting or a polite opening before the request: "Hi, could you please…".
OPENING = r"(?:(?:hi|hey|hello|morning|thanks)\b[\s,!.-]*)?(?:(?:can|could|would|will) you\s+)?"
POLITE = r"(?:(?:please|pls|kindly|quickly|also|just)\s+)*"
REQUEST = re.compile(rf"^\s*{OPENING}{POLITE}(?P<verb>{ELSEWHERE})\b(?P<rest>.*)", re.I | re.S)
# Verbs that may ask for something to be shown to the person asking ("send me the list").
SHOWABLE = frozenset({"email", "e-mail", "mail", "message", "dm", "text", "tell", "remind", "send"})
# What makes it a read after all: the answer is for the person asking, in this thread.
FOR_THEM = re.compile(r"^\s*(?:me|us)\b", re.IGNORECASE)
# The word used as a noun ("email of Janet?", "mail address for Tobias", "message 3", "call up
# the record").
NOUN = re.compile(r"^\s*(?:(?:of|for|address(?:es)?|ids?|is|are|was|up|over)\b|[?:#\d]|$)", re.I)


def elsewhere(text: str) -> str | None:
    """The verb of a request no tool can do, or None."""
    found = REQUEST.match(text)
    if found is None or NOUN.match(found["rest"]):
        return None
    verb = found["verb"].casefold()
    if verb in SHOWABLE and FOR_THEM.match(found["rest"]):
        return None
    return verb


def declined(verb: str) -> str:
    """The bot's answer to such a request."""
    return (
        f"I can't {verb} anyone or anything for you: I only look up and change employee records "
        "in the HR system (who works where, their jobs and emails), so nothing was done. Ask me "
        "who someone is, or for a change to their record."
    )
