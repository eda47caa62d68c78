from __future__ import annotations

import pytest

from infra.roster import Roster, RosterLookupFailed
from tests.fakes import Clock


class Groups:
    """usergroups.users.list as Slack answers it, with members that can change."""

    def __init__(self) -> None:
        self.members = {"S0LEADS": ["U0GINA"]}
        self.calls = 0

    def usergroups_users_list(self, usergroup: str) -> dict:
        self.calls += 1
        if usergroup not in self.members:
            raise RuntimeError("no_such_subteam")
        return {"users": list(self.members[usergroup])}


def test_someone_removed_from_the_group_loses_the_right_once_the_cache_expires():
    slack, clock = Groups(), Clock(start=1000.0)
    roster = Roster(["U0BOB"], group="S0LEADS", client=slack, cache_seconds=60, now=clock)
    assert roster.includes("U0GINA")
    slack.members["S0LEADS"] = []
    clock.advance(59)
    assert roster.includes("U0GINA")  # still cached
    clock.advance(2)
    assert not roster.includes("U0GINA")
    assert roster.includes("U0BOB") and slack.calls == 2


def test_an_unreadable_group_fails_closed_but_listed_people_stay():
    roster = Roster(["U0BOB"], group="S0GONE", client=Groups())
    assert roster.includes("U0BOB")
    with pytest.raises(RosterLookupFailed):
        roster.includes("U0GINA")
