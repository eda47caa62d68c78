"""One conversation's messages answered once each, one at a time and in order, whichever replica
they landed on; the housekeeping round's shared jobs run in one replica per round."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

import pytest

from approvals import MIGRATIONS
from bot.conversation.inbox import Inbox
from bot.conversation.turns import Turns, turn_name
from bot.housekeeping import Housekeeper
from bot.parts import BOT_MIGRATIONS
from bot.slack.events import Incoming
from infra.db import open_database
from infra.named_leases import NamedLeases
from tests.fakes import Clock, at_once
from tests.test_inbox import message

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True
LEASE = 30.0


@pytest.fixture
def clock() -> Clock:
    return Clock(start=1_800_000_000.0)


@dataclass
class Replica:
    inbox: Inbox
    leases: NamedLeases
    turns: Turns
    answered: list[str] = field(default_factory=list)


def replica(database, clock, owner: str, answered: list[str], on_answer=None) -> Replica:
    inbox = Inbox(database, now=clock, owner=owner, claim_seconds=LEASE)
    leases = NamedLeases(database, owner=owner, seconds=LEASE, now=clock)

    def answer(incoming: Incoming) -> None:
        if on_answer is not None:
            on_answer(incoming)
        answered.append(incoming.event_id)
        inbox.answered(incoming.event_id)

    return Replica(inbox, leases, Turns(inbox, leases, answer), answered)


def nth(n: int, **overrides) -> Incoming:
    return message(f"Ev{n:03d}", f"message {n}", message_ts=f"1710000000.{n:06d}", **overrides)


def test_a_message_stored_while_another_replica_answers_is_answered_by_it_in_order(database, clock):
    answered: list[str] = []
    b = replica(database, clock, "b", answered)

    def while_a_answers(incoming: Incoming) -> None:
        if incoming.event_id == "Ev001":  # meanwhile Slack gives the next message to b
            assert b.inbox.accept(nth(2))
            b.turns.take(nth(2))  # a holds the turn: b leaves it to a

    a = replica(database, clock, "a", answered, on_answer=while_a_answers)
    assert a.inbox.accept(nth(1))
    a.turns.take(nth(1))
    assert answered == ["Ev001", "Ev002"]
    assert not a.leases.held(turn_name(nth(1)))  # let go once nothing was left


def test_messages_spread_over_two_replicas_are_answered_once_each_in_order(
    database_location, database
):
    # Twenty messages of one conversation, each stored by one of two replicas (own connections,
    # as separate processes have) and queued there at once; a few in another conversation.
    answered: list[str] = []
    busy: set[str] = set()
    overlap: list[str] = []
    guard = threading.Lock()

    def one_at_a_time(incoming: Incoming) -> None:
        with guard:
            if incoming.thread_ts in busy:
                overlap.append(incoming.event_id)
            busy.add(incoming.thread_ts)
        threading.Event().wait(random.uniform(0, 0.01))  # an answer takes a moment
        with guard:
            busy.discard(incoming.thread_ts)

    replicas = []
    for owner in ("a", "b"):
        own = open_database(database_location, [*MIGRATIONS, *BOT_MIGRATIONS])
        replicas.append((own, replica(own, Clock(), owner, answered, one_at_a_time)))
    messages = [nth(n) for n in range(1, 21)] + [nth(n, thread_ts="2.2") for n in range(21, 25)]

    def arrive(n: int, barrier: threading.Barrier) -> None:
        _, side, incoming = *replicas[n % 2], messages[n]
        barrier.wait()
        threading.Event().wait(n * 0.002)  # Slack sends them in order, close together
        side.inbox.accept(incoming)
        side.turns.take(incoming)

    at_once(len(messages), arrive)
    for own, _ in replicas:
        own.close()
    assert sorted(answered) == sorted(m.event_id for m in messages)  # each once
    first = [e for e in answered if int(e[2:]) <= 20]
    assert first == sorted(first)  # in the order they were sent
    assert overlap == []


def test_a_conversation_whose_holder_died_is_answered_once_its_turn_lapses(database, clock):
    answered: list[str] = []
    dead = NamedLeases(database, owner="dead", seconds=LEASE, now=clock)
    assert dead.take(turn_name(nth(1)))  # took the turn, then its process was killed
    b = replica(database, clock, "b", answered)
    assert b.inbox.accept(nth(1))
    b.turns.take(nth(1))
    assert answered == [] and b.turns.stalled() == []  # the turn may still be alive
    clock.advance(LEASE)
    stalled = b.turns.stalled()
    assert [m.event_id for m in stalled] == ["Ev001"]
    for waiting in stalled:
        b.turns.take(waiting)
    assert answered == ["Ev001"] and b.turns.stalled() == []


class CountingSweeper:
    def __init__(self) -> None:
        self.rounds = 0

    def sweep(self) -> None:
        self.rounds += 1


class Nothing:
    def purge(self, *args) -> int:
        return 0

    forget_personal_data = purge


def housekeeper(database, clock, owner: str) -> tuple[Housekeeper, CountingSweeper]:
    sweeper = CountingSweeper()
    inbox = Inbox(database, now=clock, owner=owner)
    keeper = Housekeeper(
        sweeper,
        Nothing(),
        Nothing(),
        inbox,
        [],
        queue_answer=lambda m: True,
        retention_days=30,
        interval_seconds=30,
        leases=NamedLeases(database, owner=owner, seconds=LEASE, now=clock),
    )
    keeper.inbox.purge = lambda days: 0
    return keeper, sweeper


def test_the_shared_jobs_run_in_one_replica_per_round(database, clock):
    (a, a_jobs), (b, b_jobs) = housekeeper(database, clock, "a"), housekeeper(database, clock, "b")
    assert a.sweep() and not b.sweep()
    clock.advance(10)
    assert not b.sweep()
    clock.advance(20)  # a's next round, on time
    assert a.sweep() and not b.sweep()
    assert (a_jobs.rounds, b_jobs.rounds) == (2, 0)
    clock.advance(31)  # a died: the next round is b's
    assert b.sweep() and not a.sweep()
    assert (a_jobs.rounds, b_jobs.rounds) == (2, 1)


def test_a_stalled_message_is_queued_again_once_until_it_is_taken(database, clock):
    answered: list[str] = []
    b = replica(database, clock, "b", answered)
    assert b.inbox.accept(nth(1))  # waiting in b's own queue behind a long backlog, say
    clock.advance(LEASE)
    assert [m.event_id for m in b.turns.stalled()] == ["Ev001"]
    assert b.turns.stalled() == []  # not again, round after round
    b.turns.take(nth(1))
    assert answered == ["Ev001"] and b.turns.stalled() == []


def test_a_holder_that_lost_its_turn_stops_answering(database, clock):
    answered: list[str] = []
    other = NamedLeases(database, owner="other", seconds=LEASE, now=clock)

    def lose_the_turn(incoming: Incoming) -> None:
        # The holder stalled past its lease (renewals failing); another replica took over.
        clock.advance(LEASE)
        assert other.take(turn_name(incoming))

    a = replica(database, clock, "a", answered, on_answer=lose_the_turn)
    for n in (1, 2):
        assert a.inbox.accept(nth(n))
    a.turns.take(nth(1))
    assert answered == ["Ev001"]  # Ev002 is left to the new holder
    assert other.held(turn_name(nth(1)))
