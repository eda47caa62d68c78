"""`python -m approvals stats`: figures from a known history."""

from __future__ import annotations

import json

import pytest

from approvals import ActionStore, stats
from approvals.__main__ import main
from tests.fakes import Clock
from tests.test_store import new_action

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True
DAY = 1_800_000_000.0 - 1_800_000_000.0 % 86400  # a midnight, UTC


@pytest.fixture
def history(database) -> ActionStore:
    """Five requests, one an hour from midnight: approved after 1 min (Bob), after 10 min (two
    votes: Carol, then Bob), rejected after 30 min (Carol), withdrawn, and one left to expire."""
    clock = Clock(start=DAY)
    store = ActionStore(database, now=clock)

    def ask(**overrides):
        action = new_action(store, ttl_seconds=7200, **overrides)
        return action

    first = ask()
    clock.advance(60)
    store.approve(first.id, "U0BOB")
    clock.advance(3600 - 60)
    second = ask(approvals_required=2)
    clock.advance(300)
    store.approve(second.id, "U0CAROL")
    clock.advance(300)
    store.approve(second.id, "U0BOB")
    clock.advance(3600 - 600)
    third = ask()
    clock.advance(1800)
    store.reject(third.id, "U0CAROL", "no")
    clock.advance(1800)
    fourth = ask()
    store.withdraw(fourth.id, "U0ALICE")
    clock.advance(3600)
    fifth = ask()
    clock.advance(7200)
    store.expire(fifth.id)
    return store


def test_outcomes_decision_times_expiries_and_each_approvers_load(history):
    figures = stats.compute(history.database)
    assert figures.requested == 5
    assert figures.outcomes == {"approved": 2, "rejected": 1, "withdrawn": 1, "expired": 1}
    assert sorted(figures.decision_seconds) == [60, 600, 1800]
    assert (figures.median_decision_seconds, figures.p90_decision_seconds) == (600, 1800)
    assert figures.expired == 1
    bob, carol = figures.approvers["U0BOB"], figures.approvers["U0CAROL"]
    assert (bob.approvals, bob.rejections, bob.median_seconds) == (2, 0, 60)
    assert (carol.approvals, carol.rejections, sorted(carol.seconds_to_act)) == (1, 1, [300, 1800])


def test_a_date_range_counts_the_requests_made_in_it(history):
    assert stats.compute(history.database, until=DAY).requested == 0
    assert stats.compute(history.database, since=DAY + 3 * 3600).requested == 2


def test_the_command_prints_the_summary_and_json(history, database_location, capsys):
    assert main(["stats", "--db", database_location]) == 0
    out = capsys.readouterr().out
    assert "requests: 5" in out
    assert "time to decision median 10.0 min, p90 30.0 min" in out
    assert "expired without a decision: 1" in out
    assert main(["stats", "--db", database_location, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["approvers"]["U0CAROL"] == {
        "approvals": 1,
        "rejections": 1,
        "median_seconds_to_act": 300,
    }


def test_nothing_yet_is_said_plainly(database, database_location, capsys):
    assert main(["stats", "--db", database_location]) == 0
    out = capsys.readouterr().out
    assert "requests: 0" in out and "median -, p90 -" in out


def test_the_command_counts_only_the_days_asked_for(database, database_location, capsys):
    # One request at noon on each of 14, 15 and 16 January 2027: approved after 1 min, rejected
    # after 2 h, approved after 10 min.
    clock = Clock(start=DAY - 86400 + 43200)
    store = ActionStore(database, now=clock)
    for wait, decide in ((60, store.approve), (7200, store.reject), (600, store.approve)):
        action = new_action(store, ttl_seconds=86400)
        clock.advance(wait)
        decide(action.id, "U0BOB")
        clock.advance(86400 - wait)

    def figures(*days: str) -> dict:
        assert main(["stats", "--db", database_location, "--format", "json", *days]) == 0
        return json.loads(capsys.readouterr().out)

    day = figures("--since", "2027-01-15", "--until", "2027-01-16")
    assert (day["requested"], day["outcomes"], day["median_decision_seconds"]) == (
        1,
        {"rejected": 1},
        7200,
    )
    assert figures("--since", "2027-01-15")["outcomes"] == {"approved": 1, "rejected": 1}
    before = figures("--until", "2027-01-15")
    assert (before["requested"], before["median_decision_seconds"]) == (1, 60)
    assert figures()["requested"] == 3


def test_a_day_that_is_not_a_date_is_refused_plainly(database_location, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["stats", "--db", database_location, "--since", "2027-02-30"])
    assert refused.value.code == 2
    assert "'2027-02-30' is not a date like 2026-11-24" in capsys.readouterr().err
