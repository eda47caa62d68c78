"""The "is thinking…" status Slack shows in a direct message while the bot works on it
(assistant.threads.setStatus). Where Slack refuses the method the caller shows the reaction
instead, and once refused this process does not ask again."""

from __future__ import annotations

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from approvals import Thread

log = structlog.get_logger(__name__)

STATUS = "is thinking…"
LOADING_MESSAGES = (
    "Reading your question…",
    "Looking it up in the HR system…",
    "Writing the answer…",
)
# Errors that say the app cannot use a method at all (a scope it was not granted, a token or
# workspace the method is not for), not that one call went wrong: asking again cannot help.
REFUSALS = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "access_denied",
        "unknown_method",
        "method_deprecated",
        "deprecated_endpoint",
        "enterprise_is_restricted",
    }
)


def refusal(e: SlackApiError) -> str | None:
    """The error code when Slack refused the method itself, else None."""
    error = e.response.get("error")
    return error if error in REFUSALS else None


class ThinkingStatus:
    """`refused` turns true at the first refusal and stays so for the life of the process (a
    scope granted later takes a restart); any other failure is this call's alone."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self.refused = False

    def show(self, thread: Thread) -> bool:
        """Ask Slack to show the status in `thread`. False when it is not showing: the caller
        shows the reaction instead."""
        if self.refused:
            return False
        try:
            self.client.assistant_threads_setStatus(
                channel_id=thread.channel,
                thread_ts=thread.ts,
                status=STATUS,
                loading_messages=list(LOADING_MESSAGES),
            )
        except SlackApiError as e:
            if code := refusal(e):
                self.refused = True
                log.warning("slack.status_refused", error=code, needed=e.response.get("needed"))
            else:
                log.warning("slack.status_failed", error=e.response.get("error"))
            return False
        return True

    def clear(self, thread: Thread) -> None:
        """Slack clears the status when the bot posts in the thread, or after two minutes;
        clearing it here too covers an answer that could not be posted."""
        try:
            self.client.assistant_threads_setStatus(
                channel_id=thread.channel, thread_ts=thread.ts, status=""
            )
        except SlackApiError as e:
            log.warning("slack.status_clear_failed", error=e.response.get("error"))
