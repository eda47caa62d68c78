"""Block Kit for the approvals' modals (pure functions, like approvals.slack.cards): the reason a
Reject asks for, the fields Edit offers, the colleague Reassign hands a request to; and the
buttons that open the last two."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from approvals.records import PendingAction
from approvals.slack import blocks as kit
from approvals.slack.cards import MAX_REASON, code, summary

REJECT_MODAL_ID = "approval_reject_reason"
REASON_BLOCK_ID = "reason"
REASON_INPUT_ID = "reason_input"
EDIT_ACTION_ID = "approval_edit"
REASSIGN_ACTION_ID = "approval_reassign"
EDIT_MODAL_ID = "approval_edit_fields"
REASSIGN_MODAL_ID = "approval_reassign_to"
FIELD_BLOCK_PREFIX = "field:"  # then the body field's name
FIELD_INPUT_ID = "field_input"
ASSIGNEE_BLOCK_ID = "assignee"
ASSIGNEE_INPUT_ID = "assignee_input"
INPUT_LIMIT = 3000  # Slack's longest plain_text_input


@dataclass(frozen=True)
class EditableField:
    """A body field as the Edit modal offers it; the endpoint catalogue says which there are."""

    name: str
    required: bool = False
    max_length: int | None = None
    description: str = ""


def reject_modal(action: PendingAction, private_metadata: str) -> dict[str, Any]:
    """The modal Reject opens: an optional reason, carried back with the signed button value."""
    reason = {"type": "plain_text_input", "action_id": REASON_INPUT_ID, "multiline": True}
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL_ID,
        "private_metadata": private_metadata,
        "title": kit.plain(f"Reject action #{action.id}"),
        "submit": kit.plain("Reject"),
        "close": kit.plain("Cancel"),
        "blocks": [
            kit.rich_text(kit.text(summary(action), bold=True)),
            {
                "type": "input",
                "block_id": REASON_BLOCK_ID,
                "optional": True,
                "label": kit.plain("Reason (shown to the requester)"),
                "element": {**reason, "max_length": MAX_REASON},
            },
        ],
    }


def revision_buttons(edit_token: str | None, reassign_token: str | None) -> list[dict[str, Any]]:
    """Edit (for a request with a body) and Reassign, next to Approve and Reject."""
    buttons = []
    if edit_token:
        buttons.append(kit.button(EDIT_ACTION_ID, "Edit", edit_token))
    if reassign_token:
        buttons.append(kit.button(REASSIGN_ACTION_ID, "Reassign", reassign_token))
    return buttons


def field_block_id(name: str) -> str:
    return FIELD_BLOCK_PREFIX + name


def as_typed(value: Any) -> str:
    """A body value as an editor types it: text as it is, anything else as JSON (true, 42)."""
    return value if isinstance(value, str) else json.dumps(value)


def edit_modal(
    action: PendingAction, fields: Sequence[EditableField], private_metadata: str
) -> dict[str, Any]:
    """One text input per body field, holding the value the request has now."""
    blocks: list[dict[str, Any]] = [
        kit.rich_text(kit.text(summary(action), bold=True)),
        {
            "type": "context",
            "elements": [kit.plain("After your edit another approver must approve the request.")],
        },
    ]
    for field in fields:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": FIELD_INPUT_ID}
        element["max_length"] = min(field.max_length or INPUT_LIMIT, INPUT_LIMIT)
        current = (action.body or {}).get(field.name)
        if current is not None:
            element["initial_value"] = as_typed(current)
        block = {
            "type": "input",
            "block_id": field_block_id(field.name),
            "optional": not field.required,
            "label": kit.plain(field.name),
            "element": element,
        }
        if field.description:
            block["hint"] = kit.plain(field.description)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": EDIT_MODAL_ID,
        "private_metadata": private_metadata,
        "title": kit.plain(f"Edit action #{action.id}"),
        "submit": kit.plain("Save"),
        "close": kit.plain("Cancel"),
        "blocks": blocks,
    }


def reassign_modal(action: PendingAction, private_metadata: str) -> dict[str, Any]:
    """Pick the colleague (an approver) who gets the card by DM."""
    choose = {
        "type": "users_select",
        "action_id": ASSIGNEE_INPUT_ID,
        "placeholder": kit.plain("Choose an approver"),
    }
    return {
        "type": "modal",
        "callback_id": REASSIGN_MODAL_ID,
        "private_metadata": private_metadata,
        "title": kit.plain(f"Reassign action #{action.id}"),
        "submit": kit.plain("Send"),
        "close": kit.plain("Cancel"),
        "blocks": [
            kit.rich_text(kit.text(summary(action), bold=True)),
            {
                "type": "input",
                "block_id": ASSIGNEE_BLOCK_ID,
                "label": kit.plain("Colleague who should decide it"),
                "element": choose,
            },
        ],
    }


def _field_value(value: Any) -> str:
    return "_(not set)_" if value is None else code(as_typed(value))


def edit_notice(action: PendingAction, editor: str, changes: Sequence[tuple[str, Any, Any]]) -> str:
    """For the requester's thread (mrkdwn): who edited, and each change as field: old → new,
    every value in inline code."""
    lines = [
        f"{name if name.isascii() and name.isidentifier() else code(name)}: "
        f"{_field_value(old)} → {_field_value(new)}"
        for name, old, new in changes
    ]
    return (
        f"<@{editor}> edited action #{action.id} while it waited for approval:\n"
        + "\n".join(f"• {line}" for line in lines)
        + "\nAnother approver must now approve the edited request."
    )
