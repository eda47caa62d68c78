"""Requests as Slack sends them: Events API envelopes, block_actions payloads, and the
signature over each (v0 HMAC-SHA256 of "v0:{timestamp}:{body}")."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
import uuid
from typing import Any

from sandbox.fake_slack import BOT_USER_ID, TEAM_ID

HR_CHANNEL = "C0HR"

_ts = itertools.count(1)


def new_ts() -> str:
    return f"{1710000000 + next(_ts)}.{next(_ts):06d}"


def signed_headers(body: bytes, *, secret: str, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    base = b"v0:" + str(timestamp).encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def event_body(
    event: dict[str, Any], event_id: str | None = None, *, shared: bool = False
) -> dict[str, Any]:
    """The Events API envelope; `shared` marks a channel shared with another organisation."""
    return {
        "token": "unused-verification-token",
        "team_id": TEAM_ID,
        "is_ext_shared_channel": shared,
        "api_app_id": "A0HRBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:16].upper()}",  # unique across processes
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention_event(
    user: str,
    text: str,
    *,
    channel: str = HR_CHANNEL,
    thread_ts: str | None = None,
    team: str = TEAM_ID,
):
    ts = new_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "team": team,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm_event(user: str, text: str, *, thread_ts: str | None = None) -> dict[str, Any]:
    ts = new_ts()
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D" + user[1:],
        "user": user,
        "team": TEAM_ID,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def click_payload(
    user: str,
    action_id: str,
    value: str | None,
    *,
    channel: str,
    message_ts: str,
    team: str = TEAM_ID,
    trigger_id: str = "1234.5678.abcdef",
    block_id: str = "approval",
):
    """A button's block_actions payload (a link button has no value)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "team": {"id": team, "domain": "hr-example"},
        "api_app_id": "A0HRBOT",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "channel": {"id": channel, "name": "approvals"},
        "message": {"ts": message_ts, "text": "card"},
        "trigger_id": trigger_id,
        "response_url": "https://hooks.slack.invalid/actions/T0TEAM/1/abc",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": str(time.time()),
            }
        ],
    }
    if value is None:
        del payload["actions"][0]["value"]
    return payload


def view_submission_payload(
    user: str,
    view: dict[str, Any],
    values: dict[str, dict[str, str | dict[str, Any] | None]],
    *,
    trigger_id: str,
) -> dict[str, Any]:
    """A modal's submission: `values` maps block_id → action_id → the text typed, or the
    element's whole state for other inputs ({"type": "users_select", "selected_user": …})."""
    state: dict[str, dict[str, Any]] = {}
    for block, fields in values.items():
        for action, value in fields.items():
            typed = {"type": "plain_text_input", "value": value}
            state.setdefault(block, {})[action] = value if isinstance(value, dict) else typed
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "hr-example"},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0HRBOT",
        "trigger_id": trigger_id,
        "view": {**view, "state": {"values": state}},
    }


def home_opened_event(user: str) -> dict[str, Any]:
    """app_home_opened for the Home tab, as Slack sends it when `user` opens the tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": "home",
        "event_ts": new_ts(),
    }


def home_click_payload(
    user: str,
    home: dict[str, Any],
    button: dict[str, Any],
    block_id: str,
    ticked: dict[tuple[str, str], list[dict[str, Any]]] | None = None,
    *,
    trigger_id: str = "1234.5678.home",
    view_id: str | None = None,
) -> dict[str, Any]:
    """A click on `button` in the Home tab `home` as published: no channel, the view (with
    the state of its checkboxes: (block_id, action_id) → the options ticked) instead. With
    `view_id`, a click in that open modal (`home` is then the modal as the bot last set it)."""
    view_id = view_id or f"VHOME{user}"
    state: dict[str, dict[str, Any]] = {}
    for (block, action), options in (ticked or {}).items():
        state.setdefault(block, {})[action] = {"type": "checkboxes", "selected_options": options}
    action = {
        "type": "button",
        "action_id": button["action_id"],
        "block_id": block_id,
        "action_ts": str(time.time()),
    }
    if "value" in button:
        action["value"] = button["value"]
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": "hr-example"},
        "api_app_id": "A0HRBOT",
        "container": {"type": "view", "view_id": view_id},
        "view": {**home, "id": view_id, "state": {"values": state}},
        "trigger_id": trigger_id,
        "actions": [action],
    }


def home_tick_payload(
    user: str,
    home: dict[str, Any],
    checkboxes: dict[str, Any],
    block_id: str,
    ticked: dict[tuple[str, str], list[dict[str, Any]]],
    *,
    trigger_id: str = "1234.5678.home",
) -> dict[str, Any]:
    """A checkbox ticked or unticked on the Home tab: the checkboxes' action with the options
    now ticked (`ticked` holds every checkbox group's state, as in home_click_payload)."""
    payload = home_click_payload(user, home, checkboxes, block_id, ticked, trigger_id=trigger_id)
    payload["actions"] = [
        {
            "type": "checkboxes",
            "action_id": checkboxes["action_id"],
            "block_id": block_id,
            "selected_options": ticked.get((block_id, checkboxes["action_id"]), []),
            "action_ts": str(time.time()),
        }
    ]
    return payload
