"""The gate's rules one by one, with a Directory double instead of Slack."""

from __future__ import annotations

import pytest

from approvals import Thread
from bot.conversation.gate import Gate
from bot.slack.events import Incoming
from infra.roster import Roster
from tests.fakes import Members

LINK = "https://hr-example.slack.com/app_redirect?channel=U0HRBOT"


def gate(people: Members | None = None, **options) -> Gate:
    values = dict(
        team_id="T0TEAM",
        enterprise_id=None,
        people=people or Members(),
        requesters=Roster(["U0DANA"]),
        allowed_channels=["C0HR"],
        direct_message_link=LINK,
    )
    values.update(options)
    return Gate(**values)


def message(user: str = "U0DANA", channel: str = "C0HR", **fields) -> Incoming:
    values = dict(
        event_id="Ev1",
        user=user,
        channel=channel,
        thread_ts="1.1",
        message_ts="1.1",
        text="hi",
        teams=("T0TEAM",),
    )
    values.update(fields)
    return Incoming(**values)


def test_a_listed_member_in_an_allowed_channel_or_a_dm_may_ask():
    assert gate().check(message()) is None
    assert gate().check(message(channel="D0DANA", channel_type="im")) is None
    assert message().thread == Thread("C0HR", "1.1")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"teams": ("T0TEAM", "T0OTHERORG")}, "other_workspace"),
        ({"shared": True}, "shared_channel"),
        ({"channel": "C0RANDOM"}, "channel_not_allowed"),
        ({"user": "U0EVE"}, "not_a_requester"),
    ],
)
def test_each_rule_on_the_message_refuses(fields, code):
    assert gate().check(message(**fields)).code == code


def test_the_enterprise_must_match_on_enterprise_grid():
    people = Members()
    people.set("U0DANA", enterprise_id="E0OTHER")
    assert gate(people, enterprise_id="E0OURS").check(message()).code == "other_workspace"
    people.set("U0DANA", enterprise_id="E0OURS")
    assert gate(people, enterprise_id="E0OURS").check(message()) is None


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("dana@hr.example", True),
        ("dana@eu.hr.example", True),
        ("DANA@HR.EXAMPLE", True),
        ("dana@evilhr.example", False),
        ("dana@hr.example.evil", False),
        ("dana@hr.example@evil.example", False),
        (None, False),
    ],
)
def test_the_email_domain_is_matched_by_whole_labels(email, allowed):
    people = Members()
    people.set("U0DANA", email=email)
    refusal = gate(people, email_domains=["hr.example"]).check(message())
    assert (refusal is None) == allowed
    if not allowed:
        assert refusal.code == "email_domain"


def test_a_failed_lookup_refuses_and_says_so():
    people = Members()
    people.fails.add("U0DANA")
    refusal = gate(people).check(message())
    assert refusal.code == "lookup_failed" and "try again" in refusal.text


def test_an_event_that_names_no_team_is_not_taken_on_trust():
    assert gate().check(message(teams=())).code == "other_workspace"


def test_only_a_dm_channel_counts_as_a_direct_message():
    assert gate().check(message(channel="C0RANDOM", channel_type="im")).code == (
        "channel_not_allowed"
    )
