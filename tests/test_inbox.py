from __future__ import annotations

import threading

import pytest

import bot.conversation.inbox
from approvals import Thread
from bot.conversation.inbox import Inbox
from bot.slack.events import Incoming
from infra.db import Database, open_database
from tests.fakes import Clock, at_once

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True

DAY = 86400


@pytest.fixture
def clock() -> Clock:
    return Clock(start=1_800_000_000.0)


@pytest.fixture
def inbox_db(database) -> Database:
    return database


@pytest.fixture
def inbox(inbox_db, clock) -> Inbox:
    return Inbox(inbox_db, now=clock)


def message(event_id: str, text: str = "hello", **overrides) -> Incoming:
    values = dict(
        event_id=event_id,
        user="U0DANA",
        channel="C0HR",
        thread_ts="1.1",
        message_ts="1.2",
        text=text,
    )
    values.update(overrides)
    return Incoming(**values)


def stored_ids(database: Database) -> list[str]:
    return [row["event_id"] for row in database.query("SELECT event_id FROM inbox ORDER BY rowid")]


def test_a_repeated_event_id_is_accepted_only_once(inbox):
    assert inbox.accept(message("Ev1", "first")) is True
    assert inbox.accept(message("Ev1", "the same event, retried by Slack")) is False
    assert inbox.unanswered() == [message("Ev1", "first")]


def test_a_repeated_event_id_is_refused_even_after_it_was_answered(inbox):
    inbox.accept(message("Ev1"))
    inbox.answered("Ev1")
    assert inbox.accept(message("Ev1")) is False
    assert inbox.unanswered() == []


def test_unanswered_lists_messages_in_arrival_order(inbox, clock):
    for event_id in ("Ev3", "Ev1", "Ev2"):
        inbox.accept(message(event_id, f"text of {event_id}"))
        clock.advance(1)

    assert [m.event_id for m in inbox.unanswered()] == ["Ev3", "Ev1", "Ev2"]
    assert inbox.unanswered()[0] == message("Ev3", "text of Ev3")


def test_messages_arriving_in_the_same_instant_keep_their_order(inbox):
    for event_id in ("EvB", "EvA", "EvC"):
        inbox.accept(message(event_id))

    assert [m.event_id for m in inbox.unanswered()] == ["EvB", "EvA", "EvC"]


def test_answered_messages_drop_out_of_unanswered(inbox, clock):
    for event_id in ("Ev1", "Ev2", "Ev3"):
        inbox.accept(message(event_id))
        clock.advance(1)

    inbox.answered("Ev2")

    assert [m.event_id for m in inbox.unanswered()] == ["Ev1", "Ev3"]


def test_purge_drops_only_answered_messages_older_than_the_retention(inbox, inbox_db, clock):
    inbox.accept(message("EvOldAnswered"))
    inbox.answered("EvOldAnswered")
    inbox.accept(message("EvOldUnanswered"))
    clock.advance(31 * DAY)
    inbox.accept(message("EvNewAnswered"))
    inbox.answered("EvNewAnswered")

    assert inbox.purge(30) == 1

    assert stored_ids(inbox_db) == ["EvOldUnanswered", "EvNewAnswered"]
    assert [m.event_id for m in inbox.unanswered()] == ["EvOldUnanswered"]
    assert inbox.accept(message("EvOldAnswered")) is True  # forgotten, so new again
    assert inbox.accept(message("EvNewAnswered")) is False  # still known


def test_purge_keeps_messages_younger_than_the_retention(inbox, inbox_db, clock):
    inbox.accept(message("Ev1"))
    inbox.answered("Ev1")
    clock.advance(29 * DAY)

    assert inbox.purge(30) == 0
    assert stored_ids(inbox_db) == ["Ev1"]


def test_purge_keeps_the_last_day_of_event_ids_even_with_no_retention(inbox, inbox_db, clock):
    inbox.accept(message("EvToday"))
    inbox.answered("EvToday")
    clock.advance(DAY - 60)
    inbox.accept(message("EvLater"))
    inbox.answered("EvLater")
    clock.advance(120)

    assert inbox.purge(0) == 1
    assert stored_ids(inbox_db) == ["EvLater"]


def test_an_incoming_message_names_its_thread_by_channel_and_thread_ts():
    incoming = message("Ev1", channel="C0HR", thread_ts="1700000000.000100", message_ts="1.9")

    assert incoming.thread == Thread("C0HR", "1700000000.000100")
    assert incoming.thread.key == "C0HR:1700000000.000100"


def test_a_message_another_live_process_is_answering_is_left_to_it(inbox_db, clock):
    first = Inbox(inbox_db, now=clock, owner="replica-a")
    second = Inbox(inbox_db, now=clock, owner="replica-b")
    first.accept(message("Ev1"))

    assert second.take_over() == []
    clock.advance(100)
    first.renew_claims()  # replica-a's housekeeping round: still alive
    clock.advance(100)
    assert second.take_over() == []


def test_a_dead_process_message_is_taken_over_once(inbox_db, clock):
    first = Inbox(inbox_db, now=clock, owner="replica-a")
    second = Inbox(inbox_db, now=clock, owner="replica-b")
    third = Inbox(inbox_db, now=clock, owner="replica-c")
    first.accept(message("Ev1"))
    clock.advance(121)  # replica-a stopped renewing

    assert [m.event_id for m in second.take_over()] == ["Ev1"]
    assert third.take_over() == [] and second.take_over() == []
    second.answered("Ev1")
    clock.advance(1000)
    assert third.take_over() == []


def test_an_event_delivered_to_several_replicas_at_once_is_taken_by_one(
    database_location, inbox_db
):
    # Slack's retry of one event landing on another replica while the first stores it.
    taken: list[str] = []

    def deliver(n: int, barrier: threading.Barrier) -> None:
        own = open_database(database_location, [bot.conversation.inbox.tables])
        try:
            replica = Inbox(own, owner=f"replica-{n}")
            barrier.wait()
            if replica.accept(message("Ev1RETRIED")):
                taken.append(replica.owner)
        finally:
            own.close()

    at_once(6, deliver)
    assert len(taken) == 1
    assert stored_ids(inbox_db) == ["Ev1RETRIED"]
