"""Bolt listeners for messages: mentions in channels and direct messages become an Incoming,
handed to the intake. Bolt acknowledges events before these run; they only parse and hand over."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from slack_bolt import App

from approvals import Thread
from bot.slack.text import from_slack

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Incoming:
    event_id: str
    user: str
    channel: str
    thread_ts: str
    message_ts: str
    text: str
    channel_type: str | None = None  # "im" for a direct message
    teams: tuple[str, ...] = ()  # team, user_team, source_team and the envelope's team_id
    shared: bool = False  # the envelope's is_ext_shared_channel

    @property
    def thread(self) -> Thread:
        return Thread(self.channel, self.thread_ts)

    @property
    def reply_thread_ts(self) -> str | None:
        """Where a reply only this person sees goes: their thread, or beside a top-level
        message (None)."""
        return self.thread_ts if self.thread_ts != self.message_ts else None

    @property
    def is_direct(self) -> bool:
        """A direct message with the bot: Slack says so and the channel is a DM's (D…)."""
        return self.channel_type == "im" and self.channel.startswith("D")


def parse_message(body: dict[str, Any], event: dict[str, Any], bot_user_id: str) -> Incoming | None:
    """The message a person wrote, or None for what the bot ignores: other bots, edits and other
    subtypes, and its own messages."""
    user = event.get("user")
    if event.get("bot_id") or event.get("subtype") or not user or user == bot_user_id:
        return None
    channel, ts = event.get("channel"), event.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str):
        return None
    teams = [event.get(k) for k in ("team", "user_team", "source_team")] + [body.get("team_id")]
    return Incoming(
        event_id=body.get("event_id") or f"{channel}:{ts}",
        user=user,
        channel=channel,
        thread_ts=event.get("thread_ts") or ts,
        message_ts=ts,
        text=from_slack(event.get("text") or "", bot_user_id),
        channel_type=event.get("channel_type") if event.get("channel_type") == "im" else None,
        teams=tuple(sorted({t for t in teams if isinstance(t, str) and t})),
        # Anything but an explicit false (a missing flag too) counts as shared: fail closed.
        shared=body.get("is_ext_shared_channel") is not False,
    )


def register(
    app: App,
    take: Callable[[Incoming], bool],
    *,
    bot_user_id: str,
) -> None:
    """`take` must not block: it queues the message for the intake (False: that person's queue
    is full, and the message is dropped)."""

    def hand_over(body: dict[str, Any], event: dict[str, Any]) -> None:
        message = parse_message(body, event, bot_user_id)
        if message is not None and not take(message):
            log.warning("intake.dropped", user=message.user, event_id=message.event_id)

    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        hand_over(body, event)

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("channel_type") == "im":  # channel chatter is not for the bot
            hand_over(body, event)
