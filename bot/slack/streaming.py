"""Long answers streamed into a direct message (chat.startStream, appendStream, stopStream), so
the person reads from the first lines on. A stream takes Markdown, not mrkdwn: `as_markdown`
keeps in that syntax what to_slack guarantees (no mention, no hidden link)."""

from __future__ import annotations

import re

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from approvals import Thread
from bot.slack.status import refusal

log = structlog.get_logger(__name__)

LONG_LINES = 5  # "longer than a few lines"
LONG_CHARS = 600  # or a paragraph that wraps to as many
PIECE_CHARS = 500  # what each call adds, cut at a line end: a few calls for the longest answer

# A code span opens and closes with backtick runs of the same length (CommonMark), so "`[x](u)``"
# is no code span and its brackets are escaped like any others.
_CODE = re.compile(r"((?<!`)(`+)(?!`).+?(?<!`)\2(?!`))", re.S)
_BOLD = re.compile(r"(?<![\w*])\*([^\s*](?:[^*\n]*[^\s*])?)\*(?![\w*])")
_STRIKE = re.compile(r"(?<![\w~])~([^\s~](?:[^~\n]*[^\s~])?)~(?![\w~])")


def is_long(text: str) -> bool:
    return text.count("\n") >= LONG_LINES - 1 or len(text) > LONG_CHARS


def as_markdown(text: str) -> str:
    """to_slack's mrkdwn as Markdown. \\, [ and ] are escaped, so no Markdown link, image or
    link reference can form (to_slack's &lt;, &gt; and &amp; already rule out autolinks, HTML
    and Slack's own <…> syntax); *bold* and ~strike~ are respelled. Code is left as it is."""
    parts = _CODE.split(text)
    del parts[2::3]  # the backtick runs, captured by the second group
    for i in range(0, len(parts), 2):  # the odd ones are code
        part = parts[i].replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        parts[i] = _STRIKE.sub(r"~~\1~~", _BOLD.sub(r"**\1**", part))
    return "".join(parts)


def pieces(text: str) -> list[str]:
    """`text` cut at line ends into pieces of about PIECE_CHARS (one, for a single long line)."""
    found, current = [], ""
    for line in text.splitlines(keepends=True):
        current += line
        if len(current) >= PIECE_CHARS:
            found.append(current)
            current = ""
    return [*found, current] if current or not found else found


class Streamer:
    """`refused` turns true when Slack refuses streaming itself, and stays so for the life of
    the process; any other failure is this answer's alone."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.refused = False

    def stream(self, thread: Thread, team_id: str, user: str, text: str) -> str | None:
        """Stream `text` (mrkdwn) into `thread` for `user` of `team_id`: the streamed
        message's ts. None when the person has not been shown the whole answer, which the
        caller then posts."""
        if self.refused:
            return None
        parts = pieces(as_markdown(text))
        try:
            started = self.client.chat_startStream(
                channel=thread.channel,
                thread_ts=thread.ts,
                recipient_team_id=team_id,
                recipient_user_id=user,
                markdown_text=parts[0],
            )
        except SlackApiError as e:
            if code := refusal(e):
                self.refused = True
                log.warning("slack.stream_refused", error=code, needed=e.response.get("needed"))
            else:
                log.warning("slack.stream_failed", error=e.response.get("error"))
            return None
        sent = 1
        try:
            for part in parts[1:]:
                self.client.chat_appendStream(
                    channel=thread.channel, ts=started["ts"], markdown_text=part
                )
                sent += 1
        except SlackApiError as e:  # what is left goes with the stop
            log.warning("slack.stream_append_failed", error=e.response.get("error"))
        rest = "".join(parts[sent:])
        try:
            self.client.chat_stopStream(
                channel=thread.channel, ts=started["ts"], markdown_text=rest or None
            )
        except SlackApiError as e:
            log.error("slack.stream_stop_failed", error=e.response.get("error"))
            return None if rest else started["ts"]  # all of it was shown; else posted whole
        return started["ts"]
