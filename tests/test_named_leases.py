from __future__ import annotations

import threading

import pytest

from approvals import MIGRATIONS
from infra.db import open_database
from infra.limits import SharedRateWindow
from infra.named_leases import NamedLeases, renewing
from tests.fakes import Clock, at_once

# Each database test runs on SQLite and on PostgreSQL (tests/conftest.py).
BOTH_ENGINES = True


@pytest.fixture
def clock() -> Clock:
    return Clock(start=1_800_000_000.0)


def replica(database, clock, owner: str) -> NamedLeases:
    return NamedLeases(database, owner=owner, seconds=30, now=clock)


def test_a_name_is_held_by_one_owner_until_released_or_lapsed(database, clock):
    a, b = replica(database, clock, "a"), replica(database, clock, "b")
    assert a.take("turn:x") and not b.take("turn:x")
    assert not a.take("turn:x")  # not even by another thread of its holder
    assert a.take("turn:x", again=True)  # unless it asks for a renewal
    a.release("turn:x")
    assert b.take("turn:x") and not a.take("turn:x")
    clock.advance(29)
    assert not a.take("turn:x") and b.held("turn:x")
    clock.advance(1)  # b stopped renewing: lapsed
    assert not b.held("turn:x") and a.take("turn:x")


def test_only_the_holder_renews_or_releases(database, clock):
    a, b = replica(database, clock, "a"), replica(database, clock, "b")
    assert a.take("round")
    assert not b.renew("round")
    b.release("round")  # not b's to release
    assert a.held("round") and not b.take("round")
    clock.advance(20)
    assert a.renew("round")
    clock.advance(20)
    assert not b.take("round")  # the renewal kept it
    assert a.purge() == 0
    clock.advance(30)
    assert a.purge() == 1 and not a.held("round")


def test_sixteen_processes_racing_for_a_free_name_give_one_holder(database_location, database):
    # Sixteen connections of their own (as sixteen replicas would have), all at once.
    won = []

    def race(n: int, barrier: threading.Barrier) -> None:
        own = open_database(database_location, MIGRATIONS)
        try:
            leases = NamedLeases(own, owner=f"replica-{n}", seconds=60)
            barrier.wait()
            if leases.take("sweep-round"):
                won.append(n)
        finally:
            own.close()

    at_once(16, race)
    assert len(won) == 1
    holder = database.query("SELECT owner FROM leases WHERE name = 'sweep-round'")
    assert holder == [{"owner": f"replica-{won[0]}"}]


def test_a_shared_rate_limit_counts_every_process_against_one_limit(database, clock):
    one = SharedRateWindow(database, "messages", 3, 60, now=clock)
    other = SharedRateWindow(database, "messages", 3, 60, now=clock)
    assert [one.allow("U0DANA"), other.allow("U0DANA"), one.allow("U0DANA")] == [True] * 3
    assert not other.allow("U0DANA") and not one.allow("U0DANA")
    assert other.allow("U0ALICE")  # per person
    assert SharedRateWindow(database, "notices", 1, 60, now=clock).allow("U0DANA")  # per name
    clock.advance(61)
    assert other.allow("U0DANA")
    one.forget_idle()
    rows = database.query("SELECT key FROM rate_events WHERE name = 'messages'")
    assert rows == [{"key": "U0DANA"}]


def test_concurrent_messages_on_two_replicas_never_exceed_the_limit(database_location, database):
    allowed = []

    def message(n: int, barrier: threading.Barrier) -> None:
        own = open_database(database_location, MIGRATIONS)
        try:
            window = SharedRateWindow(own, "messages", 5, 60)
            barrier.wait()
            if window.allow("U0DANA"):
                allowed.append(n)
        finally:
            own.close()

    at_once(12, message)
    assert len(allowed) == 5


def test_a_renewal_that_fails_is_tried_again_soon_and_the_thread_closes_what_it_opened():
    calls, closed = [], []
    renewed = threading.Event()

    def renew() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("the pool had no connection free")  # once
        renewed.set()
        return True

    with renewing(renew, 0.2, "turn:x", on_exit=lambda: closed.append(1)):
        assert renewed.wait(5)  # the renewal thread survived the error and tried again
    assert len(calls) >= 2 and closed == [1]


def test_renewal_threads_leave_no_sqlite_connection_open(tmp_path, clock):
    # (On PostgreSQL connections belong to the pool, not to threads.)
    database = open_database(tmp_path / "one.sqlite3", MIGRATIONS)
    leases = NamedLeases(database, owner="a", seconds=0.3, now=clock)
    before = len(database._all)
    for n in range(20):
        with leases.kept(f"turn:{n}"):
            threading.Event().wait(0.15)  # long enough for one renewal on its own thread
    assert len(database._all) == before
    database.close()
