"""Reading a users.info answer: anything missing counts against the person."""

from __future__ import annotations

import pytest

from infra.people import LookupFailed, Person, active_members, membership_problem
from sandbox.fake_slack import member
from tests.fakes import Members


def test_a_full_member_is_a_member():
    person = Person.from_slack(member("U0DANA", "Dana"))
    assert membership_problem(person, "T0TEAM") is None
    assert person.email == "dana@hr.example"


@pytest.mark.parametrize(
    ("missing", "problem"),
    [
        ("deleted", "deactivated"),
        ("is_bot", "not_human"),
        ("is_restricted", "guest"),
        ("is_ultra_restricted", "guest"),
        ("team_id", "other_workspace"),
    ],
)
def test_a_field_slack_always_sends_counts_against_the_person_when_missing(missing, problem):
    user = member("U0DANA", "Dana")
    del user[missing]
    assert membership_problem(Person.from_slack(user), "T0TEAM") == problem


def test_an_app_user_is_not_a_human():
    person = Person.from_slack(member("U0APP", "App", is_app_user=True))
    assert membership_problem(person, "T0TEAM") == "not_human"


def test_on_enterprise_grid_a_person_without_our_org_is_refused():
    ours = member("U0DANA", "Dana", enterprise_user={"enterprise_id": "E0OURS"})
    assert membership_problem(Person.from_slack(ours), "T0TEAM", "E0OURS") is None
    assert membership_problem(Person.from_slack(member("U0X", "X")), "T0TEAM", "E0OURS") == (
        "other_workspace"
    )


def test_an_answer_without_a_user_is_a_failed_lookup():
    with pytest.raises(LookupFailed):
        Person.from_slack(None)


def test_cards_go_only_to_approvers_who_are_active_full_members():
    people = Members()
    people.set("U0GUEST", is_guest=True)
    people.fails.add("U0UNKNOWN")
    assert active_members(["U0BOB", "U0GUEST", "U0UNKNOWN"], people, "T0TEAM") == ["U0BOB"]
