"""Bolt listeners for approval buttons and the reject-reason modal: acknowledge at once, parse
the payload into a Click, and hand it to the click handler on its own pool. Edit and Reassign
(register_revisions) answer their modals' submissions in the acknowledgement."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import Ack, App

from approvals.slack import cards, channel_cards, modals
from approvals.slack.clicks import Click
from approvals.slack.details import Details
from approvals.slack.revisions import Revisions, Submitted

log = structlog.get_logger(__name__)
BUTTONS = re.compile(
    rf"^({cards.APPROVE_ACTION_ID}|{cards.REJECT_ACTION_ID}|{cards.WITHDRAW_ACTION_ID})$"
)
CHANNEL_ID = re.compile(r"[CDG][A-Z0-9]{2,30}")
REVISION_BUTTONS = re.compile(rf"^({modals.EDIT_ACTION_ID}|{modals.REASSIGN_ACTION_ID})$")


def _team(body: dict[str, Any]) -> str | None:
    """The clicker's workspace: the payload's team, else the user's own team."""
    return (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A view's private_metadata, which the bot wrote as a JSON object ({} when it is not)."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}


def _channel_id(value: Any) -> str | None:
    return value if isinstance(value, str) and CHANNEL_ID.fullmatch(value) else None


def click_from_button(body: dict[str, Any]) -> Click:
    """A block_actions payload as a Click; missing parts become empty values the checks refuse.
    A button in a modal (Show details) has no channel: the card's rides in the view's
    private_metadata, so a refusal shows where the card is, and the view is updated after."""
    action = (body.get("actions") or [{}])[0]
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    in_modal = view.get("type") == "modal" and isinstance(view.get("id"), str)
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    return Click(
        user=(body.get("user") or {}).get("id", ""),
        team=_team(body),
        action_id=str(action.get("action_id", "")),
        value=str(action.get("value", "")),
        channel=channel or (_channel_id(_metadata(view).get("channel")) if in_modal else None),
        trigger_id=body.get("trigger_id"),
        view_id=view["id"] if in_modal else None,
    )


def click_from_reject_modal(body: dict[str, Any], view: dict[str, Any]) -> Click:
    """The reject-reason modal's submission as a Reject click carrying the reason (and the
    Show details view it was opened from, if any, to update once decided)."""
    metadata = _metadata(view)
    opened_from = metadata.get("view")
    values = (view.get("state") or {}).get("values") or {}
    reason = ((values.get(modals.REASON_BLOCK_ID) or {}).get(modals.REASON_INPUT_ID) or {}).get(
        "value"
    )
    return Click(
        user=(body.get("user") or {}).get("id", ""),
        team=_team(body),
        action_id=cards.REJECT_ACTION_ID,
        value=str(metadata.get("token", "")),
        channel=_channel_id(metadata.get("channel")),
        reason=reason if isinstance(reason, str) else None,
        submitted=True,
        view_id=opened_from if isinstance(opened_from, str) else None,
    )


def register(
    app: App,
    take: Callable[[Click], bool],
    handle_now: Callable[[Click], None],
    *,
    revisions: Revisions | None = None,
    details: Details | None = None,
) -> None:
    """`take` queues the click for the click handler, off Bolt's acknowledging threads (deciding
    may call the HR API), so no click or event waits for another's decision. False: that
    person already has too many clicks waiting, and this one is dropped. A Reject that can open
    the reason modal goes to `handle_now` instead: Slack's trigger lives about 3 seconds, too
    short to wait behind the same person's earlier clicks. With `revisions`, Edit and Reassign
    too (register_revisions)."""
    if revisions is not None:
        register_revisions(app, revisions)
    if details is not None:

        @app.action(channel_cards.DETAILS_ACTION_ID)
        def on_details(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            details.open(click_from_button(body))  # at once: the modal needs the trigger

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


def _state(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    values = (view.get("state") or {}).get("values") or {}
    return (values.get(block_id) or {}).get(action_id) or {}


def click_from_modal(body: dict[str, Any], view: dict[str, Any], action_id: str) -> Click:
    """An Edit or Reassign modal's submission as the click of its button (the signed value
    and the card's channel ride in private_metadata)."""
    metadata = _metadata(view)
    return Click(
        user=(body.get("user") or {}).get("id", ""),
        team=_team(body),
        action_id=action_id,
        value=str(metadata.get("token", "")),
        channel=_channel_id(metadata.get("channel")),
        submitted=True,
    )


def typed_fields(view: dict[str, Any]) -> dict[str, str | None]:
    """The Edit modal's inputs in its order: body field → the text typed (None: left empty)."""
    typed = {}
    for block in view.get("blocks") or []:
        block_id = str(block.get("block_id") or "")
        if block.get("type") == "input" and block_id.startswith(modals.FIELD_BLOCK_PREFIX):
            value = _state(view, block_id, modals.FIELD_INPUT_ID).get("value")
            typed[block_id.removeprefix(modals.FIELD_BLOCK_PREFIX)] = (
                value if isinstance(value, str) else None
            )
    return typed


def chosen_user(view: dict[str, Any]) -> str | None:
    chosen = _state(view, modals.ASSIGNEE_BLOCK_ID, modals.ASSIGNEE_INPUT_ID).get("selected_user")
    return chosen if isinstance(chosen, str) else None


def register_revisions(app: App, revisions: Revisions) -> None:
    """Edit and Reassign. A button opens its modal at once (Slack's trigger lives about 3
    seconds); a submission is checked before it is acknowledged, so a problem shows in the
    modal, and what follows is said in Slack after the acknowledgement."""

    @app.action(REVISION_BUTTONS)
    def on_revision_button(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        revisions.open(click_from_button(body))

    @app.view(modals.EDIT_MODAL_ID)
    def on_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        click = click_from_modal(body, view, modals.EDIT_ACTION_ID)
        _answer(ack, revisions.submit_edit(click, typed_fields(view)))

    @app.view(modals.REASSIGN_MODAL_ID)
    def on_reassign(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        click = click_from_modal(body, view, modals.REASSIGN_ACTION_ID)
        _answer(ack, revisions.submit_reassign(click, chosen_user(view)))


def _answer(ack: Ack, submitted: Submitted) -> None:
    if submitted.errors:
        ack(response_action="errors", errors=submitted.errors)
        return
    ack()
    if submitted.then is not None:
        submitted.then()
