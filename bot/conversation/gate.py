"""Who may ask, and where: every check runs on every message before anything reaches the model
or the HR API, and fails closed. A refusal says why in a code (for logs and the audit) and in a
short text for the person alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.slack.events import Incoming
from infra.people import (
    DEACTIVATED,
    EXTERNAL,
    GUEST,
    NOT_HUMAN,
    OTHER_WORKSPACE,
    Directory,
    LookupFailed,
    membership_problem,
)
from infra.roster import Roster, RosterLookupFailed

SHARED_CHANNEL = "shared_channel"
CHANNEL_NOT_ALLOWED = "channel_not_allowed"
NOT_LISTED = "not_a_requester"
EMAIL_DOMAIN = "email_domain"
LOOKUP_FAILED = "lookup_failed"

_WHY = {
    OTHER_WORKSPACE: "it is only for members of this workspace",
    EXTERNAL: "it is only for members of this workspace",
    NOT_HUMAN: "it only answers people",
    DEACTIVATED: "it only answers active accounts",
    GUEST: "it is not available to guests",
    NOT_LISTED: "it is only for the HR representatives on its list",
    EMAIL_DOMAIN: "your account's email address is not one it accepts",
}


@dataclass(frozen=True)
class Refusal:
    code: str
    text: str


CHECK_FAILED = Refusal(
    "check_failed",
    "Sorry, something went wrong while checking your account, so I did not answer. "
    "Please try again in a minute.",
)


class Gate:
    def __init__(
        self,
        *,
        team_id: str,
        enterprise_id: str | None,
        people: Directory,
        requesters: Roster,
        email_domains: Iterable[str] = (),
        allowed_channels: Iterable[str] = (),
        allow_shared_channels: bool = False,
        direct_message_link: str,
    ) -> None:
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.people = people
        self.requesters = requesters
        self.email_domains = tuple(d.lower() for d in email_domains)
        self.allowed_channels = frozenset(allowed_channels)
        self.allow_shared_channels = allow_shared_channels
        self.direct_message_link = direct_message_link

    def check(self, message: Incoming) -> Refusal | None:
        """None when `message` may be answered where it was asked; else the refusal."""
        # Every team the event names must be ours, and it must name one: an event without
        # any is not taken on trust.
        if not message.teams or any(team != self.team_id for team in message.teams):
            return self._refuse(OTHER_WORKSPACE)
        if message.shared and not self.allow_shared_channels:
            return Refusal(
                SHARED_CHANNEL,
                "I don't answer in channels shared with other organisations. "
                f"{self._ask_directly()}",
            )
        try:
            person = self.people.get(message.user)
            problem = membership_problem(person, self.team_id, self.enterprise_id)
            listed = problem is None and self.requesters.includes(message.user)
        except (LookupFailed, RosterLookupFailed):
            return Refusal(
                LOOKUP_FAILED,
                "Sorry, I could not check your account just now, so I did not answer. "
                "Please try again in a minute.",
            )
        if problem is not None:
            return self._refuse(problem)
        if not listed:
            return self._refuse(NOT_LISTED)
        if self.email_domains and not _in_domains(person.email, self.email_domains):
            return self._refuse(EMAIL_DOMAIN)
        if not message.is_direct and message.channel not in self.allowed_channels:
            return Refusal(
                CHANNEL_NOT_ALLOWED,
                "I don't answer HR questions in this channel, where others could read the "
                f"answer. {self._ask_directly()}",
            )
        return None

    def _refuse(self, code: str) -> Refusal:
        return Refusal(
            code,
            f"Sorry, you can't use the HR assistant: {_WHY[code]}. Nothing was sent to it. "
            "If you think this is wrong, ask your HR team.",
        )

    def _ask_directly(self) -> str:
        return f"Ask me in a <{self.direct_message_link}|direct message> instead."


def _in_domains(email: str | None, domains: tuple[str, ...]) -> bool:
    """The address's domain is one of `domains` or a subdomain of one ("hr.example" accepts
    "hr.example" and "eu.hr.example", not "evilhr.example")."""
    if not email or email.count("@") != 1:
        return False
    domain = email.rsplit("@", 1)[1].lower()
    return any(domain == d or domain.endswith("." + d) for d in domains)
