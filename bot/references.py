"""The record a typed tool call names, as the user named it (an id, a name or an email),
resolved to its id in code: the model never picks one of several people for a change, and a
change to nobody, or to one of several, ends with the bot's own question or answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.finder import WEB_ADDRESS, EmployeeFinder
from bot.hr_client import HRError
from bot.request_checks import RequestRefused

_ID = re.compile(r"#?([1-9][0-9]{0,9})")
# Words that name no one person: a change to them is a change to everyone.
EVERYONE = frozenset({"", "all", "everyone", "everybody", "all of them", "every employee"})
MAX_NAMED = 10  # candidates named in a question


@dataclass(frozen=True)
class Unresolved:
    """Why a reference names no single record: `content` for the model; `answer` for the user
    when the call was a change (the turn ends there)."""

    content: str
    answer: str | None = None


def resolve(finder: EmployeeFinder, value: Any, *, noun: str, change: bool) -> int | Unresolved:
    """The id `value` names: an id as it is, else the one record whose name or email matches."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    number = _ID.fullmatch(text)
    if number:
        return int(number[1])
    elsewhere = off_the_api(text, noun)
    if elsewhere is not None:
        return elsewhere
    if text.casefold().strip(" .!*") in EVERYONE:
        if change:
            return Unresolved(
                f"Error: one {noun} per change; nothing was queued. The user has been told.",
                one_at_a_time(noun),
            )
        return Unresolved(f"Error: `{noun}` names one {noun}; to read them all, list them.")
    try:
        matches = finder.matches(text)
    except (HRError, RequestRefused) as e:
        return Unresolved(f"Error: the HR API could not be searched ({e}); nothing was run.")
    if len(matches) == 1 and isinstance(matches[0].get("id"), int):
        return int(matches[0]["id"])
    if not change:  # a read: the model sees the candidates, or that there are none
        return Unresolved(finder.find(text))
    if not matches:
        answer = f"No {noun} matches “{text}”, so nothing was queued."
        return Unresolved(f"Error: {answer} The user has been told.", answer)
    named = "; ".join(_label(m) for m in matches[:MAX_NAMED])
    more = f" (the first {MAX_NAMED} of {len(matches)})" if len(matches) > MAX_NAMED else ""
    answer = (
        f"{len(matches)} {noun}s match “{text}”{more}: {named}. Which one do you mean? "
        "Nothing was queued."
    )
    candidates = json.dumps(matches[:MAX_NAMED], ensure_ascii=False, separators=(",", ":"))
    return Unresolved(
        f"Error: several match; nothing was queued. The user was asked which one: {candidates}",
        answer,
    )


def off_the_api(text: str, noun: str) -> Unresolved | None:
    """A web address where a record should be named: whatever was asked of it, the bot itself
    says what it can reach."""
    if not WEB_ADDRESS.search(text.strip()):
        return None
    return Unresolved(
        f"Error: a web address names no {noun}, and no tool reaches anything but the HR API; "
        "nothing was run. The user has been told.",
        f"I can only reach the HR API's {noun} records, not web addresses such as {text.strip()}, "
        "so I did not try.",
    )


def one_at_a_time(noun: str) -> str:
    """The requester's answer to a change to several records at once, or to all of them."""
    return (
        f"I change one {noun} at a time, never everyone at once, so nothing was queued: ask "
        f"for each change on its own, naming the {noun}."
    )


def _label(record: dict[str, Any]) -> str:
    """ "George Bluth (#1, chief executive)": what tells two people of one name apart."""
    details = [f"#{record.get('id')}"]
    details += [str(record[k]) for k in ("job", "email") if record.get(k)][:1]
    return f"{record.get('name') or 'unnamed'} ({', '.join(details)})"
