"""Text crossing between Slack and the model, made safe in both directions."""

from __future__ import annotations

import re

from approvals.slack.cards import escape

MAX_REPLY_CHARS = 3900  # Slack truncates long messages; keep answers readable


def from_slack(text: str, bot_user_id: str | None) -> str:
    """What the user wrote, without the bot's own mention and with Slack's escapes undone."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def to_slack(text: str) -> str:
    """Model text as Slack mrkdwn that cannot notify anyone or link anywhere hidden: with &, <
    and > escaped, <!channel>, <!here>, <!everyone>, <@U…> and <url|label> cannot form."""
    text = escape(text)
    if len(text) > MAX_REPLY_CHARS:
        text = text[:MAX_REPLY_CHARS] + " … (answer cut short)"
    return text
