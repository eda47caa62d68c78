"""Bolt listeners for approval buttons and the reject-reason modal: acknowledge at once, parse
the payload into a Click, and hand it to the click handler on its own pool."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import Ack, App

from approvals import cards, modals
from approvals.clicks import Click

log = structlog.get_logger(__name__)
BUTTONS = re.compile(
    rf"^({cards.APPROVE_ACTION_ID}|{cards.REJECT_ACTION_ID}|{cards.WITHDRAW_ACTION_ID})$"
)


def _team(body: dict[str, Any]) -> str | None:
    """The clicker's workspace: the payload's team, else the user's own team."""
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")


def click_from_button(body: dict[str, Any]) -> Click:
    """A block_actions payload as a Click; missing parts become empty values the checks refuse."""
    action = (body.get("actions") or [{}])[0]
    return Click(
        user=(body.get("user") or {}).get("id", ""),
        team=_team(body),
        action_id=str(action.get("action_id", "")),
        value=str(action.get("value", "")),
        channel=(body.get("channel") or {}).get("id")
        or (body.get("container") or {}).get("channel_id"),
        trigger_id=body.get("trigger_id"),
    )


def click_from_reject_modal(body: dict[str, Any], view: dict[str, Any]) -> Click:
    """The reject-reason modal's submission as a Reject click carrying the reason."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    values = (view.get("state") or {}).get("values") or {}
    reason = ((values.get(modals.REASON_BLOCK_ID) or {}).get(modals.REASON_INPUT_ID) or {}).get(
        "value"
    )
    return Click(
        user=(body.get("user") or {}).get("id", ""),
        team=_team(body),
        action_id=cards.REJECT_ACTION_ID,
        value=str(metadata.get("token", "")),
        channel=metadata.get("channel"),
        reason=reason if isinstance(reason, str) else None,
        submitted=True,
    )


def register(app: App, take: Callable[[Click], bool], handle_now: Callable[[Click], None]) -> None:
    """`take` queues the click for the click handler, off Bolt's acknowledging threads (deciding
    may call the HR API), so no click or event waits for another's decision. False: that
    person already has too many clicks waiting, and this one is dropped. A Reject that can open
    the reason modal goes to `handle_now` instead: Slack's trigger lives about 3 seconds, too
    short to wait behind the same person's earlier clicks."""

    def hand_over(click: Click) -> None:
        if not take(click):
            log.warning("click.dropped", user=click.user)

    @app.action(BUTTONS)
    def on_button(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        click = click_from_button(body)
        if click.action_id == cards.REJECT_ACTION_ID and click.trigger_id:
            handle_now(click)
        else:
            hand_over(click)

    @app.view(modals.REJECT_MODAL_ID)
    def on_reject_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()  # closes the modal; the outcome shows on the card and in the thread
        hand_over(click_from_reject_modal(body, view))
