"""A change in the words an HR rep uses: the record named as people know it ("Janet Weaver (#2),
payroll specialist") and how an action ended as one sentence ("Done: Janet Weaver's job is now
Head of People. Approved by @Bob."). Each sentence is a list of parts, shown as Block Kit rich
text (values as literal text: no mrkdwn, link or mention can come of them) or as escaped plain
text for a notification. The HR API's status codes stay in the audit and on the approvers' card."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from approvals.records import PendingAction, record_id
from approvals.slack import blocks as kit
from approvals.slack.values import visible

NAME_LIMIT = 80
VALUE_LIMIT = 120
FIELDS_TOLD = 3  # an outcome names this many changed fields, then "and N more"
# The fields that say what someone does, the first one a record has naming it in "Janet Weaver
# (#2), payroll specialist": named, never picked by position, so no other field (an address, a
# salary) reaches a notice, a notification or App Home.
DESCRIBING = ("job", "job_title", "title", "role", "position", "department")
_PLAIN_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})>")
# How the executor begins a reason of the bot's own (an HR account no longer connected, say),
# worded for the requester; any other error (a transport's, with hosts in it) is not shown.
NOT_SENT = "not sent: "


@dataclass(frozen=True)
class Value:
    """A value from the request or the HR record: shown literally, never as markup."""

    text: str


@dataclass(frozen=True)
class Person:
    """A Slack user, shown as a mention."""

    user: str


Part = str | Value | Person


def _text(value: Any, limit: int = VALUE_LIMIT) -> str:
    return visible(value, limit)


def _name(action: PendingAction) -> str | None:
    fields = (action.body or {}) if action.method == "POST" else (action.fields_before or {})
    name = fields.get("name")
    return name if isinstance(name, str) and name.strip() else None


def _description(action: PendingAction) -> str | None:
    """What the record says the person does, as it was (their job): the first of DESCRIBING
    that it has, as text."""
    fields = (action.body or {}) if action.method == "POST" else (action.fields_before or {})
    for key in DESCRIBING:
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def record_number(action: PendingAction) -> str | None:
    """The record's id: from the path, or for a create the one the HR system gave it."""
    if action.method != "POST":
        return record_id(action.path) or None
    ident = action.hr_body.get("id") if isinstance(action.hr_body, dict) else None
    return str(ident) if isinstance(ident, int | str) and _PLAIN_ID.fullmatch(str(ident)) else None


def label_parts(action: PendingAction) -> list[Part] | None:
    """ "Janet Weaver (#2), payroll specialist": the name, the id beside it, what they do; None
    when the record's name is not known (the card then names the record by its id alone)."""
    name = _name(action)
    if name is None:
        return None
    parts: list[Part] = [Value(_text(name, NAME_LIMIT))]
    number = record_number(action)
    if number:
        parts.append(f" (#{number})")
    described = _description(action)
    if described:
        parts += [", ", Value(_text(described))]
    return parts


def label(action: PendingAction) -> str | None:
    """The record as people know it, as plain text (for plain-text fields and summaries)."""
    parts = label_parts(action)
    return plain(parts) if parts is not None else None


def _whose(action: PendingAction) -> list[Part]:
    """ "Janet Weaver's", or "employee #2's" when the name is not known."""
    name = _name(action)
    if name is not None:
        return [Value(_text(name, NAME_LIMIT)), "'s"]
    number = record_number(action)
    noun = action.noun or "record"
    return [f"{noun} #{number}'s" if number else f"the {noun}'s"]


def _changes(action: PendingAction) -> list[Part]:
    """ "job is now Head of People and email is now j@example.com" (", and 2 more")."""
    body = list((action.body or {}).items())
    told, rest = body[:FIELDS_TOLD], len(body) - FIELDS_TOLD
    parts: list[Part] = []
    for count, (field, value) in enumerate(told):
        if count:
            parts.append(" and " if count == len(told) - 1 and rest <= 0 else ", ")
        shown = "(empty)" if value in (None, "") else _text(value)
        parts += [Value(_text(field, 40)), " is now ", Value(shown)]
    if rest > 0:
        parts.append(f", and {rest} more")
    return parts


def _mentions(text: str) -> list[Part]:
    """The bot's own sentence, its <@U…> mentions as people."""
    parts: list[Part] = []
    for index, piece in enumerate(_MENTION.split(_text(text, 300))):
        if piece:
            parts.append(Person(piece) if index % 2 else piece)
    return parts


def _people(users: tuple[str, ...] | list[str]) -> list[Part]:
    parts: list[Part] = []
    for count, user in enumerate(users):
        if count:
            parts.append(", " if count < len(users) - 1 else " and ")
        parts.append(Person(user))
    return parts


def _approved(action: PendingAction) -> list[Part]:
    by = list(action.approved_by) or ([action.decided_by] if action.decided_by else [])
    return [" Approved by ", *_people(by), "."] if by else []


def _done(action: PendingAction) -> list[Part]:
    noun = action.noun or "record"
    if action.method == "POST":
        name = _name(action)
        number = record_number(action)
        numbered = f" (#{number})." if number else "."
        if name is None:
            return [f"A new {noun} was added{numbered}"]
        return [Value(_text(name, NAME_LIMIT)), f" was added as a new {noun}{numbered}"]
    if action.method == "DELETE":
        named = label_parts(action)
        if named is None:
            number = record_number(action)
            return [f"deleted {noun} #{number}." if number else f"deleted the {noun}."]
        return [f"deleted the {noun} record of ", *named, "."]
    if not action.body:
        return ["the change was made."]
    return [*_whose(action), " ", *_changes(action), "."]


def outcome_parts(action: PendingAction) -> list[Part]:
    """How the action stands, as a sentence an HR rep would say."""
    match action.status:
        case "succeeded":
            return ["Done: ", *_done(action), *_approved(action)]
        case "failed" if action.hr_status is not None and action.hr_status >= 500:
            return [
                "Not done: the HR system reported an error and did not confirm the change.",
                *_approved(action),
            ]
        case "failed" if action.hr_status is not None:
            return ["Not done: the HR system refused the change.", *_approved(action)]
        case "failed" if (action.error or "").startswith(NOT_SENT):  # the bot's own reason
            return ["Not done: ", *_mentions(action.error[len(NOT_SENT) :]), *_approved(action)]
        case "failed":  # why (a host, an exception) is the approvers' card's and the audit's
            return [
                "Not done: the change could not be sent to the HR system; the approvers' card "
                "says why.",
                *_approved(action),
            ]
        case "unknown":
            return [
                "Outcome unknown: the HR system may or may not have made the change. Check ",
                *_whose(action),
                " record there; it will not be tried again.",
                *_approved(action),
            ]
        case "rejected":
            by = [" by ", Person(action.decided_by)] if action.decided_by else []
            reason = [" Reason: ", Value(_text(action.reason, 500))] if action.reason else []
            return ["Not done: rejected", *by, ".", *reason]
        case "expired":
            return ["Not done: no approver decided it in time, so it expired."]
        case "withdrawn":
            by = [" by ", Person(action.decided_by)] if action.decided_by else []
            return ["Not done: withdrawn", *by, "."]
        case "stale":
            why = action.error or "the record changed after the request was made"  # the bot's
            return [f"Not done: {_text(why, 200)}. Ask again if it is still wanted."]
        case "approved" | "executing":
            by = list(action.approved_by)
            return [
                "Approved",
                *([" by ", *_people(by)] if by else []),
                "; the change is being made.",
            ]
        case "pending":
            return ["Waiting for approval."]
    return [Value(action.status)]


def finished(action: PendingAction) -> list[Part]:
    """The requester's one outcome message: the sentence, then the action's number."""
    return [*outcome_parts(action), f" (Action #{action.id})"]


# --- showing parts ---------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: with &, < and > escaped no mention or link can be formed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(value: Any, limit: int = 80) -> str:
    """A value inside mrkdwn: an inline code span, where Slack applies no formatting, with &, <
    and > escaped and a backtick (which would end the span) spelled <U+0060>."""
    return "`" + escape(visible(value, limit).replace("`", "<U+0060>")) + "`"


def plain(parts: list[Part]) -> str:
    """As plain text: values as they are, people by id (for plain_text fields and the model)."""
    return "".join(
        p.text if isinstance(p, Value) else f"@{p.user}" if isinstance(p, Person) else p
        for p in parts
    )


def mrkdwn(parts: list[Part]) -> str:
    """As a message's notification text: each value in a code span (no formatting, link or
    mention can come of it), people as mentions."""
    shown = []
    for part in parts:
        if isinstance(part, Person):
            shown.append(f"<@{part.user}>")
        else:
            shown.append(code(part.text, 500) if isinstance(part, Value) else escape(part))
    return "".join(shown)


def rich(parts: list[Part], **style: bool) -> list[dict[str, Any]]:
    """As rich-text elements: Slack shows each value literally."""
    elements = []
    for part in parts:
        if isinstance(part, Person):
            elements.append({"type": "user", "user_id": part.user})
        else:
            elements.append(kit.text(part.text if isinstance(part, Value) else part, **style))
    return elements
