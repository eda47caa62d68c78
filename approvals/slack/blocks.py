"""Block Kit's smallest parts for approvals (plain text, buttons), shared by cards, modals and
App Home, so an Approve button asks the same question wherever it is."""

from __future__ import annotations

from typing import Any


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _button(action_id: str, text: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": _plain(text), "value": value, **extra}


def _approve_button(action_id: str, token: str, method: str, confirm: str) -> dict[str, Any]:
    """Approve, in green; approving a DELETE asks for confirmation first."""
    approve = _button(action_id, "Approve", token, style="primary")
    if method == "DELETE":
        approve["confirm"] = {
            "title": _plain("Delete for real?"),
            "text": _plain(confirm),
            "confirm": _plain("Approve delete"),
            "deny": _plain("Cancel"),
            "style": "danger",
        }
    return approve
