"""Block Kit for approvals, built only from stored actions: pure functions that return dicts.
A value (from the request or the HR record) is shown as rich text, plain text or inline code,
never as mrkdwn, and made visible by approvals.slack.values."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from approvals.records import PendingAction, record_id
from approvals.slack import blocks as kit
from approvals.slack import words
from approvals.slack.preview import preview
from approvals.slack.values import json_escaped, readable_json, visible
from approvals.slack.words import code, escape

APPROVE_ACTION_ID = "approval_approve"
REJECT_ACTION_ID = "approval_reject"
WITHDRAW_ACTION_ID = "approval_withdraw"
MAX_REASON = 500
SUMMARY_LIMIT = 200  # fits the card, the notification text and the 300-character confirm dialog
CODE_LIMIT = 2600  # leaves room for the fences and the truncation note inside one section
QUOTE_LIMIT = 900  # per message; three fit a card with room to spare
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
VERBS = {"POST": "Create", "PUT": "Update", "PATCH": "Update", "DELETE": "Delete"}


def verb(action: PendingAction) -> str:
    """What the action does: its own verb ("Approve" a time-off request), else its method's."""
    return action.verb or VERBS.get(action.method, action.method)


HR_DECISION = (
    "This is the HR system's own decision: approving here makes it there, once. Nobody approves "
    "it again inside the HR system, and nothing is decided until someone clicks."
)


def when(epoch: float) -> str:
    """A timestamp Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def summary_with(action: PendingAction, value: Callable[[Any], str]) -> str:
    """What will happen, each value as `value` shows it (for text escaped later); the record
    as people know it when its name was read ("Janet Weaver (#2), payroll specialist")."""
    target = record_id(action.path)
    body = dict(action.body or {})
    name = body.pop("name", None)
    said = [verb(action), action.noun or "record"]
    named = words.label_parts(action) if action.method != "POST" else None
    if named is not None:
        said.append("".join(value(p.text) if isinstance(p, words.Value) else str(p) for p in named))
    elif target:
        said.append(target)
    if name:
        said.append(value(name) if action.method == "POST" else f"(name → {value(name)})")
    text = " ".join(said)
    if body:
        keys = {k: k if k.isascii() and k.isalnum() else value(k) for k in body}
        text += " — " + ", ".join(f"{keys[k]}: {value(v)}" for k, v in body.items())
    return text


def summary(action: PendingAction) -> str:
    """What will happen, in plain words: "Create employee Neo Anderson — job: engineer"; plain
    text (values on one line, nothing hidden) clipped to SUMMARY_LIMIT."""
    return visible(summary_with(action, lambda v: visible(v, 80)), SUMMARY_LIMIT)


def short_summary(action: PendingAction) -> str:
    """The summary as mrkdwn (messages, notifications), each value in inline code; clipped to
    SUMMARY_LIMIT without leaving half an entity such as "&am" or an open code span."""
    text = summary_with(action, code)
    if len(text) > SUMMARY_LIMIT:
        text = re.sub(r"&[a-z]*$", "", text[: SUMMARY_LIMIT - 2])
        text += "`…" if text.count("`") % 2 else "…"
    return text


def request_block_text(action: PendingAction) -> str:
    """The exact request in a code block; hidden characters and backticks as \\u escapes, and an
    email address that is not plain ASCII as ascii_email spells it (punycode domain)."""
    request = f"{action.method} {json_escaped(action.path)}"
    if action.body is not None:
        request += "\n" + readable_json(action.body)
    request = escape(request)
    if len(request) > CODE_LIMIT:
        request = request[:CODE_LIMIT] + f"\n… ({len(request) - CODE_LIMIT} more characters)"
    return f"```{request}```"


def hr_result(action: PendingAction) -> str:
    """ "HR API answered 201 (id 21)": the id when the answer names a plain one at its top."""
    ident = action.hr_body.get("id") if isinstance(action.hr_body, dict) else None
    # Letters, digits and "-" only: no "_" or "*" that mrkdwn would read as formatting.
    plain_id = isinstance(ident, int | str) and re.fullmatch(r"[A-Za-z0-9-]{1,64}", str(ident))
    return f"HR API answered {action.hr_status}" + (f" (id {ident})" if plain_id else "")


def approvals_line(action: PendingAction) -> str:
    """ "1 of 2 approvals (<@U0BOB>)"."""
    names = ", ".join(f"<@{user}>" for user in action.approved_by)
    text = f"{len(action.approved_by)} of {action.approvals_required} approvals"
    return f"{text} ({names})" if names else text


def outcome(action: PendingAction) -> str:
    """The decision and result, for cards and the requester's thread."""
    if action.approved_by and action.status not in ("rejected", "withdrawn"):
        by = " and ".join(f"<@{user}>" for user in action.approved_by)
    else:
        by = f"<@{action.decided_by}>" if action.decided_by else "someone"
    at = when(action.decided_at) if action.decided_at else ""
    match action.status:
        case "pending":
            return (
                f"Waiting for approval: {approvals_line(action)}, expires {when(action.expires_at)}"
            )
        case "approved" | "executing":
            return f":hourglass_flowing_sand: Approved by {by} at {at} — running"
        case "succeeded":
            return f":white_check_mark: Approved by {by} at {at} — {hr_result(action)}"
        case "failed" if action.hr_status is not None:
            return f":x: Approved by {by} at {at} — failed: {hr_result(action)}"
        case "failed":
            return f":x: Approved by {by} at {at} — failed: {escape(action.error or 'not sent')}"
        case "unknown":
            return (
                f":warning: Approved by {by} at {at} — outcome unknown: the request may or may "
                "not have reached the HR system. Check it there; it will not be retried."
            )
        case "rejected":
            reason = f": {code(action.reason, MAX_REASON)}" if action.reason else ""
            return f":no_entry_sign: Rejected by {by} at {at}{reason}"
        case "expired":
            return ":hourglass: Expired, not run"
        case "withdrawn":
            return f":leftwards_arrow_with_hook: Withdrawn by {by}, not run"
        case "stale":
            why = action.error or "the record changed after the card was made"
            return f":warning: Not run: {escape(why)}"
    return escape(action.status)


def approve_button(action: PendingAction, token: str, confirm: str | None = None) -> dict[str, Any]:
    """Approve; for a DELETE it asks first, saying `confirm` (by default what will run)."""
    return kit.approve(
        APPROVE_ACTION_ID, token, action.method, confirm or f"This runs: {summary(action)}"
    )


def quoted(action: PendingAction) -> list[dict[str, Any]]:
    """The messages that led to the action, verbatim, each under its verified speaker: rich
    text, so nothing in them is read as mrkdwn, a mention or a link; hidden characters shown
    as <U+…>, lines kept. No block when none were kept (or retention has dropped them)."""
    elements: list[dict[str, Any]] = []
    for speaker, text in action.words:
        lines = [visible(line) for line in text.split("\n")]
        shown = "\n".join(lines)
        if len(shown) > QUOTE_LIMIT:
            shown = shown[:QUOTE_LIMIT] + f"… ({len(shown) - QUOTE_LIMIT} more characters)"
        said = "asked" if speaker == action.requester else "said"
        who = {"type": "user", "user_id": speaker} if _USER.match(speaker) else kit.text(speaker)
        elements += [
            {"type": "rich_text_section", "elements": [who, kit.text(f" {said}:", italic=True)]},
            {"type": "rich_text_quote", "elements": [kit.text(shown)]},
        ]
    if action.edited_by:  # the words asked for one thing, the card shows another
        editors = [{"type": "user", "user_id": u} for u in action.edited_by if _USER.match(u)]
        note = kit.text(
            " edited the request after this; the changes below are theirs.", italic=True
        )
        elements.append({"type": "rich_text_section", "elements": [*editors, note]})
    return [{"type": "rich_text", "elements": elements}] if elements else []


def render_card(
    action: PendingAction,
    *,
    approve_token: str | None = None,
    reject_token: str | None = None,
    conversation_link: str | None = None,
    more_buttons: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The approvers' card. With tokens it has Approve and Reject (then `more_buttons`: Edit,
    Reassign); without, the outcome."""
    link = f"<{conversation_link}|conversation>" if conversation_link else "conversation"
    facts = {
        "Requested by": f"<@{action.requester}> in a {link}",
        "Expires": when(action.expires_at),
        "Approvals": approvals_line(action),
        "Action": f"#{action.id}",
    }
    if action.manager and action.manager.get("name"):  # escaped: it comes from the HR data
        # Who decides: this manager, unless they asked for it or have no Slack account here.
        facts["Manager (HR data)"] = escape(visible(action.manager["name"], 80))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": kit.plain(title(action))},
        kit.rich_text(kit.text(summary(action), bold=True)),
        *([kit.rich_text(kit.text(HR_DECISION, italic=True))] if action.hr_decision else []),
        *quoted(action),
        *preview(action),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in facts.items()],
        },
        kit.section(request_block_text(action)),
    ]
    if not (approve_token and reject_token and action.status == "pending"):
        return [*blocks, kit.section(outcome(action))]
    approve = approve_button(action, approve_token)
    reject = kit.button(REJECT_ACTION_ID, "Reject", reject_token, style="danger")
    buttons = {
        "type": "actions",
        "block_id": f"approval-{action.id}",
        "elements": [approve, reject, *more_buttons],
    }
    return [*blocks, buttons]


def card_text(action: PendingAction) -> str:
    """Notification and screen-reader fallback for the card."""
    return f"{title(action)}: {short_summary(action)}"


def title(action: PendingAction) -> str:
    """A card's header: "Approval needed: action #1" while it waits, then how it stands."""
    if action.status == "pending":
        return f"Approval needed: action #{action.id}"
    return f"Action #{action.id}: {ENDED.get(action.status, action.status)}"


def requester_notice(action: PendingAction, card_link: str | None) -> str:
    """The notice's notification text: what was sent for approval (values in code spans)."""
    where = f" — <{card_link}|view the card>" if card_link else ""
    return f"Sent for approval (#{action.id}): {short_summary(action)}{where}"


def requester_blocks(
    action: PendingAction,
    card_link: str | None,
    withdraw_token: str | None,
    outcome_told: bool = False,
) -> list[dict[str, Any]]:
    """The requester's notice, as rich text (each value shown literally): what was sent for
    approval and whose record it is; while pending, where it stands and a Withdraw button (the
    requester's only). Once decided the outcome has a message of its own under it
    (`outcome_told`); until that is posted, the notice says it."""
    sent: list[dict[str, Any]] = [
        kit.text(f"Sent for approval (#{action.id}): "),
        kit.text(summary(action), bold=True),
    ]
    if card_link:
        sent += [kit.text(" — "), {"type": "link", "url": card_link, "text": "view the card"}]
    blocks = [{"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": sent}]}]
    if action.status == "pending":
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": outcome(action)}]}
        )
        if withdraw_token:
            withdraw = kit.button(WITHDRAW_ACTION_ID, "Withdraw", withdraw_token)
            blocks.append(
                {"type": "actions", "block_id": f"withdraw-{action.id}", "elements": [withdraw]}
            )
    elif not (action.is_terminal and outcome_told):
        blocks.append(kit.rich_text(*words.rich(words.outcome_parts(action))))
    return blocks


def reminder(action: PendingAction) -> str:
    return (
        f"Reminder: action #{action.id} ({short_summary(action)}) is still waiting for approval "
        f"({approvals_line(action)}) and expires {when(action.expires_at)}."
    )


def requester_outcome(action: PendingAction) -> str:
    """The requester's one outcome message in plain words, as its notification text (values
    in code spans)."""
    return words.mrkdwn(words.finished(action))


def requester_outcome_blocks(action: PendingAction) -> list[dict[str, Any]]:
    """The same as rich text: names and values shown as they are, literally."""
    return [kit.rich_text(*words.rich(words.finished(action)))]


# What each end is called in a message rewritten once its action's personal data is purged.
ENDED = {
    "approved": "approved, running",
    "executing": "approved, running",
    "stale": "not run",
    "succeeded": "done",
    "failed": "failed",
    "unknown": "outcome unknown",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
    "expired": "expired",
}


def purged(action: PendingAction) -> str:
    """A message about an action whose personal data retention purged: its number, the kind
    of change and how it ended, nothing of whom it was about or what it said."""
    ended = ENDED.get(action.status, action.status)
    by = f" by <@{action.decided_by}>" if action.decided_by else ""
    return (
        f"Action #{action.id}: {verb(action)} {action.noun or 'record'}, {ended}{by}. Its details "
        "were removed under the retention policy."
    )
