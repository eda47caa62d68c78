"""Block Kit for the approvals' modals (pure functions, like approvals.cards): the reason a
Reject asks for."""

from __future__ import annotations

from typing import Any

from approvals.cards import MAX_REASON, _plain, _rich_text, _text, summary
from approvals.records import PendingAction

REJECT_MODAL_ID = "approval_reject_reason"
REASON_BLOCK_ID = "reason"
REASON_INPUT_ID = "reason_input"


def reject_modal(action: PendingAction, private_metadata: str) -> dict[str, Any]:
    """The modal Reject opens: an optional reason, carried back with the signed button value."""
    reason = {"type": "plain_text_input", "action_id": REASON_INPUT_ID, "multiline": True}
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL_ID,
        "private_metadata": private_metadata,
        "title": _plain(f"Reject action #{action.id}"),
        "submit": _plain("Reject"),
        "close": _plain("Cancel"),
        "blocks": [
            _rich_text(_text(summary(action), bold=True)),
            {
                "type": "input",
                "block_id": REASON_BLOCK_ID,
                "optional": True,
                "label": _plain("Reason (shown to the requester)"),
                "element": {**reason, "max_length": MAX_REASON},
            },
        ],
    }
