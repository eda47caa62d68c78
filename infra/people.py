"""Who a Slack user is, from `users.info` (cached briefly), and whether they count as a member
of this workspace: the checks applied to everyone who asks the bot or clicks its buttons."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

CACHE_SECONDS = 60.0
MAX_CACHED = 10_000


class LookupFailed(Exception):
    """users.info gave no usable answer; callers must refuse, never assume."""


@dataclass(frozen=True)
class Person:
    id: str
    team_id: str | None
    enterprise_id: str | None
    deleted: bool
    is_bot: bool  # bots and app users alike
    is_guest: bool  # multi- or single-channel guest
    is_stranger: bool  # from another organisation (Slack Connect)
    email: str | None

    @classmethod
    def from_slack(cls, user: dict[str, Any]) -> Person:
        """From a users.info `user` object; anything missing counts against the person."""
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise LookupFailed("users.info answered without a user")
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        enterprise = user.get("enterprise_user")
        email = profile.get("email")
        return cls(
            id=user["id"],
            team_id=user.get("team_id") if isinstance(user.get("team_id"), str) else None,
            enterprise_id=(enterprise or {}).get("enterprise_id")
            if isinstance(enterprise, dict)
            else None,
            deleted=user.get("deleted") is not False,
            is_bot=user.get("is_bot") is not False or bool(user.get("is_app_user")),
            # Slack always sends both guest flags; one missing counts as a guest.
            is_guest=user.get("is_restricted") is not False
            or user.get("is_ultra_restricted") is not False,
            is_stranger=bool(user.get("is_stranger")),
            email=email.strip().lower() if isinstance(email, str) and email.strip() else None,
        )


# Why someone does not count as a member, as a short code for logs and the audit.
OTHER_WORKSPACE = "other_workspace"
NOT_HUMAN = "not_human"
DEACTIVATED = "deactivated"
GUEST = "guest"
EXTERNAL = "external"


def membership_problem(
    person: Person, team_id: str, enterprise_id: str | None = None
) -> str | None:
    """None when `person` is an active human member (not a guest, not external) of the bot's
    workspace and, on Enterprise Grid, of its organisation; else why not."""
    if person.is_stranger:
        return EXTERNAL
    if person.team_id != team_id:
        return OTHER_WORKSPACE
    if enterprise_id is not None and person.enterprise_id != enterprise_id:
        return OTHER_WORKSPACE  # on Enterprise Grid, a person without our org is not ours
    if person.is_bot:
        return NOT_HUMAN
    if person.deleted:
        return DEACTIVATED
    if person.is_guest:
        return GUEST
    return None


def member_problem(
    people: Directory, team_id: str, enterprise_id: str | None, user_id: str
) -> str | None:
    """Why `user_id` is not an active full member now (a failed lookup counts as a reason)."""
    try:
        return membership_problem(people.get(user_id), team_id, enterprise_id)
    except LookupFailed:
        return "could not be checked"


class Directory(Protocol):
    """Looks people up; People does it through Slack."""

    def get(self, user_id: str) -> Person: ...

    def by_email(self, email: str) -> str | None: ...


class People:
    """users.info answers, each kept for `cache_seconds`; failures are never cached."""

    def __init__(
        self,
        client: WebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self.now = now
        self._cache: dict[str, tuple[float, Person]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> Person:
        with self._lock:
            cached = self._cache.get(user_id)
            if cached is not None and self.now() - cached[0] < self.cache_seconds:
                return cached[1]
        try:
            answer = self.client.users_info(user=user_id)
        except Exception as e:  # Slack refused (user_not_found…), or could not be reached
            raise LookupFailed(f"could not look up {user_id}") from e
        person = Person.from_slack(answer.get("user"))
        if person.id != user_id:
            raise LookupFailed(f"users.info answered for {person.id}, not {user_id}")
        with self._lock:
            if len(self._cache) >= MAX_CACHED:  # bounded: forget the oldest half
                for key in sorted(self._cache, key=lambda k: self._cache[k][0])[: MAX_CACHED // 2]:
                    del self._cache[key]
            self._cache[user_id] = (self.now(), person)
        return person

    def by_email(self, email: str) -> str | None:
        """The Slack user whose profile has `email` (users.lookupByEmail), or None when nobody
        has it; LookupFailed when Slack could not be asked."""
        try:
            answer = self.client.users_lookupByEmail(email=email)
        except SlackApiError as e:
            if e.response.get("error") == "users_not_found":
                return None
            raise LookupFailed(f"could not look up {email}") from e
        except Exception as e:  # Slack out of reach
            raise LookupFailed(f"could not look up {email}") from e
        user = answer.get("user") or {}
        return str(user["id"]) if user.get("id") else None


def active_members(
    users: Iterable[str], people: Directory, team_id: str, enterprise_id: str | None = None
) -> list[str]:
    """Those of `users` who are active full members (whom a card with personal data may be
    sent); anyone who cannot be looked up is left out."""
    members = []
    for user in users:
        try:
            if membership_problem(people.get(user), team_id, enterprise_id) is None:
                members.append(user)
        except LookupFailed:
            continue
    return members
