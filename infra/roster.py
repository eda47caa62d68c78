"""A list of people: listed user IDs plus the members of a Slack user group, cached briefly.
Approvers are one roster, requesters another."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from slack_sdk import WebClient


class RosterLookupFailed(Exception):
    """The user group could not be read; callers must refuse, never assume."""


class Roster:
    def __init__(
        self,
        users: Iterable[str],
        *,
        group: str | None = None,
        client: WebClient | None = None,
        cache_seconds: float = 60.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if group and client is None:
            raise ValueError("a Slack client is needed to read the user group")
        self.users = frozenset(users)
        self.group = group
        self.client = client
        self.cache_seconds = cache_seconds
        self.now = now
        self._lock = threading.Lock()
        self._group_members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None

    def _members_of_group(self) -> frozenset[str]:
        with self._lock:
            fresh = (
                self._fetched_at is not None and self.now() - self._fetched_at < self.cache_seconds
            )
            if fresh:
                return self._group_members
            try:
                answer = self.client.usergroups_users_list(usergroup=self.group)
                members = frozenset(answer["users"])
            except Exception as e:  # any failure: no one is on the roster through the group
                raise RosterLookupFailed(f"could not read user group {self.group}") from e
            self._group_members, self._fetched_at = members, self.now()
            return members

    def members(self) -> frozenset[str]:
        """Everyone on the roster now. Raises RosterLookupFailed if the group is unreadable."""
        if not self.group:
            return self.users
        return self.users | self._members_of_group()

    def includes(self, user: str) -> bool:
        """Raises RosterLookupFailed if the group is unreadable and `user` is not listed."""
        return user in self.users or (bool(self.group) and user in self._members_of_group())
