"""The card as a channel shows it (pure Block Kit, like approvals.slack.cards). A channel is read by
people who are not approvers, so its card says who asked and what kind of change, never the
personal data: the values, the record, the quoted words and a reject reason stay out. The full
record opens in a modal that only approvers can open (approvals.slack.details checks who)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from approvals.records import PendingAction
from approvals.slack import blocks as kit
from approvals.slack.cards import (
    REJECT_ACTION_ID,
    approvals_line,
    approve_button,
    escape,
    outcome,
    render_card,
    title,
    verb,
    when,
)
from approvals.slack.values import visible

DETAILS_ACTION_ID = "approval_details"
TITLE_LIMIT = 24  # Slack's limit on a modal's title


def kind_of_change(action: PendingAction) -> str:
    """ "Update employee (fields: job)": the verb, the record's noun and the field names; no
    value and no record id."""
    words = f"{verb(action)} {action.noun or 'record'}"
    names = [visible(k, 40) for k in (action.body or {})]
    return words + (f" (fields: {', '.join(names)})" if names else "")


def _ending(action: PendingAction) -> str:
    """The outcome without free text or the HR API's answer, either of which can be personal."""
    return outcome(dataclasses.replace(action, reason=None, error=None, hr_body=None))


def summary_card(
    action: PendingAction,
    *,
    approve_token: str | None = None,
    reject_token: str | None = None,
    more_buttons: Sequence[dict[str, Any]] = (),
    conversation_link: str | None = None,
) -> list[dict[str, Any]]:
    """Who asked and what kind of change, the deadline and the votes; Show details, and while
    pending Approve and Reject (then `more_buttons`)."""
    asked = [
        {"type": "user", "user_id": action.requester},
        kit.text(" asks to "),
        kit.text(kind_of_change(action).lower(), bold=True),
    ]
    if action.edited_by:
        asked.append(kit.text(", edited by "))
        asked += [{"type": "user", "user_id": u} for u in action.edited_by]
    if conversation_link:
        asked += [
            kit.text(" in a "),
            {"type": "link", "url": conversation_link, "text": "conversation"},
        ]
    facts = {
        "Expires": when(action.expires_at),
        "Approvals": approvals_line(action),
        "Action": f"#{action.id}",
    }
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": kit.plain(title(action))},
        kit.rich_text(*asked),
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "The record and the values are not shown in this channel: "
                    "*Show details* opens them, for approvers only.",
                }
            ],
        },
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in facts.items()],
        },
    ]
    details = kit.button(DETAILS_ACTION_ID, "Show details", str(action.id))
    if not (approve_token and reject_token and action.status == "pending"):
        return [
            *blocks,
            kit.section(_ending(action)),
            {"type": "actions", "block_id": f"details-{action.id}", "elements": [details]},
        ]
    noun = action.noun or "record"
    approve = approve_button(action, approve_token, f"This deletes a {noun}; see Show details.")
    reject = kit.button(REJECT_ACTION_ID, "Reject", reject_token, style="danger")
    buttons = [details, approve, reject, *more_buttons]
    return [*blocks, {"type": "actions", "block_id": f"approval-{action.id}", "elements": buttons}]


def card_text(action: PendingAction) -> str:
    """The notification text of a channel's card: kind of change only."""
    return f"{title(action)}: {visible(kind_of_change(action), 200)}"


def reminder(action: PendingAction) -> str:
    """The reminder under a channel's card: kind of change only."""
    return (
        f"Reminder: action #{action.id} ({escape(visible(kind_of_change(action), 200))}) is "
        f"still waiting for approval ({approvals_line(action)}) and expires "
        f"{when(action.expires_at)}."
    )


def details_modal(
    action: PendingAction,
    *,
    approve_token: str | None = None,
    reject_token: str | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """The full card in a modal, what only approvers may see: whose record and what changes;
    with tokens, Approve and Reject (the card's, with the same confirmation), else where it
    stands. `channel`, the card's, rides in private_metadata for what a click there says."""
    blocks = render_card(action, approve_token=approve_token, reject_token=reject_token)
    return {
        "type": "modal",
        "title": kit.plain(f"Action #{action.id}"[:TITLE_LIMIT]),
        "close": kit.plain("Close"),
        "private_metadata": json.dumps({"channel": channel}),
        "blocks": blocks[1:],  # the header repeats the title
    }
