"""Whose HR authority a request uses. The approvals side asks; the bot decides how (one shared
token, or each person's own linked HR account).

NotConnected: this person has no usable HR authority now; the message says so to people.
"""

from __future__ import annotations

from typing import Protocol


class NotConnected(Exception):
    """This person's HR account is not connected (or no longer works); nothing was sent."""


class Authority(Protocol):
    """`required` is True when every HR request goes out as a person (OAuth mode): then each
    request and each decision needs that person's linked account."""

    required: bool

    def subject(self, slack_user: str) -> str | None:
        """The HR identity linked to this Slack user, or None."""
        ...

    def email(self, slack_user: str) -> str | None:
        """The email of the HR account linked to this Slack user, or None."""
        ...

    def headers(self, slack_user: str) -> dict[str, str]:
        """What to send with an HR request made as this person (a fresh bearer token); raises
        NotConnected when there is none."""
        ...

    def rejected(self, slack_user: str, headers: dict[str, str]) -> None:
        """The HR API refused the credentials in `headers` (401): forget them, if they are
        still this person's."""
        ...


class SharedToken:
    """Today's mode: the HR client carries one shared token; people need not connect."""

    required = False

    def subject(self, slack_user: str) -> str | None:
        return None

    def email(self, slack_user: str) -> str | None:
        return None

    def headers(self, slack_user: str) -> dict[str, str]:
        return {}

    def rejected(self, slack_user: str, headers: dict[str, str]) -> None:
        pass
