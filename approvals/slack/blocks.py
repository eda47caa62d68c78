"""Block Kit's smallest parts for approvals (plain text, sections, rich text, buttons), shared by
cards, modals and App Home, so an Approve button asks the same question wherever it is."""

from __future__ import annotations

from typing import Any


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def button(action_id: str, text: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain(text), "value": value, **extra}


def approve(action_id: str, token: str, method: str, confirm: str) -> dict[str, Any]:
    """Approve, in green; approving a DELETE asks for confirmation first."""
    approve = button(action_id, "Approve", token, style="primary")
    if method == "DELETE":
        approve["confirm"] = {
            "title": plain("Delete for real?"),
            "text": plain(confirm),
            "confirm": plain("Approve delete"),
            "deny": plain("Cancel"),
            "style": "danger",
        }
    return approve


def section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def text(text: str, **style: bool) -> dict[str, Any]:
    """A rich-text run: Slack shows its text literally (no mrkdwn, links or mentions)."""
    return {"type": "text", "text": text, **({"style": style} if style else {})}


def rich_text(*elements: dict[str, Any]) -> dict[str, Any]:
    section = {"type": "rich_text_section", "elements": list(elements)}
    return {"type": "rich_text", "elements": [section]}
