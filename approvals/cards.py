"""Block Kit for approvals, built only from stored actions: pure functions that return dicts."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from approvals.records import PendingAction

APPROVE_ACTION_ID = "approval_approve"
REJECT_ACTION_ID = "approval_reject"
WITHDRAW_ACTION_ID = "approval_withdraw"
REJECT_MODAL_ID = "approval_reject_reason"
REASON_BLOCK_ID = "reason"
REASON_INPUT_ID = "reason_input"
MAX_REASON = 500
SECTION_LIMIT = 3000
SUMMARY_LIMIT = 200  # fits the card, the notification text and the 300-character confirm dialog
CODE_LIMIT = 2600  # leaves room for the fences and the truncation note inside one section
_VERBS = {"POST": "Create", "PUT": "Update", "PATCH": "Update", "DELETE": "Delete"}


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: with &, < and > escaped no mention or link can be formed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def when(epoch: float) -> str:
    """A timestamp Slack shows in each reader's own time zone, with a UTC fallback."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{{date_short_pretty}} at {{time}}|{fallback}>"


def summary(action: PendingAction) -> str:
    """What will happen, in plain words: "Create employee Neo Anderson — job: engineer"."""
    segments = [s for s in action.path.split("?")[0].split("/") if s]
    noun = action.noun or "record"
    target = segments[-1] if segments and segments[-1].isdigit() else ""
    body = dict(action.body or {})
    name = body.pop("name", None)
    words = [_VERBS.get(action.method, action.method), noun]
    if target:
        words.append(target)
    if name:
        words.append(str(name) if action.method == "POST" else f"(name → {name})")
    text = " ".join(words)
    if body:
        text += " — " + ", ".join(f"{k}: {v}" for k, v in body.items())
    return text


def short_summary(action: PendingAction) -> str:
    """The summary escaped for mrkdwn and clipped to SUMMARY_LIMIT (the code block on the card
    shows the whole request); clipping never leaves half an entity such as "&am"."""
    text = escape(summary(action))
    if len(text) > SUMMARY_LIMIT:
        text = re.sub(r"&[a-z]*$", "", text[: SUMMARY_LIMIT - 1]) + "…"
    return text


def request_block_text(action: PendingAction) -> str:
    request = f"{action.method} {action.path}"
    if action.body is not None:
        request += "\n" + json.dumps(action.body, indent=2, ensure_ascii=False)
    request = escape(request).replace("```", "`\u200b``")
    if len(request) > CODE_LIMIT:
        request = request[:CODE_LIMIT] + f"\n… ({len(request) - CODE_LIMIT} more characters)"
    return f"```{request}```"


def hr_result(action: PendingAction) -> str:
    """ "HR API answered 201 (id 21)": the id when the answer names one at its top level."""
    text = f"HR API answered {action.hr_status}"
    record = action.hr_body
    if isinstance(record, dict) and isinstance(record.get("id"), int | str):
        text += f" (id {escape(str(record['id']))})"
    return text


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
            reason = f": {escape(action.reason)}" if action.reason else ""
            return f":no_entry_sign: Rejected by {by} at {at}{reason}"
        case "expired":
            return ":hourglass: Expired, not run"
        case "withdrawn":
            return f":leftwards_arrow_with_hook: Withdrawn by {by}, not run"
        case "stale":
            why = action.error or "the record changed after the card was made"
            return f":warning: Not run: {escape(why)}"
    return escape(action.status)


PREVIEW_VALUE_LIMIT = 200


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = escape(text)
    return text if len(text) <= PREVIEW_VALUE_LIMIT else text[: PREVIEW_VALUE_LIMIT - 1] + "…"


def preview(action: PendingAction) -> str | None:
    """What will change, field by field: new fields (POST), before → after (PUT, PATCH), or
    the record that goes (DELETE). Built from the stored request and the stored snapshot."""
    before = action.before if isinstance(action.before, dict) else None
    current = action.fields_before if action.fields_before is not None else before
    if action.method == "POST" and action.body:
        lines = [f"*{_value(k)}*: {_value(v)}" for k, v in action.body.items()]
        return "*New record*\n" + "\n".join(lines)
    if action.method in ("PUT", "PATCH") and action.body and current is not None:
        lines = []
        for field, new in action.body.items():
            old = current.get(field)
            if old == new:
                lines.append(f"*{_value(field)}*: {_value(new)} (unchanged)")
            else:
                old_text = "(empty)" if old in (None, "") else f"~{_value(old)}~"
                lines.append(f"*{_value(field)}*: {old_text} → {_value(new)}")
        return "*Changes*\n" + "\n".join(lines)
    if action.method == "DELETE" and before is not None:
        shown = {k: v for k, v in before.items() if k != "avatar"}
        lines = [f"*{_value(k)}*: {_value(v)}" for k, v in list(shown.items())[:10]]
        return "*Record to delete*\n" + "\n".join(lines)
    return None


def render_card(
    action: PendingAction,
    *,
    approve_token: str | None = None,
    reject_token: str | None = None,
    conversation_link: str | None = None,
) -> list[dict[str, Any]]:
    """The approvers' card. With tokens it has Approve and Reject buttons; without, the outcome."""
    link = f"<{conversation_link}|conversation>" if conversation_link else "conversation"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Approval needed: action #{action.id}"},
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{short_summary(action)}*"},
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Requested by*\n<@{action.requester}> in a {link}"},
                {"type": "mrkdwn", "text": f"*Expires*\n{when(action.expires_at)}"},
                {"type": "mrkdwn", "text": f"*Approvals*\n{approvals_line(action)}"},
                {"type": "mrkdwn", "text": f"*Action*\n#{action.id}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": request_block_text(action)}},
    ]
    shown = preview(action)
    if shown:
        text = shown if len(shown) <= SECTION_LIMIT else shown[: SECTION_LIMIT - 1] + "…"
        blocks.insert(2, {"type": "section", "text": {"type": "mrkdwn", "text": text}})
    if approve_token and reject_token and action.status == "pending":
        approve: dict[str, Any] = {
            "type": "button",
            "action_id": APPROVE_ACTION_ID,
            "style": "primary",
            "text": {"type": "plain_text", "text": "Approve"},
            "value": approve_token,
        }
        if action.method == "DELETE":
            approve["confirm"] = {
                "title": {"type": "plain_text", "text": "Delete for real?"},
                "text": {"type": "mrkdwn", "text": f"This runs *{short_summary(action)}*."},
                "confirm": {"type": "plain_text", "text": "Approve delete"},
                "deny": {"type": "plain_text", "text": "Cancel"},
                "style": "danger",
            }
        blocks.append(
            {
                "type": "actions",
                "block_id": f"approval-{action.id}",
                "elements": [
                    approve,
                    {
                        "type": "button",
                        "action_id": REJECT_ACTION_ID,
                        "style": "danger",
                        "text": {"type": "plain_text", "text": "Reject"},
                        "value": reject_token,
                    },
                ],
            }
        )
    else:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": outcome(action)}})
    return blocks


def card_text(action: PendingAction) -> str:
    """Notification and screen-reader fallback for the card."""
    return f"Approval needed: action #{action.id}: {short_summary(action)}"


def requester_notice(action: PendingAction, card_link: str | None) -> str:
    where = f" — <{card_link}|view the card>" if card_link else ""
    return f"Sent for approval (#{action.id}): {short_summary(action)}{where}"


def requester_blocks(
    action: PendingAction, card_link: str | None, withdraw_token: str | None
) -> list[dict[str, Any]]:
    """The requester's notice; while pending it has a Withdraw button (the requester's only)."""
    text = requester_notice(action, card_link)
    if action.status != "pending" or not withdraw_token:
        text += f"\n{outcome(action)}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if action.status == "pending" and withdraw_token:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"withdraw-{action.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": WITHDRAW_ACTION_ID,
                        "text": {"type": "plain_text", "text": "Withdraw"},
                        "value": withdraw_token,
                    }
                ],
            }
        )
    return blocks


def reject_modal(action: PendingAction, private_metadata: str) -> dict[str, Any]:
    """The modal Reject opens: an optional reason, carried back with the signed button value."""
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL_ID,
        "private_metadata": private_metadata,
        "title": {"type": "plain_text", "text": f"Reject action #{action.id}"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{short_summary(action)}*"}},
            {
                "type": "input",
                "block_id": REASON_BLOCK_ID,
                "optional": True,
                "label": {"type": "plain_text", "text": "Reason (shown to the requester)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT_ID,
                    "multiline": True,
                    "max_length": MAX_REASON,
                },
            },
        ],
    }


def reminder(action: PendingAction) -> str:
    return (
        f"Reminder: action #{action.id} ({short_summary(action)}) is still waiting for approval "
        f"({approvals_line(action)}) and expires {when(action.expires_at)}."
    )


def requester_outcome(action: PendingAction) -> str:
    return f"Action #{action.id} ({short_summary(action)}): {outcome(action)}"
